# Copyright (c) mmieee contributors.
"""Which ``init_cfg`` entries load weights and must come last.

mmengine's ``BaseModule.init_weights`` applies the ``Pretrained`` initializer
after the children's own ``init_weights`` (so that they cannot overwrite the
loaded values) but every other registered initializer *before* them. A
weight-loading initializer of another name (e.g.
:class:`~.clip_visual_pretrained.CLIPVisualPretrained`) would then be undone
by the children's random initialisation; modules that accept one
(:class:`~mmieee.models.backbones.ReIDViT`) split it off with
:func:`split_weight_loaders` and apply it last themselves.
"""
from typing import Tuple

from mmengine.model.weight_init import PretrainedInit

from mmieee.registry import WEIGHT_INITIALIZERS


def split_weight_loaders(init_cfg) -> Tuple[list, list]:
    """Split an ``init_cfg`` into weight-loading initializers of mmieee's
    registry (subclasses of mmengine's ``PretrainedInit`` other than
    ``Pretrained`` itself, which mmengine already applies last) and the
    rest.

    Args:
        init_cfg (dict | list[dict] | None): A module's ``init_cfg``.

    Returns:
        tuple[list, list]: ``(loaders, others)``.
    """
    if init_cfg is None:
        return [], []
    cfgs = [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg)
    loaders, others = [], []
    for cfg in cfgs:
        kind = cfg.get('type')
        cls = kind if isinstance(kind, type) else (
            WEIGHT_INITIALIZERS.get(kind) if isinstance(kind, str) else None)
        is_loader = (isinstance(cls, type) and issubclass(cls, PretrainedInit)
                     and cls is not PretrainedInit)
        (loaders if is_loader else others).append(cfg)
    return loaders, others
