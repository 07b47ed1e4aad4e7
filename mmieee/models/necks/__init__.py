# Copyright (c) mmieee contributors.
from .channel_attention import ChannelAttention
from .complementary_reconstruction import ComplementaryReconstruction
from .cross_modal_interaction import CrossModalInteraction
from .ieee_neck import IEEENeck
from .relation_embedding import RelationEmbedding
from .token_permutation import TokenPermutation
from .topreid_neck import TOPReIDNeck

__all__ = [
    'ChannelAttention', 'ComplementaryReconstruction',
    'CrossModalInteraction', 'IEEENeck', 'RelationEmbedding',
    'TokenPermutation', 'TOPReIDNeck'
]
