# Copyright (c) mmieee contributors.
from .channel_attention import ChannelAttention
from .cross_modal_interaction import CrossModalInteraction
from .ieee_neck import IEEENeck
from .relation_embedding import RelationEmbedding

__all__ = [
    'ChannelAttention', 'CrossModalInteraction', 'IEEENeck',
    'RelationEmbedding'
]
