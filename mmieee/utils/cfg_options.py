# Copyright (c) mmieee contributors.
"""``--cfg-options`` merging that refuses a misspelt top-level key.

Implements issue 5 item 3. mmengine's ``Config.merge_from_dict`` accepts any
key: ``--cfg-options train_cfg.max_epoch=2`` (for ``max_epochs``) reaches the
loop's constructor and fails there with the registry's message, which is
what users expect; but a misspelt *top-level* key (``trian_cfg.max_epochs=2``)
creates a new section that nothing reads, and the run silently ignores it.
This helper refuses a top-level key that is neither in the config nor read by
mmengine's Runner; keys inside a section are left to the component that
receives them (an unexpected argument then fails with the registry's
"class `X` in mmieee/...: ... unexpected keyword argument" message, an unknown
``type`` with "X is not in the mmieee::model registry").
"""
import difflib
import inspect
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.runner import Runner

#: Top-level keys read by ``Runner.from_cfg`` / the Runner besides the
#: arguments of ``Runner.__init__``.
EXTRA_RUNNER_KEYS = frozenset({
    'model_wrapper_cfg', 'runner_type', 'compile', 'custom_imports',
    'strategy', 'tta_model', 'tta_pipeline', 'launcher', 'work_dir',
    'auto_scale_lr'
})


def _runner_keys() -> frozenset:
    params = inspect.signature(Runner.__init__).parameters
    return frozenset(params) - {'self', 'cfg'} | EXTRA_RUNNER_KEYS


def merge_cfg_options(cfg: Config, options: Optional[Dict]) -> Config:
    """Merge ``--cfg-options`` into ``cfg``, refusing unknown top-level keys.

    Args:
        cfg (Config): The config to update in place.
        options (dict, optional): ``{dotted key: value}`` from
            :class:`mmengine.config.DictAction`.

    Returns:
        Config: ``cfg``.

    Raises:
        KeyError: A key's first component is neither a key of the config
            nor read by the Runner (message names the key and the close
            known keys).
    """
    if not options:
        return cfg
    known = set(cfg.keys()) | _runner_keys()
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3)
            hint = f' Did you mean {", ".join(close)}?' if close else ''
            raise KeyError(
                f'--cfg-options {key}: {top!r} is not a key of the config '
                f'and not read by the Runner, so it would be ignored.{hint}')
    cfg.merge_from_dict(options)
    return cfg
