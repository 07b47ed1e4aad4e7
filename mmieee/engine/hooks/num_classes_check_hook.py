# Copyright (c) mmieee contributors.
"""Check the head's class count against the training identities, and the
camera embedding table against the training cameras.

``model.head.num_classes`` is a number written into each config (171 for
RGBNT201's ``train_171``, 751 for Market1501-MM, ...) while the number of
training identities is a property of the user's copy of the dataset. A copy
with more ids than classifiers makes cross entropy fail deep inside a
training step (or, on GPU, with an opaque device-side assert); fewer ids
leave classifier rows that never see a positive. mmdet has a hook for the
same check (``NumClassCheckHook``); the Re-ID version compares with
``metainfo['num_ids']`` of the training set before the first iteration.
The camera embedding of ViT backbones (``num_cameras``, 4 for RGBNT201, 8
for RGBNT100) is such a number too: a camera id beyond the table would stop
training at the first batch that holds one, so the largest id of the
training set is compared with it before the first iteration.
"""
from typing import Iterable, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmieee.registry import HOOKS


def check_num_classes(num_classes: int, num_ids: int,
                      dataset: str) -> Optional[str]:
    """Compare ``model.head.num_classes`` with a training set's identities.

    Args:
        num_classes (int): The head's classifier rows.
        num_ids (int): Identities of the training set.
        dataset (str): Its name, for messages.

    Returns:
        str | None: A warning when the set has fewer identities (classifier
        rows that never see a positive), else None.

    Raises:
        ValueError: The set has more identities than the head has classes.
    """
    if num_ids > num_classes:
        raise ValueError(
            f'The training set ({dataset}) has {num_ids} identities but '
            f'model.head.num_classes is {num_classes}: set '
            f'--cfg-options model.head.num_classes={num_ids} (and '
            'num_classes of any CenterLoss).')
    if num_ids < num_classes:
        return (f'The training set ({dataset}) has {num_ids} identities but '
                f'model.head.num_classes is {num_classes}: '
                f'{num_classes - num_ids} classifier rows will never see a '
                'positive. Check that your copy of the dataset is complete, '
                f'or set model.head.num_classes={num_ids}.')
    return None


def check_camera_table(num_cameras: int, camids: Iterable[int],
                       dataset: str) -> None:
    """Compare a backbone's camera embedding table with a training set.

    Args:
        num_cameras (int): Rows of the table (camids 0 .. num_cameras - 1).
        camids (Iterable[int]): The 0-based camera ids of the set.
        dataset (str): Its name, for messages.

    Raises:
        ValueError: The set has a camera id outside the table.
    """
    largest = max(camids, default=-1)
    if largest >= num_cameras:
        raise ValueError(
            f'The training set ({dataset}) has camera ids up to {largest} '
            f'but the backbone\'s camera embedding has {num_cameras} rows '
            f'(camids 0..{num_cameras - 1}): set num_cameras={largest + 1} '
            'in the backbone config (e.g. --cfg-options '
            f'model.backbone.backbone.num_cameras={largest + 1}).')


def check_training_set(model, dataset) -> Optional[str]:
    """Both checks of this module for a model and its training set.

    Args:
        model (nn.Module): The model (``head.num_classes``, a backbone with
            ``num_cameras`` when it needs camera ids); what it lacks is not
            checked.
        dataset (Dataset): The training set (``metainfo['num_ids']``, the
            ``camid`` of ``data_list``); what it lacks is not checked.

    Returns:
        str | None: The warning of :func:`check_num_classes`.
    """
    name = type(dataset).__name__
    if getattr(model, 'backbone_needs_camids', False) and hasattr(
            dataset, 'data_list'):
        check_camera_table(model.backbone.num_cameras,
                           (info['camid'] for info in dataset.data_list
                            if 'camid' in info), name)
    num_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
    num_ids = getattr(dataset, 'metainfo', {}).get('num_ids')
    if num_classes is None or num_ids is None:
        return None
    return check_num_classes(num_classes, num_ids, name)


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Compare ``model.head.num_classes`` with the training ids and the
    camera embedding table with the training cameras
    (:func:`check_training_set`).

    Raises ``ValueError`` when the training set has more identities than the
    head has classes, or a camera id outside the table, and warns when it
    has fewer identities. Models without ``head.num_classes`` and datasets
    without ``metainfo['num_ids']`` are not compared.
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        warning = check_training_set(model, runner.train_dataloader.dataset)
        if warning:
            print_log(warning, logger='current', level=30)
