# Copyright (c) mmieee contributors.
"""Dump the test features of a Re-ID model as one plain structure.

:class:`DumpReIDFeatures` is a pseudo-metric (as mmdet's ``DumpDetResults``)
that ``tools/test.py --dump`` appends to the evaluator; users can add it to
any ``test_evaluator``. :func:`collect_features` builds the structure, also
for :func:`mmieee.apis.extract_features`. A feature set is a dict of NumPy
arrays, one row per sample in dataset order:

* ``feats``: (N, D) float32, the model's ``pred_feature`` (D = M·P·C,
  2304 for the full IEEE model);
* ``gallery_feats``: (N, D) float32, the model's ``pred_gallery_feature``,
  when it gives one (cross-modal protocol: ``feats`` are then the samples'
  query-side features, ``gallery_feats`` their gallery-side ones);
* ``pids``, ``camids``: (N,) int64; ``sceneids`` (N,) int64 when every
  sample has one (MSVR310);
* ``is_query``, ``is_gallery``: (N,) bool, when the samples carry them;
* ``img_paths``: list of N lists of M paths, when known.
"""
import os.path as osp
from typing import Dict, List, Sequence

import mmengine
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmieee.registry import METRICS

#: Metadata copied from every sample when present: key in the data sample
#: -> key of the feature set and its dtype (None: kept as a list).
META_FIELDS = (('pid', 'pids', np.int64), ('camid', 'camids', np.int64),
               ('sceneid', 'sceneids', np.int64),
               ('is_query', 'is_query', bool),
               ('is_gallery', 'is_gallery', bool),
               ('img_path', 'img_paths', None))


def _record(sample) -> dict:
    """One sample's feature (CPU tensor) and metadata as a flat dict."""
    if isinstance(sample, BaseDataElement):
        sample = sample.to_dict()
    if 'pred_feature' not in sample:
        raise KeyError('a data sample has no "pred_feature": the model must '
                       'be run in predict mode (model.test_step / '
                       "model(..., mode='predict'))")
    record = {
        key: torch.as_tensor(sample[key]).detach().float().cpu().reshape(-1)
        for key in ('pred_feature', 'pred_gallery_feature') if key in sample
    }
    for key, _, _ in META_FIELDS:
        if key in sample:
            value = sample[key]
            if isinstance(value, torch.Tensor):
                value = value.item()
            record[key] = value
    return record


def collect_features(samples: Sequence) -> Dict[str, object]:
    """Stack the features and metadata of predicted data samples.

    Args:
        samples (Sequence[DataSample | dict]): Outputs of the model's
            ``predict`` / ``test_step`` (or their ``to_dict()``), each with a
            1-D ``pred_feature``.

    Returns:
        dict: The feature set described in the module docstring. A metadata
        key appears only if every sample has it.

    Raises:
        KeyError: A sample has no ``pred_feature``.
        ValueError: ``samples`` is empty, the features differ in length or
            only some samples have a ``pred_gallery_feature``.
    """
    records = [_record(s) for s in samples]
    if not records:
        raise ValueError('collect_features: no samples')
    dims = {r['pred_feature'].numel() for r in records}
    if len(dims) != 1:
        raise ValueError(
            f'collect_features: features of different sizes {sorted(dims)}')
    out: Dict[str, object] = {
        'feats': torch.stack([r['pred_feature'] for r in records]).numpy()
    }
    two_sided = sum('pred_gallery_feature' in r for r in records)
    if two_sided not in (0, len(records)):
        raise ValueError(f'collect_features: {two_sided} of {len(records)} '
                         'samples have a "pred_gallery_feature"')
    if two_sided:
        out['gallery_feats'] = torch.stack(
            [r['pred_gallery_feature'] for r in records]).numpy()
    for key, name, dtype in META_FIELDS:
        if all(key in r for r in records):
            values = [r[key] for r in records]
            out[name] = values if dtype is None else np.asarray(
                values, dtype=dtype)
    return out


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
        out_file (str): Destination, ``.pkl`` / ``.pickle``.
        collect_device (str): ``'cpu'`` or ``'gpu'``, how results are
            gathered across ranks. Defaults to ``'cpu'``.
    """

    default_prefix = 'dump'

    def __init__(self, out_file: str, collect_device: str = 'cpu') -> None:
        if not str(out_file).endswith(('.pkl', '.pickle')):
            raise ValueError(
                f'DumpReIDFeatures: out_file={out_file!r} must end with '
                '.pkl or .pickle')
        super().__init__(collect_device=collect_device)
        self.out_file = str(out_file)

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep the feature and metadata of each sample of a batch."""
        self.results.extend(_record(s) for s in data_samples)

    def compute_metrics(self, results: List[dict]) -> dict:
        """Write the feature set of all samples; report nothing."""
        out_dir = osp.dirname(osp.abspath(self.out_file))
        mmengine.mkdir_or_exist(out_dir)
        features = collect_features(results)
        mmengine.dump(features, self.out_file)
        print_log(
            f'Dumped the features of {len(features["feats"])} samples '
            f'({features["feats"].shape[1]}-d) to '
            f'{osp.abspath(self.out_file)}',
            logger='current')
        return {}
