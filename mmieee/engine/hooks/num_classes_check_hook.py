# Copyright (c) mmieee contributors.
"""Check the head's class count against the training identities.

``model.head.num_classes`` is a number written into each config (171 for
RGBNT201's ``train_171``, 751 for Market1501-MM, ...) while the number of
training identities is a property of the user's copy of the dataset. A copy
with more ids than classifiers makes cross entropy fail deep inside a
training step (or, on GPU, with an opaque device-side assert); fewer ids
leave classifier rows that never see a positive. mmdet has a hook for the
same check (``NumClassCheckHook``); the Re-ID version compares with
``metainfo['num_ids']`` of the training set before the first iteration.
"""
from typing import Optional

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


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Compare ``model.head.num_classes`` with the training ids.

    Raises ``ValueError`` when the training set has more identities than the
    head has classes and warns when it has fewer. Models without
    ``head.num_classes`` and datasets without ``metainfo['num_ids']`` are
    skipped.
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        num_classes = getattr(getattr(model, 'head', None), 'num_classes',
                              None)
        dataset = runner.train_dataloader.dataset
        num_ids = getattr(dataset, 'metainfo', {}).get('num_ids')
        if num_classes is None or num_ids is None:
            return
        warning = check_num_classes(num_classes, num_ids,
                                    type(dataset).__name__)
        if warning:
            print_log(warning, logger='current', level=30)
