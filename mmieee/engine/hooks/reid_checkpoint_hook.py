# Copyright (c) mmieee contributors.
"""mmengine's CheckpointHook, made loss-free and checked early.

What it changes (everything else is mmengine's ``CheckpointHook``):

* **No lost progress.** mmengine deletes the outdated ``epoch_N.pth`` (and
  the previous best checkpoint) *before* writing the new one, and writes in
  place: a run killed in between is left with no checkpoint, a truncated one,
  or a ``last_checkpoint`` that names a deleted file. Here every checkpoint
  and ``last_checkpoint`` are written atomically (the ``'atomic_local'``
  backend of :mod:`mmieee.utils.atomic_file`), and outdated files are deleted
  only after the new checkpoint and ``last_checkpoint`` are complete.
* **Early errors.** mmengine passes unknown arguments on to
  ``runner.save_checkpoint``, so a typo (``intervall=5``) fails at the first
  save, an epoch later. Here it fails when the Runner builds the hook.
* **No leftovers.** The temporary files of saves that were killed
  (``.epoch_3.pth.partial-<pid>``, dot-files that mmengine's folder
  listing skips) are removed when training starts.
* **Modalities recorded.** Every checkpoint's ``meta['modalities']`` is the
  model's modality order, which evaluation compares with the model it is
  loaded into (:func:`mmieee.utils.load_model_weights`).
"""
import difflib
import inspect
import logging
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from mmieee.registry import HOOKS
from mmieee.utils.atomic_file import atomic_write, partial_owner
from mmieee.utils.work_dir_lock import process_alive


def remove_partial_files(folder: str) -> list:
    """Remove the temporary files of killed atomic writes in ``folder``.

    They are dot-files (``.epoch_3.pth.partial-<pid>``), which mmengine's
    ``list_dir_or_file`` skips, so the folder is listed here; files of a
    process that still runs are kept.

    Returns:
        list[str]: The removed paths.
    """
    if '://' in folder or not osp.isdir(folder):
        return []
    removed = []
    for entry in os.scandir(folder):
        pid = partial_owner(entry.name)
        if pid is not None and entry.is_file() and not process_alive(pid):
            os.remove(entry.path)
            removed.append(entry.path)
    return removed


class _DropMessages(logging.Filter):
    """Drops records whose message contains one of the given texts."""

    def __init__(self, *texts: str) -> None:
        super().__init__()
        self.texts = texts

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(t in message for t in self.texts)


@HOOKS.register_module()
class ReIDCheckpointHook(CheckpointHook):
    """Save checkpoints atomically, delete outdated ones last.

    Args:
        backend_args (dict, optional): mmengine fileio backend of the
            checkpoints. Defaults to ``dict(backend='atomic_local')`` for a
            local ``out_dir`` (the work dir by default).
        **kwargs: Every other argument of mmengine's
            :class:`~mmengine.hooks.CheckpointHook`; anything else is an
            error here (mmengine would pass it to ``save_checkpoint``).

    Raises:
        TypeError: An argument CheckpointHook does not take (the message
            names it and suggests the closest one).
    """

    def __init__(self, *args, backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        known = set(inspect.signature(CheckpointHook.__init__).parameters)
        known -= {'self', 'args', 'kwargs'}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise TypeError(
                f'{type(self).__name__} (default_hooks.checkpoint) got '
                f'unknown argument(s) {unknown}{hint} Known arguments: '
                f'{sorted(known)}.')
        out_dir = kwargs.get('out_dir')
        if backend_args is None and (out_dir is None
                                     or '://' not in str(out_dir)):
            backend_args = dict(backend='atomic_local')
        super().__init__(*args, backend_args=backend_args, **kwargs)

    def before_train(self, runner) -> None:
        """Set up as mmengine does; remove partial files of a killed run."""
        # mmengine's hook and its save_checkpoint build a deprecated
        # FileClient they do not need (file_client_args is None) and log two
        # deprecation warnings on every run; they say nothing about the run.
        runner.logger.addFilter(
            _DropMessages('"FileClient" will be deprecated',
                          '"HardDiskBackend" is the alias'))
        super().before_train(runner)
        if is_main_process():
            for folder in {str(self.out_dir), str(runner.work_dir)}:
                for path in remove_partial_files(folder):
                    runner.logger.info(
                        f'Removed {path}, left by a save that was killed')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the model's modalities in ``checkpoint['meta']``."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        modalities = getattr(model, 'modalities', None)
        if modalities is not None:
            checkpoint.setdefault('meta', {})['modalities'] = list(modalities)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """mmengine's logic, with the old file deleted after the new one
        and ``last_checkpoint`` are written."""
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # updated before saving, so the checkpoint records the ids kept
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(
            str(self.last_ckpt).encode(),
            osp.join(runner.work_dir, 'last_checkpoint'))
        for old in stale:
            self._remove(
                self.file_backend.join_path(self.out_dir,
                                            self.filename_tmpl.format(old)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's logic, with the previous best checkpoint deleted after
        the new one is written."""
        if len(self.key_indicators) == 1:
            old = {None: self.best_ckpt_path}
            self.best_ckpt_path = None  # so mmengine deletes nothing
        else:
            old = dict(self.best_ckpt_path_dict)
            self.best_ckpt_path_dict = dict.fromkeys(old)
        super()._save_best_checkpoint(runner, metrics)
        for key, previous in old.items():
            if key is None:
                new = self.best_ckpt_path
            else:
                new = self.best_ckpt_path_dict[key]
            if new is None:  # no new best: keep the previous one
                if key is None:
                    self.best_ckpt_path = previous
                else:
                    self.best_ckpt_path_dict[key] = previous
            elif previous and previous != new and is_main_process():
                self._remove(previous)
                runner.logger.info(
                    f'The previous best checkpoint {previous} is removed')

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints
            self.file_backend.rmtree(path)
