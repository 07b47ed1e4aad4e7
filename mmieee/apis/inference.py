# Copyright (c) mmieee contributors.
"""Build a model from a config + checkpoint and extract Re-ID features.

For users' own scripts::

    from mmieee.apis import init_model, extract_features
    model = init_model('configs/ieee_rgbnt201.py', 'epoch_61.pth', 'cuda')
    gallery = extract_features(model, [('rgb.jpg', 'ni.jpg', 'ti.jpg'), ...])
    gallery['feats']  # (N, 2304) float32

or, on a dataset's test split, ``extract_features(model, dataloader)`` with a
dataloader built by :meth:`mmengine.runner.Runner.build_dataloader`.
"""
import copy
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.registry import init_default_scope

from mmieee.evaluation.metrics import collect_features
from mmieee.registry import MODELS
from mmieee.utils import load_model_weights

ImageTriplet = Sequence[Union[str, np.ndarray]]


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> torch.nn.Module:
    """Build the config's model, load a checkpoint, switch to eval mode.

    The backbone's ``Pretrained`` init is not run (nothing is downloaded):
    the weights come from ``checkpoint``; without one the model keeps its
    random initialisation. The checkpoint must fit the model exactly (see
    :func:`mmieee.utils.load_model_weights`) unless ``strict=False``.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint path (mmengine checkpoint or
            bare state dict; a ``module.`` prefix is removed).
        device (str | torch.device): Where to put the model.
            Defaults to ``'cpu'``.
        cfg_options (dict, optional): Dotted-key overrides merged into the
            config, e.g. ``{'model.test_cfg': dict(blank_modalities=['NI'])}``.
        strict (bool): Refuse a checkpoint with missing, unexpected or
            mis-shaped keys or other modalities (the error lists them).
            False loads what fits and logs the rest. Defaults to True.

    Returns:
        nn.Module: The model in eval mode, with the config as ``model.cfg``.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError('init_model: config must be a path or a Config, got '
                        f'{type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmieee'))
    model = MODELS.build(config.model)
    if checkpoint is not None:
        load_model_weights(model, checkpoint, strict=strict)
    model.cfg = config
    return model.to(device).eval()


def _triplet_pipeline(cfg: Config, from_arrays: bool) -> Compose:
    """The test pipeline of ``cfg``; without the loader for arrays."""
    loader_cfg = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if not loader_cfg:
        raise KeyError('extract_features: the model config has no '
                       'test_dataloader / val_dataloader to take the test '
                       'pipeline from')
    dataset = loader_cfg['dataset']
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']  # dataset wrappers
    pipeline = copy.deepcopy(list(dataset['pipeline']))
    if from_arrays:
        pipeline = [t for t in pipeline
                    if t.get('type') != 'LoadMultiModalImages']
    return Compose(pipeline)


def _triplet_batches(model: torch.nn.Module, items: Sequence[ImageTriplet],
                     batch_size: int) -> Iterable[dict]:
    """Run the test pipeline on image triplets and collate batches."""
    num_modalities = len(getattr(model, 'modalities', ())) or None
    from_arrays = isinstance(items[0][0], np.ndarray)
    pipeline = _triplet_pipeline(model.cfg, from_arrays)
    batch = []
    for i, item in enumerate(items):
        item = list(item)
        if num_modalities is not None and len(item) != num_modalities:
            raise ValueError(
                f'extract_features: item {i} has {len(item)} images, the '
                f'model expects {num_modalities} ({model.modalities})')
        if from_arrays:
            h, w = item[0].shape[:2]
            results = dict(img=item, img_shape=(h, w), ori_shape=(h, w))
        else:
            results = dict(img_path=[str(p) for p in item])
        results['sample_idx'] = i
        batch.append(pipeline(results))
        if len(batch) == batch_size:
            yield default_collate(batch)
            batch = []
    if batch:
        yield default_collate(batch)


@torch.no_grad()
def extract_features(model: torch.nn.Module,
                     data: Union[Iterable[dict], Sequence[ImageTriplet]],
                     batch_size: int = 32) -> Dict[str, object]:
    """Compute the Re-ID features of a dataloader or of image triplets.

    Args:
        model (nn.Module): A model from :func:`init_model` (eval mode; its
            ``cfg`` provides the test pipeline for image triplets).
        data: Either an iterable of collated batches
            (``dict(inputs=(B, M, C, H, W), data_samples=[...])``, e.g. a
            DataLoader of a test split), or a sequence of samples, each a
            sequence of M image paths or M (H, W, 3) uint8 RGB arrays in the
            model's modality order.
        batch_size (int): Batch size for image triplets. Defaults to 32.

    Returns:
        dict: ``feats`` (N, D) float32 and, for dataloaders, the ids and
        flags (see :mod:`mmieee.apis.features`).
    """
    if isinstance(data, (list, tuple)):
        if not data:
            raise ValueError('extract_features: no images given')
        if not hasattr(model, 'cfg'):
            raise AttributeError(
                'extract_features: image triplets need model.cfg (the test '
                'pipeline); build the model with mmieee.apis.init_model')
        data = _triplet_batches(model, data, batch_size)
    was_training = model.training
    model.eval()
    samples = []
    for batch in data:
        samples.extend(model.test_step(batch))
    model.train(was_training)
    return collect_features(samples)
