# Copyright (c) mmieee contributors.
"""Build a model from a config + checkpoint and extract Re-ID features.

For users' own scripts::

    from mmieee.apis import init_model, extract_features
    model = init_model('configs/ieee_rgbnt201.py', 'epoch_61.pth', 'cuda')
    gallery = extract_features(model, [('rgb.jpg', 'ni.jpg', 'ti.jpg'), ...])
    gallery.feats  # (N, 2304) float32 (a mmieee.evaluation.FeatureSet)

or, on a dataset's test split, ``extract_features(model, dataloader)`` with a
dataloader built by :meth:`mmengine.runner.Runner.build_dataloader`.

Camera ids: a model with a camera embedding (TOP-ReID's ViT streams) needs
each sample's 0-based ``camid``. Dataset samples carry theirs; image
triplets get them from ``camids=[...]``; ``default_camid`` fills in the
samples that have none (None: such a sample is an error naming ``camid``).
"""
import copy
import sys
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmieee.evaluation import FeatureSet
from mmieee.registry import MODELS
from mmieee.utils import load_model_weights
from mmieee.utils.model_index import resolve_model

from .sample_pipeline import SamplePipeline

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
        config (str | Path | Config): Config file or object, or a model
            name of ``configs/*/metafile.yml`` (see
            :func:`~mmieee.utils.model_index.resolve_model`).
        checkpoint (str, optional): Checkpoint path (mmengine checkpoint or
            bare state dict; a ``module.`` prefix is removed).
        device (str | torch.device): Where to put the model.
            Defaults to ``'cpu'``.
        cfg_options (dict, optional): Dotted-key overrides merged into the
            config, e.g. ``{'model.test_cfg': dict(blank_modalities=['NI'])}``.
        strict (bool): Refuse a checkpoint with missing, unexpected or
            mis-shaped keys or other modalities (the error lists them);
            keys the test feature does not use (the training classifiers)
            may differ and are reported in one line. False loads what fits
            and logs the rest. Defaults to True.

    Returns:
        nn.Module: The model in eval mode, with the config as ``model.cfg``.
    """
    config, checkpoint = resolve_model(config, checkpoint)
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


def _sample_batches(model: torch.nn.Module, items: Sequence[ImageTriplet],
                    batch_size: int,
                    camids: Optional[Sequence[Optional[int]]] = None
                    ) -> Iterable[dict]:
    """Run the test pipeline on image samples and collate batches."""
    num_modalities = len(getattr(model, 'modalities', ())) or None
    pipeline = SamplePipeline(model.cfg)
    if camids is not None and len(camids) != len(items):
        raise ValueError(f'extract_features: {len(items)} items but '
                         f'{len(camids)} camids')
    batch = []
    for i, item in enumerate(items):
        item = list(item)
        if num_modalities is not None and len(item) != num_modalities:
            raise ValueError(
                f'extract_features: item {i} has {len(item)} images, the '
                f'model expects {num_modalities} ({model.modalities})')
        batch.append(pipeline(item, i, None if camids is None else camids[i]))
        if len(batch) == batch_size:
            yield default_collate(batch)
            batch = []
    if batch:
        yield default_collate(batch)


def _num_samples(data: object) -> int:
    """How many samples ``data`` yields, for the progress bar (0: unknown,
    the bar then counts without a total)."""
    dataset = getattr(data, 'dataset', None)
    for obj in (dataset, data):
        try:
            return len(obj)
        except TypeError:
            continue
    return 0


def needs_camids(model: torch.nn.Module) -> bool:
    """Whether ``model`` embeds each sample's camera (``camid`` needed)."""
    return bool(getattr(model, 'backbone_needs_camids', False))


def fill_camids(data_samples: Sequence, default_camid: int) -> int:
    """Give ``default_camid`` to the samples without ``camid``.

    Returns:
        int: How many samples got it.
    """
    filled = 0
    for sample in data_samples:
        if sample.metainfo.get('camid') is None:
            sample.set_metainfo(dict(camid=int(default_camid)))
            filled += 1
    return filled


@torch.no_grad()
def extract_features(model: torch.nn.Module,
                     data: Union[Iterable[dict], Sequence[ImageTriplet]],
                     batch_size: int = 32,
                     progress: Optional[bool] = None,
                     camids: Optional[Sequence[Optional[int]]] = None,
                     default_camid: Optional[int] = None) -> FeatureSet:
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
        progress (bool, optional): Show mmengine's progress bar (samples
            done / total, rate) on stderr. None (default) shows it only when
            stderr is a terminal, so logs and pipes stay clean.
        camids (Sequence[int | None], optional): The 0-based camera of each
            image triplet (None where unknown); ignored for dataloaders,
            whose samples carry their own.
        default_camid (int, optional): The camera of samples that have none,
            for a model with a camera embedding (module docstring). None:
            such a sample is an error naming ``camid``.

    Returns:
        FeatureSet: ``feats`` (N, D) float32 and, for dataloaders, the ids,
        flags, dataset indices and image paths of the samples.
    """
    total = _num_samples(data)
    if isinstance(data, (list, tuple)):
        if not data:
            raise ValueError('extract_features: no images given')
        if not hasattr(model, 'cfg'):
            raise AttributeError(
                'extract_features: image triplets need model.cfg (the test '
                'pipeline); build the model with mmieee.apis.init_model')
        data = _sample_batches(model, data, batch_size, camids)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = ProgressBar(total, file=sys.stderr) if progress else None
    was_training = model.training
    model.eval()
    samples = []
    fill = default_camid is not None and needs_camids(model)
    for batch in data:
        if fill:
            fill_camids(batch['data_samples'], default_camid)
        out = model.test_step(batch)
        samples.extend(out)
        if bar is not None:
            bar.update(len(out))
    model.train(was_training)
    if bar is not None:
        sys.stderr.write('\n')
    return FeatureSet.from_samples(samples)
