# Copyright (c) mmieee contributors.
"""The config's test pipeline applied to one multi-modal sample given as M
image paths or M arrays (what :func:`~mmieee.apis.extract_features` and the
inferencer feed the model)."""
import copy
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose

from mmieee.utils.test_settings import get_test_pipeline_cfg

ImageSample = Sequence[Union[str, np.ndarray]]

#: The transform that reads the files; left out for arrays.
LOADER = 'LoadMultiModalImages'


class SamplePipeline:
    """Run the test pipeline on one sample of M paths or M arrays.

    Args:
        cfg (Config): The model's config (``model.cfg``).

    Call with ``(images, sample_idx, camid=None)``; returns the packed
    ``dict(inputs=(M, C, H, W) tensor, data_samples=DataSample)``, whose
    metainfo holds ``camid`` when one is given (a model with a camera
    embedding needs it).
    Arrays must be (H, W, 3) uint8 RGB (or (H, W)), as the loader would
    give them.
    """

    def __init__(self, cfg: Config) -> None:
        pipeline = get_test_pipeline_cfg(cfg)
        self.from_paths = Compose(copy.deepcopy(pipeline))
        self.from_arrays = Compose(
            [t for t in pipeline if t.get('type') != LOADER])

    def __call__(self, images: ImageSample, sample_idx: int = 0,
                 camid: Optional[int] = None) -> Dict:
        images = list(images)
        if all(isinstance(x, np.ndarray) for x in images):
            h, w = images[0].shape[:2]
            results = dict(img=images, img_shape=(h, w), ori_shape=(h, w))
            pipeline = self.from_arrays
        elif any(isinstance(x, np.ndarray) for x in images):
            raise TypeError(f'sample {sample_idx} mixes image arrays and '
                            'paths; give all M images one way')
        else:
            results = dict(img_path=[str(p) for p in images])
            pipeline = self.from_paths
        results['sample_idx'] = sample_idx
        if camid is not None:
            results['camid'] = int(camid)
        return pipeline(results)
