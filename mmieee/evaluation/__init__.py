# Copyright (c) mmieee contributors.
"""Re-ID evaluation: the sample record and feature set, the one ranking
protocol, the metrics, and the plain functions under ``functional``."""
from .feature_set import FeatureSet, sample_record  # noqa: F401
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .ranking_protocol import RankingProtocol  # noqa: F401
