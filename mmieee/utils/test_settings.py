# Copyright (c) mmieee contributors.
"""Where a config keeps its test settings, answered once (as mmdet's
``get_test_pipeline_cfg``).

A config tests with ``test_dataloader`` / ``test_evaluator``; a config made
for training only may hold just ``val_dataloader`` / ``val_evaluator``,
which then stand in. Dataset wrappers (``RepeatDataset``, ...) are followed
to the dataset that holds the pipeline. Every tool and API that needs the
test dataset, its pipeline, its input size or the ranking settings of its
``ReIDMetric`` asks these functions.
"""
import copy
from typing import List, Optional, Tuple

from mmengine.config import Config

from .errors import ConfigError

#: Transform types whose ``scale`` is the (w, h) the model is fed.
RESIZE_TYPES = ('Resize', 'mmcv.Resize', 'mmpretrain.Resize')


def _first_present(cfg: Config, keys: Tuple[str, str], what: str) -> tuple:
    for key in keys:
        if cfg.get(key):
            return key, cfg[key]
    raise ConfigError(f'the config has no {" / ".join(keys)} to take the '
                      f'{what} from')


def get_test_dataloader_cfg(cfg: Config) -> Tuple[str, dict]:
    """``(key, config)`` of the test dataloader (else the val one).

    Raises:
        ConfigError: The config has neither.
    """
    return _first_present(cfg, ('test_dataloader', 'val_dataloader'),
                          'test dataset')


def get_test_dataset_cfg(cfg: Config) -> dict:
    """A copy of the test dataset's config, wrappers followed to the
    dataset with the pipeline.

    Raises:
        ConfigError: No test / val dataloader, or no dataset in it.
    """
    key, loader = get_test_dataloader_cfg(cfg)
    dataset = loader.get('dataset') if isinstance(loader, dict) else None
    if not isinstance(dataset, dict):
        raise ConfigError(f'{key} has no dataset')
    while 'pipeline' not in dataset and isinstance(
            dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return copy.deepcopy(dict(dataset))


def get_test_pipeline_cfg(cfg: Config) -> List[dict]:
    """A copy of the test dataset's ``pipeline`` list.

    Raises:
        ConfigError: No test dataset, or one without a pipeline.
    """
    dataset = get_test_dataset_cfg(cfg)
    if 'pipeline' not in dataset:
        raise ConfigError(f'the test dataset {dataset.get("type")} has no '
                          'pipeline')
    return [dict(t) for t in dataset['pipeline']]


def get_test_input_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """``(h, w)`` the test pipeline resizes every modality to (its
    ``Resize``, also inside ``ApplyToModalities``), or None."""
    for step in get_test_pipeline_cfg(cfg):
        for inner in [step] + list(step.get('transforms', ())):
            if inner.get('type') in RESIZE_TYPES and \
                    inner.get('scale') is not None:
                w, h = inner['scale']
                return int(h), int(w)
    return None


def get_reid_metric_cfg(cfg: Config) -> dict:
    """A copy of the ``ReIDMetric`` entry of ``test_evaluator`` (else
    ``val_evaluator``): a metric dict, a list of them, or
    ``dict(type='Evaluator', metrics=[...])``.

    Raises:
        ConfigError: No evaluator, or not exactly one ``ReIDMetric`` in it
            (its distance, re-ranking and exclusion settings define the
            ranking every tool shows).
    """
    key, evaluator = _first_present(cfg, ('test_evaluator', 'val_evaluator'),
                                    'ranking settings')
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    items = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    found = [
        item for item in items if isinstance(item, dict)
        and str(item.get('type', '')).split('.')[-1] == 'ReIDMetric'
    ]
    if len(found) != 1:
        raise ConfigError(
            f'{key} must hold exactly one ReIDMetric (its distance, '
            f're-ranking and exclusion settings define the ranking), found '
            f'{len(found)} in {evaluator!r}')
    return copy.deepcopy(dict(found[0]))
