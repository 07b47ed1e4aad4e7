# Copyright (c) mmieee contributors.
"""Which ``init_cfg`` entries load weights from a file, and must come last.

mmengine's ``BaseModule.init_weights`` applies the ``Pretrained`` initializer
after the children's own ``init_weights`` (so that they cannot overwrite the
loaded values) but every other registered initializer *before* them. A
weight-loading initializer of another name (``TimmViTPretrained``,
``CLIPVisualPretrained``: they declare ``loads_weights = True``) would then
be undone by the module's random initialisation; the modules that accept
one split it off with :func:`split_weight_loaders` and apply it last
(:class:`~mmieee.models.backbones.ReIDViT`), and a multi-stream backbone
hands every weight-loading entry to each stream (:func:`loads_weights`).
"""
from typing import Optional, Tuple, Union

from mmieee.registry import WEIGHT_INITIALIZERS


def loads_weights(cfg: Optional[Union[dict, list]]) -> bool:
    """Whether an ``init_cfg`` entry loads weights from a file: mmengine's
    ``Pretrained`` or an initializer whose class has ``loads_weights``."""
    if not isinstance(cfg, dict):
        return False
    kind = cfg.get('type')
    if kind == 'Pretrained':
        return True
    if isinstance(kind, str):
        kind = WEIGHT_INITIALIZERS.get(kind)
    return bool(getattr(kind, 'loads_weights', False))


def split_weight_loaders(init_cfg) -> Tuple[list, list]:
    """Split an ``init_cfg`` into the weight-loading initializers other than
    ``Pretrained`` (which mmengine already applies last) and the rest.

    Args:
        init_cfg (dict | list[dict] | None): A module's ``init_cfg``.

    Returns:
        tuple[list, list]: ``(loaders, others)``.
    """
    if init_cfg is None:
        return [], []
    cfgs = [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg)
    loaders = [c for c in cfgs
               if loads_weights(c) and c.get('type') != 'Pretrained']
    return loaders, [c for c in cfgs if c not in loaders]
