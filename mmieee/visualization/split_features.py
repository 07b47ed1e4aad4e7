# Copyright (c) mmieee contributors.
"""The test split's features for the visualisation tools: extracted from a
checkpoint (with a progress bar) or read from a ``tools/test.py --dump``
pickle, and matched row by row to the config's test dataset so that every
feature row has its images.
"""
import os.path as osp
from typing import Dict, Optional, Tuple, Union

import mmengine
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmieee.registry import DATASETS
from mmieee.utils import ConfigError

FeatureSet = Dict[str, object]


def build_split_dataset(cfg: Config,
                        key: str = 'test_dataloader') -> BaseDataset:
    """Build the dataset of one of the config's dataloaders.

    Args:
        cfg (Config): The tool's config.
        key (str): ``'test_dataloader'``, ``'train_dataloader'``, ...

    Returns:
        BaseDataset: ``cfg[key].dataset``, built (with its pipeline).
    """
    if not cfg.get(key) or 'dataset' not in cfg[key]:
        raise ConfigError(f'the config has no {key}.dataset')
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    return DATASETS.build(cfg[key]['dataset'])


def load_feature_dump(path: str) -> FeatureSet:
    """Read a ``tools/test.py --dump`` pickle.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict: The feature set (see :mod:`mmieee.evaluation.metrics
        .dump_reid_features`).

    Raises:
        ConfigError: The file is missing or is not a feature set.
    """
    if not osp.isfile(path):
        raise ConfigError(f'feature dump {path!r} does not exist')
    features = mmengine.load(path, file_format='pkl')
    if not isinstance(features, dict) or 'feats' not in features:
        raise ConfigError(
            f'{path!r} is not a feature dump of tools/test.py --dump (a '
            f'dict with "feats", "pids", ...); got {type(features).__name__}'
            + (f' with keys {sorted(features)}' if isinstance(
                features, dict) else ''))
    feats = np.asarray(features['feats'])
    if feats.ndim != 2:
        raise ConfigError(f'{path!r}: "feats" must be (N, D), got shape '
                          f'{feats.shape}')
    return features


def check_rows(features: FeatureSet, dataset: BaseDataset,
               source: str) -> None:
    """Check that feature row ``i`` is sample ``i`` of ``dataset``.

    Args:
        features (dict): A feature set with ``img_paths``.
        dataset (BaseDataset): The config's test dataset.
        source (str): Where the features come from, for messages.

    Raises:
        ConfigError: Different sizes or image paths (the features were
            made with another test split).
    """
    num = len(features['feats'])
    if num != len(dataset):
        raise ConfigError(
            f'{source} has {num} feature rows but the config\'s test split '
            f'has {len(dataset)} samples; use the config the features were '
            'made with')
    paths = features.get('img_paths')
    if paths is None:
        raise ConfigError(
            f'{source} has no "img_paths", so its rows cannot be matched to '
            'the test images; write it with tools/test.py --dump')
    for i in range(num):
        expected = [str(p) for p in dataset.get_data_info(i)['img_path']]
        got = [str(p) for p in paths[i]]
        if got != expected:
            raise ConfigError(
                f'{source}: row {i} holds {got} but sample {i} of the '
                f'config\'s test split is {expected}; use the config (and '
                'data_root) the features were made with')


def extract_test_features(cfg: Config,
                          checkpoint: str,
                          device: Union[str, torch.device] = 'cpu'
                          ) -> Tuple[FeatureSet, BaseDataset]:
    """Features of the config's test split, with a progress bar.

    Args:
        cfg (Config): The tool's config (options already merged).
        checkpoint (str): Checkpoint file.
        device (str | torch.device): Where the model runs.

    Returns:
        tuple: The feature set (rows in dataset order) and the test dataset.
    """
    # Imported here: mmieee.apis may import this package (rank lists of
    # inference results), which must not make a cycle.
    from mmieee.apis import extract_features, init_model
    if not osp.isfile(checkpoint):
        raise ConfigError(f'checkpoint {checkpoint!r} does not exist.')
    model = init_model(cfg, checkpoint, device=device)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    print(f'Extracting the features of {len(loader.dataset)} test samples')
    # extract_features draws the (one) progress bar, in samples
    features = extract_features(model, loader, progress=True)
    check_rows(features, loader.dataset, f'features of {checkpoint}')
    return features, loader.dataset


def load_test_features(cfg: Config,
                       checkpoint: Optional[str],
                       dump: Optional[str],
                       device: Union[str, torch.device] = 'cpu',
                       with_dataset: bool = True
                       ) -> Tuple[FeatureSet, Optional[BaseDataset]]:
    """The test features from ``dump`` when given, else from ``checkpoint``.

    Args:
        cfg (Config): The tool's config.
        checkpoint (str, optional): Checkpoint file (unused with ``dump``).
        dump (str, optional): ``tools/test.py --dump`` pickle.
        device (str | torch.device): Where the model runs.
        with_dataset (bool): Also build the test dataset and match the
            dump's rows to it (needed to show images).

    Returns:
        tuple: The feature set and the test dataset (None when not
        needed).
    """
    if dump:
        features = load_feature_dump(dump)
        dataset = None
        if with_dataset:
            dataset = build_split_dataset(cfg)
            check_rows(features, dataset, dump)
        return features, dataset
    if not checkpoint:
        raise ConfigError('give a CHECKPOINT or --dump FEATURES.pkl')
    return extract_test_features(cfg, checkpoint, device)
