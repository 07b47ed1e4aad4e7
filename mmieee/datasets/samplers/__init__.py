# Copyright (c) mmieee contributors.
from .identity_sampler import IdentityBalancedSampler

__all__ = ['IdentityBalancedSampler']
