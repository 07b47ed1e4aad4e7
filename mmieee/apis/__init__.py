# Copyright (c) mmieee contributors.
from mmieee.evaluation.metrics import DumpReIDFeatures, collect_features

from .gallery import FeatureSet, build_feature_set
from .gallery_search import ExactSearch, FaissSearch, build_search
from .inference import extract_features, init_model
from .model_index import list_models, resolve_model
from .multi_modal_reid_inferencer import MultiModalReIDInferencer

__all__ = [
    'DumpReIDFeatures', 'collect_features', 'extract_features', 'init_model',
    'MultiModalReIDInferencer', 'FeatureSet', 'build_feature_set',
    'ExactSearch', 'FaissSearch', 'build_search', 'list_models',
    'resolve_model'
]
