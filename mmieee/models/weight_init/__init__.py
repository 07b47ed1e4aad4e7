# Copyright (c) mmieee contributors.
from .clip_visual_pretrained import (CLIPVisualPretrained,
                                     openai_visual_key_to_reid_vit,
                                     openai_visual_to_reid_vit,
                                     read_openai_clip)
from .weight_loaders import split_weight_loaders

__all__ = [
    'CLIPVisualPretrained', 'openai_visual_key_to_reid_vit',
    'openai_visual_to_reid_vit', 'read_openai_clip', 'split_weight_loaders'
]
