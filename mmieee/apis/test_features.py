# Copyright (c) mmieee contributors.
"""The test split's features of a config: extracted from a checkpoint (with
a progress bar) or read from a ``tools/test.py --dump`` feature file, and
matched row by row to the config's test dataset so that every feature row
has its images (what the visualisation tools draw from).
"""
import os.path as osp
from typing import Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmieee.evaluation import FeatureSet
from mmieee.registry import DATASETS
from mmieee.utils import ConfigError
from mmieee.utils.test_settings import (get_test_dataloader_cfg,
                                        get_test_dataset_cfg)

from .inference import extract_features, init_model


def build_test_dataset(cfg: Config) -> BaseDataset:
    """Build the config's test dataset (with its pipeline)."""
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    return DATASETS.build(get_test_dataset_cfg(cfg))


def check_rows(features: FeatureSet, dataset: BaseDataset) -> None:
    """Check that feature row ``i`` is sample ``i`` of ``dataset``.

    Args:
        features (FeatureSet): With ``img_paths``.
        dataset (BaseDataset): The config's test dataset.

    Raises:
        ConfigError: Different sizes or image paths (the features were
            made with another test split).
    """
    source = features.source or 'the features'
    if len(features) != len(dataset):
        raise ConfigError(
            f'{source} has {len(features)} feature rows but the config\'s '
            f'test split has {len(dataset)} samples; use the config the '
            'features were made with')
    if features.img_paths is None:
        raise ConfigError(
            f'{source} has no "img_paths", so its rows cannot be matched to '
            'the test images; write it with tools/test.py --dump')
    for i, got in enumerate(features.img_paths):
        expected = [str(p) for p in dataset.get_data_info(i)['img_path']]
        if list(got) != expected:
            raise ConfigError(
                f'{source}: row {i} holds {list(got)} but sample {i} of the '
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
    if not osp.isfile(checkpoint):
        raise ConfigError(f'checkpoint {checkpoint!r} does not exist.')
    model = init_model(cfg, checkpoint, device=device)
    loader = Runner.build_dataloader(get_test_dataloader_cfg(cfg)[1])
    print(f'Extracting the features of {len(loader.dataset)} test samples')
    # extract_features draws the (one) progress bar, in samples
    features = extract_features(model, loader, progress=True)
    features.source = f'features of {checkpoint}'
    check_rows(features, loader.dataset)
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
        dump (str, optional): ``tools/test.py --dump`` feature file.
        device (str | torch.device): Where the model runs.
        with_dataset (bool): Also build the test dataset and match the
            dump's rows to it (needed to show images).

    Returns:
        tuple: The feature set and the test dataset (None when not
        needed).
    """
    if dump:
        try:
            features = FeatureSet.load(dump)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError(str(err)) from err
        dataset = None
        if with_dataset:
            dataset = build_test_dataset(cfg)
            check_rows(features, dataset)
        return features, dataset
    if not checkpoint:
        raise ConfigError('give a CHECKPOINT or --dump FEATURES')
    return extract_test_features(cfg, checkpoint, device)
