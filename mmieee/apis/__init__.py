# Copyright (c) mmieee contributors.
from mmieee.utils.model_index import list_models, resolve_model

from .gallery import build_feature_set
from .gallery_search import ExactSearch, FaissSearch, build_search
from .inference import extract_features, init_model
from .multi_modal_reid_inferencer import MultiModalReIDInferencer
from .test_features import (build_test_dataset, check_rows,
                            extract_test_features, load_test_features)

__all__ = [
    'extract_features', 'init_model', 'MultiModalReIDInferencer',
    'build_feature_set', 'ExactSearch', 'FaissSearch', 'build_search',
    'list_models', 'resolve_model', 'build_test_dataset', 'check_rows',
    'extract_test_features', 'load_test_features'
]
