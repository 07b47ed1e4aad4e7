# Copyright (c) mmieee contributors.
from .atmoe import ATMoE
from .channel_attention import ChannelAttention
from .cross_modal_interaction import CrossModalInteraction
from .demo_neck import DeMoNeck
from .hdm import HDM
from .ieee_neck import IEEENeck
from .pife import PIFE
from .relation_embedding import RelationEmbedding

__all__ = [
    'ATMoE', 'ChannelAttention', 'CrossModalInteraction', 'DeMoNeck', 'HDM',
    'IEEENeck', 'PIFE', 'RelationEmbedding'
]
