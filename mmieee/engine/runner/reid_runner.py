# Copyright (c) mmieee contributors.
"""mmengine's Runner with a readable console.

mmengine logs, for every tool run, the system and runtime environment, the
whole resolved config and the hook table (about 330 lines for the demo
model) before anything else. Users of the command-line tools then have to
scroll past them to find a typo's error or the metrics, and the demo prints
them twice (training, then testing). :class:`ReIDRunner` writes the same
three blocks to the run's log file only and prints one line saying where
they are. Everything else (losses, ETA, metrics, warnings) is unchanged.
The resolved config is also dumped to the work dir, as mmengine does.

Deterministic runs (``randomness.deterministic=True``): mmengine then calls
``torch.use_deterministic_algorithms(True)``, under which cuBLAS refuses to
run unless ``CUBLAS_WORKSPACE_CONFIG`` is set; :meth:`set_randomness` sets it
(``:4096:8``, PyTorch's documented value) when the user has not, before any
CUDA work. ViT attention then uses the math kernel
(:func:`~mmieee.models.backbones.reid_vit.deterministic_attention`).
"""
import logging
import os
import os.path as osp

from mmengine.runner import Runner

from mmieee.registry import RUNNERS


class _FileOnly(logging.Filter):
    """Drops INFO (and lower) records from the handler it is added to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO


@RUNNERS.register_module()
class ReIDRunner(Runner):
    """Runner whose start-up report goes to the log file, not the console.

    Arguments: those of :class:`mmengine.runner.Runner`.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._console_filter = _FileOnly()
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._console_handlers(remove=True)
        log_file = getattr(self, '_log_file', None) or next(
            (h.baseFilename for h in self.logger.handlers
             if isinstance(h, logging.FileHandler)), None)
        where = osp.abspath(log_file) if log_file else 'the log file'
        self.logger.info(f'Environment, config and hook order: see {where}; '
                         'resolved config: '
                         f'{osp.join(osp.abspath(self.work_dir), "")}'
                         f'{osp.basename(self.cfg.filename or "config.py")}')

    def set_randomness(self, seed, diff_rank_seed: bool = False,
                       deterministic: bool = False) -> None:
        """mmengine's seeding; with ``deterministic`` also the cuBLAS
        workspace setting deterministic algorithms need (module
        docstring)."""
        if deterministic:
            os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
        super().set_randomness(seed, diff_rank_seed, deterministic)

    def _console_handlers(self, remove: bool = False) -> None:
        logger = getattr(self, 'logger', None)
        for handler in getattr(logger, 'handlers', []):
            if type(handler) is logging.StreamHandler:
                if remove:
                    handler.removeFilter(self._console_filter)
                else:
                    handler.addFilter(self._console_filter)

    def _log_env(self, env_cfg: dict) -> None:
        """Log the environment and the config to the log file only (the
        console stays quiet until the end of ``__init__``, which also keeps
        the hook table off it)."""
        self._console_handlers()
        super()._log_env(env_cfg)
