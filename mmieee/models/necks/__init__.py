# Copyright (c) mmieee contributors.
from .atmoe import ATMoE
from .channel_attention import ChannelAttention
from .complementary_reconstruction import ComplementaryReconstruction
from .cross_modal_interaction import CrossModalInteraction
from .demo_neck import DeMoNeck
from .hdm import HDM
from .ieee_neck import IEEENeck
from .pife import PIFE
from .relation_embedding import RelationEmbedding
from .token_permutation import TokenPermutation
from .topreid_neck import TOPReIDNeck

__all__ = [
    'ATMoE', 'ChannelAttention', 'ComplementaryReconstruction',
    'CrossModalInteraction', 'DeMoNeck', 'HDM', 'IEEENeck', 'PIFE',
    'RelationEmbedding', 'TokenPermutation', 'TOPReIDNeck'
]
