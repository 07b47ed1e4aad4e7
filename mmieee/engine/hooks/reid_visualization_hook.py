# Copyright (c) mmieee contributors.
"""Rank lists of a test run (``tools/test.py --show-dir DIR``), the
mmpretrain ``VisualizationHook`` way.

A classification hook can draw each sample when its batch is done; a rank
list needs the whole gallery. So the hook keeps the record of every test
sample (:func:`mmieee.evaluation.sample_record`, gathered across processes
as the metric gathers them), ranks them after the test epoch with the test
evaluator's own ``ReIDMetric`` protocol (:func:`mmieee.visualization.
rank_rows`) and draws the chosen queries with
:class:`~mmieee.visualization.ReIDVisualizer`.
"""
from typing import List, Optional, Sequence

from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmieee.evaluation import FeatureSet, ReIDMetric, sample_record
from mmieee.registry import HOOKS
from mmieee.visualization import (ORDERS, SampleImageLoader, pick_visualizer,
                                  rank_rows, select_queries, write_rank_lists)


@HOOKS.register_module()
class ReIDVisualizationHook(Hook):
    """Draw the rank lists of chosen test queries after the test epoch.

    Args:
        enable (bool): Draw anything at all. Defaults to False (configs
            carry the hook disabled; ``tools/test.py --show-dir`` enables
            it).
        out_dir (str, optional): Folder of the PNGs and ``index.html``
            (relative to the working directory). None: the pictures only go
            to the visualizer's vis backends.
        num_queries (int): Queries drawn. Defaults to 20.
        topk (int): Gallery items per query. Defaults to 10.
        order (str): ``'worst'`` (lowest AP first), ``'best'`` or
            ``'random'``. Defaults to ``'worst'``.
        seed (int): Seed of the ``'random'`` order. Defaults to 0.
    """

    priority = 'LOW'

    def __init__(self,
                 enable: bool = False,
                 out_dir: Optional[str] = None,
                 num_queries: int = 20,
                 topk: int = 10,
                 order: str = 'worst',
                 seed: int = 0) -> None:
        if order not in ORDERS:
            raise ValueError(f'ReIDVisualizationHook: order must be one of '
                             f'{ORDERS}, got {order!r}')
        if int(num_queries) < 1 or int(topk) < 1:
            raise ValueError(
                'ReIDVisualizationHook: num_queries and topk must be >= 1, '
                f'got {num_queries} and {topk}')
        self.enable = enable
        self.out_dir = out_dir
        self.num_queries = int(num_queries)
        self.topk = int(topk)
        self.order = order
        self.seed = seed
        self._records: List[dict] = []

    def before_test_epoch(self, runner) -> None:
        self._records = []

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Keep the record of each sample."""
        if self.enable:
            self._records.extend(sample_record(s) for s in outputs or ())

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Rank the gathered features and draw the chosen queries."""
        if not self.enable:
            return
        dataset = runner.test_dataloader.dataset
        records = collect_results(self._records, len(dataset))
        self._records = []
        if not is_main_process():
            return
        features = FeatureSet.from_records(records, 'the test set')
        metric = [
            m for m in runner.test_evaluator.metrics
            if isinstance(m, ReIDMetric)
        ]
        if len(metric) != 1:
            raise ValueError(
                'ReIDVisualizationHook: the test evaluator must hold exactly '
                'one ReIDMetric (its settings define the ranking), found '
                f'{len(metric)}')
        ranked = rank_rows(features, metric[0].protocol, self.topk)
        positions = select_queries(ranked, self.num_queries, self.order,
                                   self.seed)
        # Dataset index of each feature row (collect_results restores the
        # dataset order; sample_idx says it when the pipeline packs it).
        order = features.sample_idx if features.sample_idx is not None \
            else range(len(features))
        order = [int(i) for i in order]
        loader = SampleImageLoader(dataset)
        visualizer, is_runners = pick_visualizer('reid_visualization_hook')
        if not is_runners:
            print_log(
                'ReIDVisualizationHook: the visualizer is not a '
                'ReIDVisualizer; the rank lists are drawn by a '
                'ReIDVisualizer of their own and only written to out_dir '
                "(set visualizer=dict(type='ReIDVisualizer', ...) to send "
                'them to the vis backends too)',
                logger='current',
                level=30)
        rows = write_rank_lists(
            visualizer,
            features,
            ranked,
            positions,
            lambda row: loader(order[row]),
            dataset.metainfo['modalities'],
            out_dir=self.out_dir,
            add_to_backends=is_runners,
            progress=False)
        where = f' to {self.out_dir}' if self.out_dir else ''
        runner.logger.info(f'ReIDVisualizationHook: wrote {len(rows)} rank '
                           f'list(s) ({self.order} AP first){where}')
