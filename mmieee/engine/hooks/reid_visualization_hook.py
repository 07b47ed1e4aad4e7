# Copyright (c) mmieee contributors.
"""Rank lists of a test run (``tools/test.py --show-dir DIR``), the
mmpretrain ``VisualizationHook`` way.

A classification hook can draw each sample when its batch is done; a rank
list needs the whole gallery. So the hook keeps the features and ids of
every test sample (gathered across processes as the metric gathers them),
ranks them after the test epoch with the test evaluator's own
:class:`~mmieee.evaluation.ReIDMetric` settings
(:func:`mmieee.visualization.rank_queries`, the metric's functions) and
draws the chosen queries with :class:`~mmieee.visualization.ReIDVisualizer`.
"""
from typing import List, Optional, Sequence

from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.visualization import Visualizer

from mmieee.evaluation.metrics import collect_features
from mmieee.registry import HOOKS


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
        from mmieee.visualization import ORDERS
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
        self._samples: List[dict] = []

    def before_test_epoch(self, runner) -> None:
        self._samples = []

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Keep each sample's feature and metadata (CPU)."""
        if not self.enable:
            return
        for sample in outputs or ():
            sample = sample.to_dict() if hasattr(sample, 'to_dict') \
                else dict(sample)
            sample['pred_feature'] = sample['pred_feature'].detach().cpu()
            self._samples.append({
                k: v
                for k, v in sample.items() if k in (
                    'pred_feature', 'pid', 'camid', 'sceneid', 'is_query',
                    'is_gallery', 'img_path', 'sample_idx')
            })

    @staticmethod
    def _visualizer():
        """The runner's ReIDVisualizer, or one of the hook's own.

        Returns:
            tuple: The visualizer and whether it is the runner's (only then
            are the pictures also sent to the vis backends).
        """
        from mmieee.visualization import ReIDVisualizer
        current = Visualizer.get_current_instance()
        if isinstance(current, ReIDVisualizer):
            return current, True
        print_log(
            f'ReIDVisualizationHook: the visualizer is a '
            f'{type(current).__name__}, not a ReIDVisualizer; the rank '
            'lists are drawn by a ReIDVisualizer of their own and only '
            "written to out_dir (set visualizer=dict(type='ReIDVisualizer', "
            '...) to send them to the vis backends too)',
            logger='current',
            level=30)
        return ReIDVisualizer.get_instance('reid_visualization_hook'), False

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Rank the gathered features and draw the chosen queries."""
        if not self.enable:
            return
        from mmieee.visualization import (SampleImageLoader, find_reid_metric,
                                          rank_queries, select_queries)
        from mmieee.visualization.rank_list import write_rank_lists
        dataset = runner.test_dataloader.dataset
        samples = collect_results(self._samples, len(dataset))
        self._samples = []
        if not is_main_process():
            return
        features = collect_features(samples)
        # Dataset index of each feature row (collect_results restores the
        # dataset order; sample_idx says it when the pipeline packs it).
        order = [int(s.get('sample_idx', i)) for i, s in enumerate(samples)]
        metric = find_reid_metric(runner.test_evaluator,
                                  'the test evaluator')
        ranked = rank_queries(features, metric, self.topk,
                              'ReIDVisualizationHook')
        positions = select_queries(ranked, self.num_queries, self.order,
                                   self.seed)
        loader = SampleImageLoader(dataset)
        visualizer, is_runners = self._visualizer()
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
