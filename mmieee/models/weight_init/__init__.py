# Copyright (c) mmieee contributors.
"""Initializers that load pretrained files into ReIDViT streams (timm's
ImageNet ViT for TOP-ReID, OpenAI's CLIP for DeMo), and the rule that applies
them after a module's random initialisation."""
from .clip_visual_pretrained import (CLIPVisualPretrained,
                                     openai_visual_key_to_reid_vit,
                                     openai_visual_to_reid_vit,
                                     read_openai_clip)
from .timm_vit_pretrained import TimmViTPretrained
from .weight_loaders import loads_weights, split_weight_loaders

__all__ = [
    'CLIPVisualPretrained', 'TimmViTPretrained',
    'openai_visual_key_to_reid_vit', 'openai_visual_to_reid_vit',
    'read_openai_clip', 'loads_weights', 'split_weight_loaders'
]
