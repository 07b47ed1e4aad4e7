# Copyright (c) mmieee contributors.
"""``--cfg-options`` merging that refuses a misspelt top-level key and a
value whose type contradicts the config.

mmengine's ``Config.merge_from_dict`` accepts any
key: ``--cfg-options train_cfg.max_epoch=2`` (for ``max_epochs``) reaches the
loop's constructor and fails there with the registry's message, which is
what users expect; but a misspelt *top-level* key (``trian_cfg.max_epochs=2``)
creates a new section that nothing reads, and the run silently ignores it.
This helper refuses a top-level key that is neither in the config nor read by
mmengine's Runner; keys inside a section are left to the component that
receives them (an unexpected argument then fails with the registry's
"class `X` in mmieee/...: ... unexpected keyword argument" message, an unknown
``type`` with "X is not in the mmieee::model registry").

Values are typed by mmengine's ``DictAction`` (``5`` is an int, ``abc`` a
str). A value replacing a number or a bool of the config must be one too
(an int key given ``abc`` or ``2.5`` is refused here, naming the key,
instead of failing later deep inside torch or numpy); other types are not
checked.
"""
import difflib
import inspect
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.runner import Runner

from .errors import ConfigError

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
        ConfigError: A key's first component is neither a key of the config
            nor read by the Runner (message names the key and the close
            known keys), or a value's type contradicts the config's value.
    """
    if not options:
        return cfg
    known = set(cfg.keys()) | _runner_keys()
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3)
            hint = f' Did you mean {", ".join(close)}?' if close else ''
            raise ConfigError(
                f'--cfg-options {key}: {top!r} is not a key of the config '
                f'and not read by the Runner, so it would be ignored.{hint}')
        _check_type(key, _lookup(cfg, key), options[key])
    cfg.merge_from_dict(options)
    return cfg


_MISSING = object()


def _lookup(cfg: Config, key: str):
    """The config's current value at a dotted key (list indices allowed),
    or ``_MISSING``."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, (dict, Config)) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def _check_type(key: str, old, new) -> None:
    """Refuse a value that cannot replace a number or bool of the config."""
    if old is _MISSING or old is None:
        return
    if isinstance(old, bool):
        ok = isinstance(new, bool)
        want = 'True or False'
    elif isinstance(old, int):
        ok = isinstance(new, int) and not isinstance(new, bool)
        want = 'an integer'
    elif isinstance(old, float):
        ok = isinstance(new, (int, float)) and not isinstance(new, bool)
        want = 'a number'
    else:
        return
    if not ok:
        raise ConfigError(
            f'--cfg-options {key}={new!r}: the config has {key}={old!r}, '
            f'so the value must be {want}')
