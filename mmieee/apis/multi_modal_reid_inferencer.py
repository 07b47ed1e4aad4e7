# Copyright (c) mmieee contributors.
"""Search a gallery with your own multi-modal samples (mmengine
``BaseInferencer``, the pattern of mmpretrain's ``ImageRetrievalInferencer``).

::

    from mmieee.apis import MultiModalReIDInferencer
    inferencer = MultiModalReIDInferencer(
        'ieee_r18_1xb16-8e_synthetic-demo',      # or a config file
        'work_dirs/ieee_r18_1xb16-8e_synthetic-demo/epoch_8.pth',
        gallery='data/synthetic/RGBNT201/test')  # folder, dataset, features
    results = inferencer([('a/RGB/1.jpg', 'a/NI/1.jpg', 'a/TI/1.jpg')],
                         topk=5, out_dir='vis/')
    results[0]['matches'][0]  # rank 1: distance, pid, camid, img_paths

Ranking is the metric's (:meth:`mmieee.evaluation.RankingProtocol.rank`
with the settings of the config's ``ReIDMetric``), see
:mod:`.gallery_search`; a query whose ids are known (file names that follow a
dataset's rule) against a gallery with ids gets the protocol's exclusion of
same-id same-camera (MSVR310: same-scene) items, so rank 1 here is rank 1 in
the metric. Gallery features are cached (:mod:`.feature_cache`), keyed by
the weights the model holds.

Camera ids: a model with a camera embedding (TOP-ReID's ViT streams) embeds
every query and gallery item with its 0-based camera. It is read from the
file name when the name follows a dataset's rule (``..._cam2_...`` of
RGBNT201 is camera 1, ``..._c0003_...`` of RGBNT100 camera 2, MSVR310's view
digit), and dataset galleries carry their own; any other sample (arrays,
other names) is embedded as camera ``default_camid`` (0 unless given). With
``default_camid=None`` such a sample is an error naming the missing
``camid``. The default is not recorded as the sample's camera: the
protocol's same-camera exclusion only uses known cameras.
"""
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.infer import BaseInferencer
from rich.progress import track

from mmieee.evaluation import FeatureSet, RankingProtocol
from mmieee.utils.model_index import resolve_model
from mmieee.visualization import (draw_ranked_query, pick_visualizer,
                                  rank_list_title)

from .feature_cache import DEFAULT_CACHE_DIR, weights_sha256
from .gallery import build_feature_set, is_dataset_source, samples_feature_set
from .gallery_search import build_search
from .inference import init_model
from .sample_inputs import Sample, parse_samples
from .sample_pipeline import SamplePipeline


def load_rgb_images(paths: Sequence[str], num_modalities: int
                    ) -> List[np.ndarray]:
    """The M (H, W, 3) uint8 RGB images of a sample for drawing; one file
    for M modalities (RGBNT100: side by side) is cut into M equal parts."""
    imgs = [mmcv.imread(p, channel_order='rgb') for p in paths]
    for p, img in zip(paths, imgs):
        if img is None:
            raise ValueError(f'cannot read image {p!r}')
    if len(imgs) == 1 and num_modalities > 1:
        w = imgs[0].shape[1] // num_modalities
        imgs = [imgs[0][:, i * w:(i + 1) * w] for i in range(num_modalities)]
    return imgs


