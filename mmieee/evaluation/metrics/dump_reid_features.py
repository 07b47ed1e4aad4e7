# Copyright (c) mmieee contributors.
"""Dump the test features of a Re-ID model as a feature file.

:class:`DumpReIDFeatures` is a pseudo-metric (as mmdet's ``DumpDetResults``)
that ``tools/test.py --dump`` appends to the evaluator; users can add it to
any ``test_evaluator``. It keeps the record of every sample
(:func:`~mmieee.evaluation.sample_record`) and writes their
:class:`~mmieee.evaluation.FeatureSet` (:meth:`FeatureSet.save`: ``.npz``
or a ``.pkl`` of plain arrays, one row per sample in dataset order): the
features ``feats`` (and ``gallery_feats`` under the cross-modal protocol),
``pids``, ``camids``, ``sceneids`` (when every sample has one),
``is_query``, ``is_gallery``, ``sample_idx`` and ``img_paths``.
"""
import os.path as osp
from typing import List, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmieee.registry import METRICS

from ..feature_set import FeatureSet, check_feature_file_suffix, sample_record


@METRICS.register_module()
class DumpReIDFeatures(BaseMetric):
    """Pseudo-metric that writes the evaluated samples' feature set.

    Append it to an evaluator to save what the Re-ID metric saw:
    ``tools/test.py --dump`` does, and so does a config with::

        test_evaluator = [
            dict(type='ReIDMetric'),
            dict(type='DumpReIDFeatures', out_file='feats.pkl'),
        ]

    Under DDP the rows are gathered from all ranks in dataset order and
    written once, by rank 0. It reports no metric.

    Args:
        out_file (str): Destination, ``.npz``, ``.pkl`` or ``.pickle``.
        collect_device (str): ``'cpu'`` or ``'gpu'``, how results are
            gathered across ranks. Defaults to ``'cpu'``.
    """

    default_prefix = 'dump'

    def __init__(self, out_file: str, collect_device: str = 'cpu') -> None:
        try:
            check_feature_file_suffix(str(out_file))
        except ValueError as err:
            raise ValueError(f'DumpReIDFeatures: {err}') from err
        super().__init__(collect_device=collect_device)
        self.out_file = str(out_file)

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep the record of each sample of a batch."""
        self.results.extend(sample_record(s) for s in data_samples)

    def compute_metrics(self, results: List[dict]) -> dict:
        """Write the feature set of all samples; report nothing."""
        features = FeatureSet.from_records(results, 'DumpReIDFeatures')
        features.save(self.out_file)
        print_log(
            f'Dumped the features of {len(features)} samples '
            f'({features.feats.shape[1]}-d) to '
            f'{osp.abspath(self.out_file)}',
            logger='current')
        return {}