class MultiModalReIDInferencer(BaseInferencer):
    """Retrieve gallery items for multi-modal query samples.

    Args:
        model (str | Config): Config file, Config, or a model name of
            ``configs/*/metafile.yml``.
        weights (str, optional): Checkpoint; required with a model name that
            has no published weights. None keeps random weights (and turns
            the feature cache off).
        gallery (str | dict | list, optional): A dataset config, a folder
            (``<folder>/<modality>/<name>`` or a dataset root of the
            config's test dataset type), a feature file (``tools/test.py
            --dump`` pickle or ``.npz``), or samples. Can be set later with
            :meth:`set_gallery`.
        device (str, optional): Defaults to CUDA when available.
        backend (str): ``'exact'`` (the metric's code, default) or
            ``'faiss'`` (see :mod:`.gallery_search`).
        exclude (str, optional): ``'camera'``, ``'scene'`` or ``'none'``;
            None takes the config's ``ReIDMetric.exclude``.
        cache_dir (str, optional): Gallery feature cache; None disables it.
            Defaults to ``~/.cache/mmieee/galleries``.
        batch_size (int): Feature extraction batch size. Defaults to 32.
        cfg_options (dict, optional): Config overrides (dotted keys), e.g.
            ``{'model.test_cfg.blank_modalities': ['NI']}``.
        show_progress (bool, optional): Progress bars on stderr; None shows
            them only when stderr is a terminal.
        default_camid (int, optional): Camera of samples whose camera is
            unknown, for a model with a camera embedding (module
            docstring); None makes such a sample an error. Defaults to 0.
    """

    visualize_kwargs: set = {'out_dir'}

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 gallery: Union[str, dict, list, None] = None,
                 device: Optional[str] = None,
                 backend: str = 'exact',
                 exclude: Optional[str] = None,
                 cache_dir: Optional[str] = DEFAULT_CACHE_DIR,
                 batch_size: int = 32,
                 cfg_options: Optional[dict] = None,
                 show_progress: Optional[bool] = None,
                 default_camid: Optional[int] = 0) -> None:
        model, weights = resolve_model(model, weights)
        if isinstance(model, Path):
            model = str(model)
        if isinstance(model, str) and not osp.isfile(model):
            raise FileNotFoundError(f'config file {model!r} does not exist')
        if weights is not None and '://' not in weights and \
                not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint {weights!r} does not exist')
        self._cfg_options = cfg_options
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope='mmieee',
            show_progress=sys.stderr.isatty()
            if show_progress is None else bool(show_progress))
        self.weights = weights
        self._weights_sha256: Optional[str] = None
        self.modalities = tuple(self.model.modalities)
        self.default_camid = self._check_default_camid(default_camid)
        self.batch_size = int(batch_size)
        self.cache_dir = cache_dir
        self.protocol = RankingProtocol.from_config(self.model.cfg)
        if exclude is not None:
            self.protocol = self.protocol.replace(exclude=exclude)
        self.search = build_search(self.protocol, backend)
        self.gallery: Optional[FeatureSet] = None
        if gallery is not None:
            self.set_gallery(gallery)

    def _check_default_camid(self, camid: Optional[int]) -> Optional[int]:
        """``default_camid`` must be a camera of the model's table."""
        num = getattr(self.model.backbone, 'num_cameras', 0)
        if camid is None or not num:
            return camid
        if not isinstance(camid, int) or not 0 <= camid < num:
            raise ValueError(
                f'default_camid={camid!r} is not a camera of the model\'s '
                f'camera embedding (0..{num - 1})')
        return camid

    # ------------------------------------------------------------------
    # BaseInferencer hooks
    # ------------------------------------------------------------------
    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        # The one loading path of mmieee (strictness, modality checks).
        return init_model(cfg, weights, device, self._cfg_options)

    def _init_pipeline(self, cfg: Config) -> Callable:
        return SamplePipeline(self.model.cfg)

    def _init_collate(self, cfg: Config) -> Callable:
        # Packed samples stack into (B, M, C, H, W) (the configs' collate).
        return default_collate

    def _init_visualizer(self, cfg: Config):
        return pick_visualizer('mmieee_retrieval')[0]

    def _camid(self, sample: Sample) -> Optional[int]:
        """The camera a sample is embedded with (module docstring)."""
        if sample.camid is not None or not self.model.backbone_needs_camids:
            return sample.camid
        return self.default_camid

    def preprocess(self, inputs: List[Sample], batch_size: int = 1):
        """Packed, collated batches of query samples."""
        chunks = self._get_chunk_data(
            (self.pipeline(s.images, i, self._camid(s))
             for i, s in enumerate(inputs)), batch_size)
        yield from map(self.collate_fn, chunks)

    # ------------------------------------------------------------------
    # Gallery and queries
    # ------------------------------------------------------------------
    def set_gallery(self, gallery: Union[str, dict, list]) -> FeatureSet:
        """Extract (or read from the cache) the gallery's features.

        Args:
            gallery: See the class docstring.

        Returns:
            FeatureSet: The gallery, also kept as ``self.gallery``.
        """
        self.gallery = build_feature_set(
            self.model, gallery, weights=self.weights_key(),
            cache_dir=self.cache_dir, batch_size=self.batch_size,
            progress=self.show_progress, role='gallery',
            default_camid=self.default_camid)
        self.search.set_gallery(self.gallery)
        return self.gallery

    def weights_key(self) -> Optional[str]:
        """The gallery cache's key of the weights: the sha256 of those the
        model holds (computed once), whatever happens to the checkpoint
        file afterwards; None without a checkpoint or a cache."""
        if self.weights is None or self.cache_dir is None:
            return None
        if self._weights_sha256 is None:
            self._weights_sha256 = weights_sha256(self.model)
        return self._weights_sha256

    def _queries(self, inputs, batch_size: int):
        """``(features (Q, D), samples)``; samples carry the ids/paths."""
        if isinstance(inputs, Path):
            inputs = str(inputs)
        if is_dataset_source(inputs, self.modalities):
            fs = build_feature_set(
                self.model, inputs, batch_size=batch_size,
                progress=self.show_progress, role='query',
                default_camid=self.default_camid)
            samples = []
            for i, paths in enumerate(fs.img_paths):
                ids = {key[:-1]: int(getattr(fs, key)[i])
                       for key in ('pids', 'camids', 'sceneids')
                       if getattr(fs, key) is not None}
                samples.append(Sample(images=list(paths),
                                      name=Path(paths[0]).stem, **ids))
            return fs.feats, samples
        samples = parse_samples(inputs, self.modalities, 'query')
        batches = self.preprocess(samples, batch_size)
        if self.show_progress:
            batches = track(batches, description='Queries',
                            total=-(-len(samples) // batch_size))
        preds = []
        for data in batches:
            preds.extend(self.forward(data))
        return FeatureSet.from_samples(preds).feats, samples

    def _rank(self, q_feats: np.ndarray, samples: List[Sample],
              topk: int) -> Dict[str, np.ndarray]:
        """Top-k of every query; the protocol's exclusion for the queries
        whose pid and group are known (when the gallery's are)."""
        group = self.protocol.group_key
        known = np.array([
            group is not None and s.pid is not None
            and getattr(s, group[:-1]) is not None for s in samples
        ], dtype=bool)
        num = len(samples)
        out = dict(indices=np.full((num, topk), -1, dtype=np.int64),
                   distances=np.full((num, topk), np.nan),
                   num_excluded=np.zeros(num, dtype=np.int64))
        for rows, with_ids in ((np.flatnonzero(known), True),
                               (np.flatnonzero(~known), False)):
            if len(rows) == 0:
                continue
            queries = samples_feature_set(
                [samples[i] for i in rows], q_feats[rows], 'the queries')
            if not with_ids:
                queries.pids = queries.camids = queries.sceneids = None
            part = self.search.search(queries, topk)
            for key in out:
                out[key][rows] = part[key]
        return out

    # ------------------------------------------------------------------
    # The call
    # ------------------------------------------------------------------
    def __call__(self,
                 inputs,
                 topk: int = 10,
                 batch_size: Optional[int] = None,
                 out_dir: Optional[str] = None,
                 return_datasamples: bool = False) -> List[dict]:
        """Rank the gallery for each query.

        Args:
            inputs: One query (M image paths or arrays in the model's
                modality order, or ``{modality: image}``), a list of
                queries, a folder (``<folder>/<modality>/<name>`` or a
                dataset root: its ``is_query`` samples) or a dataset config.
            topk (int): Gallery items per query. Defaults to 10.
            batch_size (int, optional): Defaults to the inferencer's.
            out_dir (str, optional): Where :meth:`visualize` writes one
                rank-list picture per query; None draws nothing.
            return_datasamples (bool): Unused (kept for the interface);
                results are plain dicts.

        Returns:
            list[dict]: One per query, see :meth:`postprocess`.
        """
        if self.gallery is None:
            raise RuntimeError('no gallery: pass gallery= to the inferencer '
                               'or call set_gallery() first')
        topk = int(topk)
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        q_feats, samples = self._queries(inputs, batch_size or
                                         self.batch_size)
        if q_feats.shape[1] != self.gallery.feats.shape[1]:
            raise ValueError(
                f'the gallery {self.gallery.source!r} has '
                f'{self.gallery.feats.shape[1]}-d features, this model '
                f'gives {q_feats.shape[1]}-d ones: it was extracted with '
                'another model')
        ranked = self._rank(q_feats, samples, topk)
        results = self._results(samples, ranked)
        visualization = None
        if out_dir is not None:
            visualization = self.visualize(samples, results, out_dir=out_dir)
        return self.postprocess(results, visualization)

    def _results(self, samples: List[Sample],
                 ranked: Dict[str, np.ndarray]) -> List[dict]:
        g = self.gallery

        def ids(i) -> dict:
            return {
                key[:-1]: None if getattr(g, key) is None else int(
                    getattr(g, key)[i])
                for key in ('pids', 'camids', 'sceneids')
            }

        results = []
        for q, sample in enumerate(samples):
            matches = []
            for rank, (j, d) in enumerate(
                    zip(ranked['indices'][q], ranked['distances'][q]), 1):
                if j < 0:
                    break
                item = dict(rank=rank, gallery_index=int(j),
                            distance=float(d), **ids(j))
                item['img_paths'] = None if g.img_paths is None else list(
                    g.img_paths[j])
                item['same_id'] = None if (
                    sample.pid is None or item['pid'] is None) else bool(
                        sample.pid == item['pid'])
                matches.append(item)
            results.append(dict(
                query=dict(index=q, name=sample.name,
                           img_paths=sample.img_paths, pid=sample.pid,
                           camid=sample.camid, sceneid=sample.sceneid),
                num_excluded=int(ranked['num_excluded'][q]),
                matches=matches))
        return results

    def visualize(self,
                  inputs: List[Sample],
                  preds: List[dict],
                  out_dir: Optional[str] = None,
                  show: bool = False) -> Optional[List[np.ndarray]]:
        """Draw each query's rank list (:func:`mmieee.visualization.
        draw_ranked_query`, the drawing of ``vis_rank_list.py``: the query's
        M images, then each match's M images with its distance, ids and
        whether it is the same id).

        Args:
            inputs (list[Sample]): The queries.
            preds (list[dict]): Their results.
            out_dir (str, optional): Write ``<out_dir>/<i>_<name>.png``.
            show (bool): Unused (no window on a server); kept for the
                interface.

        Returns:
            list[np.ndarray]: RGB canvases.

        Raises:
            ValueError: A match has no image paths (a feature-file gallery
                without ``img_paths``).
        """
        m = len(self.modalities)
        canvases = []
        for sample, result in zip(inputs, preds):
            query = [
                img if isinstance(img, np.ndarray) else load_rgb_images(
                    [img], 1)[0] for img in sample.images
            ]
            gallery = []
            for match in result['matches']:
                if match['img_paths'] is None:
                    raise ValueError(
                        f'cannot draw gallery item {match["gallery_index"]}: '
                        f'the gallery {self.gallery.source!r} has no image '
                        'paths')
                gallery.append(load_rgb_images(match['img_paths'], m))
            query_ids = {k: result['query'][k]
                         for k in ('pid', 'camid', 'sceneid')}
            canvas = draw_ranked_query(
                self.visualizer, query, gallery, query_ids,
                [{k: x[k] for k in ('pid', 'camid', 'sceneid')}
                 for x in result['matches']],
                [x['distance'] for x in result['matches']],
                [x['same_id'] for x in result['matches']], self.modalities,
                rank_list_title(f'query {sample.name}', query_ids, None,
                                result['num_excluded']))
            if out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                path = osp.join(
                    out_dir, f'{result["query"]["index"]:04d}_'
                    f'{sample.name}.png')
                mmcv.imwrite(np.ascontiguousarray(canvas[..., ::-1]), path)
                result['vis_path'] = path
            canvases.append(canvas)
        return canvases

    def postprocess(self,
                    preds: List[dict],
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False) -> List[dict]:
        """The per-query results, JSON-serialisable: ``query`` (``index``,
        ``name``, ``img_paths``, ``pid``, ``camid``, ``sceneid``; None where
        unknown), ``num_excluded`` (gallery items removed by the protocol)
        and ``matches`` (nearest first: ``rank``, ``gallery_index``,
        ``distance``, ``pid``, ``camid``, ``sceneid``, ``img_paths``,
        ``same_id``), plus ``vis_path`` when a picture was written."""
        return preds
