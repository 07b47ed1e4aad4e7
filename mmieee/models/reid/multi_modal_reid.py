# Copyright (c) mmieee contributors.
"""Multi-modal Re-ID model: backbone -> neck -> head (paper Fig. 3; the data
flow is described in docs/architecture.md).

Modes of ``forward(inputs, data_samples, mode)``, ``inputs`` being the
(B, M, C, H, W) float batch from the data preprocessor:

- ``'loss'``: dict of losses (``loss_ce``, ``loss_3m``, ...) and ``acc_top1``;
- ``'predict'``: the data samples with ``pred_feature`` (1-D, M·P·C values);
- ``'tensor'``: the (B, D) test feature (``head.test_features``; D = M·P·C
  for IEEE).

Missing-modality protocol: ``test_cfg=dict(blank_modalities=('NI',))`` sets
the named modalities (names from ``modalities`` or indices) to zero after the
data preprocessor, i.e. to the normalised mean, in ``'predict'`` and
``'tensor'`` modes only.

Missing modalities reconstructed by the neck (TOP-ReID's ``TEST.MISS``):
``test_cfg=dict(missing_modalities=('RGB',))`` (any non-empty proper subset)
makes ``'predict'`` and ``'tensor'`` call ``neck(maps, missing=[indices])``;
a neck that can do it declares ``reconstructs_missing`` (e.g.
:class:`~mmieee.models.necks.TOPReIDNeck`, whose CRM replaces the missing
streams' tokens), any other neck is refused when the option is set, naming
it. The images of those modalities are still fed (and blanked if
``blank_modalities`` says so); the neck does not read their features.

Contracts checked here, where data enters the model: the data samples'
``modalities`` (every packed sample carries its dataset's order) must equal
``modalities``, and a training loss that is NaN or infinite stops training
(``train_cfg=dict(non_finite_loss='error')``, the default) naming the
iteration, the epoch and every loss term, before anything is saved; with
``'skip'`` the batch is dropped instead (see :meth:`parse_losses`).

Cross-modal protocol (paper § "Difference from Cross-modal Re-ID", Table 2):
``test_cfg=dict(query_blank_modalities=('NI', 'TI'),
gallery_blank_modalities=('RGB', 'NI'))`` blanks differently for the query
and the gallery side (here RGB queries against a TI gallery). A test sample
may be a query and a gallery item at once (RGBNT201), so ``'predict'`` then
gives every sample two features: ``pred_feature`` with the query side's
blanking and ``pred_gallery_feature`` with the gallery side's;
:class:`ReIDMetric` ranks query features against gallery features.
``'tensor'`` mode (one feature per sample) refuses this setting.

Camera ids: a backbone with a camera embedding (``needs_camids``, e.g.
:class:`~mmieee.models.backbones.ReIDViT` with ``num_cameras > 0``) gets the
(B,) ``camid`` of the data samples, checked here (:meth:`camera_ids`).

The parameter count of the full-size model, part by part, is in
docs/paper_to_code.md.
"""
import copy
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as torch_dist
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample
from torch import nn

from mmieee.registry import MODELS

_TEST_CFG_KEYS = ('blank_modalities', 'query_blank_modalities',
                  'gallery_blank_modalities', 'missing_modalities')
_TRAIN_CFG_KEYS = ('non_finite_loss', )
_NON_FINITE_ACTIONS = ('error', 'skip')


def _with_modalities(cfg: dict, part: str, num_modalities: int,
                     origin: str) -> dict:
    cfg = copy.deepcopy(dict(cfg))
    have = cfg.setdefault('num_modalities', num_modalities)
    if have != num_modalities:
        raise ValueError(
            f'MultiModalReID: {part}.num_modalities={have} but {origin}')
    return cfg


@MODELS.register_module()
class MultiModalReID(BaseModel):
    """Multi-modal object Re-ID model (mmengine ``BaseModel``).

    Args:
        backbone (dict): e.g. :class:`MultiStreamBackbone` config.
        neck (dict): e.g. :class:`IEEENeck` config.
        head (dict): e.g. :class:`IEEEHead` config.
        data_preprocessor (dict | nn.Module, optional): Built from mmieee's
            ``MODELS``; configs use ``dict(type='MultiModalDataPreprocessor',
            mean=..., std=...)``. None gives mmengine's
            ``BaseDataPreprocessor`` (device transfer only: inputs must
            already be normalised floats). Defaults to None.
        modalities (Sequence[str]): Modality names in input order; M =
            len(modalities) is filled into the backbone config, and the
            neck and head get the number of branches of the part before
            them (M, unless it fuses; a contradicting ``num_modalities``
            there is an error). Defaults to ('RGB', 'NI', 'TI').
        test_cfg (dict, optional): ``blank_modalities`` (names or indices
            of modalities zeroed in predict/tensor mode), or
            ``query_blank_modalities`` / ``gallery_blank_modalities`` (the
            cross-modal protocol above); ``missing_modalities`` (names or
            indices the neck reconstructs, above). Defaults to None.
        train_cfg (dict, optional): ``non_finite_loss``: ``'error'``
            (default: stop at the first NaN / inf loss) or ``'skip'`` (drop
            such batches, see :meth:`parse_losses`). Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 modalities: Sequence[str] = ('RGB', 'NI', 'TI'),
                 test_cfg: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            # Build from our registry: mmengine's BaseModel would use the root
            # registry, which only finds mmieee modules under default_scope.
            data_preprocessor = MODELS.build(copy.deepcopy(data_preprocessor))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        modalities = tuple(modalities)
        if not modalities or len(set(modalities)) != len(modalities):
            raise ValueError('MultiModalReID: modalities must be non-empty '
                             f'and unique, got {modalities}')
        self.modalities = modalities
        num = len(modalities)
        self.backbone = MODELS.build(
            _with_modalities(backbone, 'backbone', num,
                             f'modalities has {num} entries'))
        #: The backbone adds a camera embedding: every batch must carry
        #: each sample's camid (checked by :meth:`camera_ids`).
        self.backbone_needs_camids = bool(
            getattr(self.backbone, 'needs_camids', False))
        # A fusing backbone or neck (mmieee.models.fusions) declares how many
        # branches it outputs (e.g. 1 fused map); the next part is built for
        # that many. Without the attribute a part keeps one branch per input.
        num = getattr(self.backbone, 'num_branches', num)
        self.neck = MODELS.build(
            _with_modalities(neck, 'neck', num,
                             f'the backbone outputs {num} branch(es)'))
        num = getattr(self.neck, 'num_branches', num)
        self.head = MODELS.build(
            _with_modalities(head, 'head', num,
                             f'the neck outputs {num} branch(es)'))
        self.test_cfg = dict(test_cfg or {})
        unknown = set(self.test_cfg) - set(_TEST_CFG_KEYS)
        if unknown:
            raise ValueError(f'MultiModalReID: unknown test_cfg keys '
                             f'{sorted(unknown)}; known: {_TEST_CFG_KEYS}')
        self.set_blank_modalities(
            self.test_cfg.get('blank_modalities') or (),
            query=self.test_cfg.get('query_blank_modalities'),
            gallery=self.test_cfg.get('gallery_blank_modalities'))
        self.set_missing_modalities(
            self.test_cfg.get('missing_modalities') or ())
        self.train_cfg = dict(train_cfg or {})
        unknown = set(self.train_cfg) - set(_TRAIN_CFG_KEYS)
        if unknown:
            raise ValueError(f'MultiModalReID: unknown train_cfg keys '
                             f'{sorted(unknown)}; known: {_TRAIN_CFG_KEYS}')
        self.non_finite_loss = self.train_cfg.get('non_finite_loss', 'error')
        if self.non_finite_loss not in _NON_FINITE_ACTIONS:
            raise ValueError(
                'MultiModalReID: train_cfg.non_finite_loss must be one of '
                f'{_NON_FINITE_ACTIONS}, got {self.non_finite_loss!r}')
        self._buffer_snapshot: Optional[Dict[str, torch.Tensor]] = None

    def set_blank_modalities(
            self,
            blank: Union[str, int, Sequence[Union[str, int]]] = (),
            query: Optional[Union[str, int, Sequence]] = None,
            gallery: Optional[Union[str, int, Sequence]] = None) -> None:
        """Choose the modalities zeroed in predict/tensor mode.

        Args:
            blank (str | int | Sequence): Modality names (from
                ``modalities``) or indices blanked for every sample; empty
                for none.
            query (str | int | Sequence, optional): Blanked in the query
                feature only (cross-modal protocol). Defaults to None.
            gallery (str | int | Sequence, optional): Blanked in the gallery
                feature only. Defaults to None. Giving ``query`` or
                ``gallery`` (even empty) turns the two-feature mode on.

        Raises:
            ValueError: An unknown name (the message lists the available
                ones), an out-of-range index, or ``blank`` together with
                ``query`` / ``gallery``.
        """
        indices = self._resolve_blank(blank)
        two_sided = query is not None or gallery is not None
        if two_sided and indices:
            raise ValueError(
                'MultiModalReID: test_cfg sets blank_modalities '
                f'{[self.modalities[i] for i in indices]} together with '
                'query_blank_modalities / gallery_blank_modalities; give '
                'either the one for both sides or the two per side')
        self.blank_indices = indices
        self.query_blank_indices = self._resolve_blank(
            query or ()) if two_sided else None
        self.gallery_blank_indices = self._resolve_blank(
            gallery or ()) if two_sided else None
        names = {
            'blank_modalities': indices,
            'query_blank_modalities': self.query_blank_indices,
            'gallery_blank_modalities': self.gallery_blank_indices
        }
        for key, value in names.items():
            self.test_cfg[key] = None if value is None else [
                self.modalities[i] for i in value
            ]

    def _resolve_blank(self, blank: Union[str, int, Sequence],
                       key: str = 'blank_modalities') -> List[int]:
        if isinstance(blank, (str, int)):
            blank = (blank, )
        indices = []
        for item in blank:
            if isinstance(item, str):
                if item not in self.modalities:
                    raise ValueError(
                        f'MultiModalReID: test_cfg.{key} names '
                        f'{item!r}, not one of the available modalities '
                        f'{self.modalities}')
                indices.append(self.modalities.index(item))
            elif isinstance(item, int) and \
                    -len(self.modalities) <= item < len(self.modalities):
                indices.append(item % len(self.modalities))
            else:
                raise ValueError(
                    f'MultiModalReID: test_cfg.{key} entry '
                    f'{item!r} is neither a modality name of '
                    f'{self.modalities} nor an index in '
                    f'[0, {len(self.modalities)})')
        return sorted(set(indices))

    def set_missing_modalities(
            self, missing: Union[str, int, Sequence[Union[str, int]]] = ()
    ) -> None:
        """Choose the modalities the neck reconstructs in predict/tensor
        mode (module docstring).

        Args:
            missing (str | int | Sequence): Modality names (from
                ``modalities``) or indices; empty for none.

        Raises:
            ValueError: An unknown name or index, every modality at once
                (nothing to reconstruct from), or a neck that cannot
                reconstruct (its type named).
        """
        indices = self._resolve_blank(missing, 'missing_modalities')
        if indices and len(indices) == len(self.modalities):
            raise ValueError(
                'MultiModalReID: test_cfg.missing_modalities lists every '
                f'modality {list(self.modalities)}; at least one must be '
                'present for the neck to reconstruct the others from')
        if indices and not getattr(self.neck, 'reconstructs_missing', False):
            neck = type(self.neck).__name__
            raise ValueError(
                'MultiModalReID: test_cfg.missing_modalities='
                f'{[self.modalities[i] for i in indices]} needs a neck that '
                f'reconstructs missing modalities, and {neck} does not '
                '(TOPReIDNeck with a crm does); use '
                'test_cfg.blank_modalities to zero their images instead')
        self.missing_indices = indices
        self.test_cfg['missing_modalities'] = [
            self.modalities[i] for i in indices
        ]

    def _stack(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
               ) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5 or inputs.size(1) != len(self.modalities):
            raise ValueError(
                f'MultiModalReID expects inputs (B, M={len(self.modalities)},'
                f' C, H, W) for modalities {self.modalities}, got '
                f'{tuple(inputs.shape)}')
        if not inputs.is_floating_point():
            raise TypeError(
                'MultiModalReID got integer inputs: configure a data '
                "preprocessor (dict(type='MultiModalDataPreprocessor', ...))")
        return inputs

    def check_modalities(self, data_samples: Optional[Sequence]) -> None:
        """Refuse a batch whose samples were loaded in another modality
        order (or with other modalities) than the model's.

        Args:
            data_samples (Sequence[DataSample], optional): The batch's
                samples; those without ``modalities`` metainfo are not
                checked.

        Raises:
            ValueError: Naming both orders.
        """
        if not data_samples:
            return
        found = {
            tuple(s.metainfo['modalities'])
            for s in data_samples if 'modalities' in s.metainfo
        }
        wrong = sorted(found - {self.modalities})
        if wrong:
            raise ValueError(
                f'MultiModalReID: the batch holds modalities {list(wrong[0])}'
                f' but the model was built for {list(self.modalities)}: set '
                'the dataset\'s modalities= to the model\'s modalities, in '
                'the same order (a model stream only works on the modality '
                'it was trained on)')

    def blank(self,
              inputs: torch.Tensor,
              indices: Optional[List[int]] = None) -> torch.Tensor:
        """Zero modalities of a (B, M, C, H, W) batch (returns a new tensor
        when there is something to blank).

        Args:
            inputs (Tensor): (B, M, C, H, W).
            indices (list[int], optional): Modalities to zero; defaults to
                those of ``test_cfg.blank_modalities``.
        """
        if indices is None:
            indices = self.blank_indices
        if not indices:
            return inputs
        inputs = inputs.clone()
        inputs[:, indices] = 0
        return inputs

    def camera_ids(self, data_samples: Optional[Sequence],
                   device: torch.device) -> torch.Tensor:
        """The (B,) camera ids of a batch, checked where they enter.

        Args:
            data_samples (Sequence[DataSample], optional): With metainfo
                ``camid`` (0-based, as the datasets set it).
            device (torch.device): Where the ids go.

        Raises:
            ValueError: No data samples, a sample without ``camid`` (its
                index named), or an id outside the camera embedding table.
        """
        num = self.backbone.num_cameras
        what = ('MultiModalReID: the backbone adds a camera embedding of '
                f'{num} cameras and needs each sample\'s "camid" (0-based '
                'camera id, in the data sample metainfo)')
        if not data_samples:
            raise ValueError(f'{what}; no data samples were given')
        ids = []
        for i, sample in enumerate(data_samples):
            camid = sample.metainfo.get('camid')
            if camid is None:
                raise ValueError(
                    f'{what}; data sample {i} has none (its metainfo keys: '
                    f'{sorted(sample.metainfo)})')
            if not 0 <= int(camid) < num:
                raise ValueError(
                    f'MultiModalReID: data sample {i} has camid {int(camid)}'
                    f', outside the camera embedding table of {num} cameras '
                    f'(camids 0..{num - 1}: the cameras of the training split '
                    'the model was built for)')
            ids.append(int(camid))
        return torch.tensor(ids, dtype=torch.long, device=device)

    def _check_camids(self, camids: torch.Tensor, batch: int) -> None:
        """Camera ids given directly (``camids=``): (B,) integers of the
        table."""
        num = self.backbone.num_cameras
        if camids.shape != (batch, ) or camids.is_floating_point():
            raise ValueError(
                f'MultiModalReID: camids must be (B,) = ({batch},) integers, '
                f'got {tuple(camids.shape)} {camids.dtype}')
        if batch and not (0 <= int(camids.min()) and int(camids.max()) < num):
            raise ValueError(
                f'MultiModalReID: camids {camids.tolist()} outside the '
                f'camera embedding table of {num} cameras (0..{num - 1})')

    def extract_feat(self,
                     inputs: torch.Tensor,
                     data_samples: Optional[Sequence] = None,
                     camids: Optional[torch.Tensor] = None,
                     missing: Optional[Sequence[int]] = None):
        """Backbone + neck.

        Args:
            inputs (Tensor): (B, M, C, H, W).
            data_samples (Sequence[DataSample], optional): Where the camera
                ids come from when the backbone needs them.
            camids (Tensor, optional): (B,) camera ids given directly (ONNX
                export, tensor mode); overrides ``data_samples``.
            missing (Sequence[int], optional): Modality indices the neck
                reconstructs (``neck(maps, missing=...)``); None or empty
                calls ``neck(maps)``.

        Returns:
            The neck's output: (B, M, P, C_out) part embeddings for IEEE, a
            dict of named features for TOP-ReID.
        """
        if self.backbone_needs_camids:
            if camids is None:
                camids = self.camera_ids(data_samples, inputs.device)
            elif not torch.jit.is_tracing():
                self._check_camids(camids, inputs.shape[0])
            maps = self.backbone(inputs, camids=camids)
        else:
            maps = self.backbone(inputs)
        self._check_backbone_output(maps, inputs.shape)
        if missing:
            return self.neck(maps, missing=list(missing))
        return self.neck(maps)

    def _check_backbone_output(self, maps: Sequence[torch.Tensor],
                               input_shape: torch.Size) -> None:
        """The neck's ``in_channels`` and ``num_parts`` must fit the maps
        the backbone really gives (both are written in the config, far from
        the backbone that decides them)."""
        # (B, C, h, w) maps of a CNN, (B, 1 + N, C) tokens of a ViT
        dim = 1 if maps[0].dim() == 4 else -1
        channels = getattr(self.neck, 'in_channels', None)
        if channels is not None and maps[0].shape[dim] != channels:
            raise ValueError(
                f'model.neck.in_channels={channels} but the backbone gives '
                f'{maps[0].shape[dim]}-channel maps: set model.neck.'
                f'in_channels={maps[0].shape[dim]}')
        parts = getattr(self.neck, 'num_parts', None)
        if parts is not None and maps[0].dim() == 4 and \
                maps[0].shape[2] < parts:
            raise ValueError(
                f'model.neck.num_parts={parts} (and model.head.num_parts) '
                f'but the backbone\'s maps are only {maps[0].shape[2]} rows '
                f'high for {tuple(int(x) for x in input_shape[-2:])} inputs: '
                f'use at most {maps[0].shape[2]} parts or a larger input size')

    def forward(self,
                inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor',
                camids: Optional[torch.Tensor] = None
                ) -> Union[Dict[str, torch.Tensor], List[DataSample],
                           torch.Tensor]:
        """Run the model in ``'loss'``, ``'predict'`` or ``'tensor'`` mode.

        Args:
            inputs (Tensor | Sequence[Tensor]): (B, M, C, H, W) float batch
                (or B tensors of shape (M, C, H, W)).
            data_samples (list[DataSample], optional): needed (with
                ``gt_label``) for ``'loss'``.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.
            camids (Tensor, optional): (B,) camera ids for a backbone with a
                camera embedding when there are no data samples (``'tensor'``
                mode, e.g. ONNX export); otherwise they come from the data
                samples' ``camid``.

        Returns:
            dict | list[DataSample] | Tensor: losses; data samples with
            ``pred_feature`` (and ``pred_gallery_feature`` under the
            cross-modal protocol); or the (B, M·P·C_out) feature.
        """
        inputs = self._stack(inputs)
        self.check_modalities(data_samples)
        if mode == 'loss':
            if data_samples is None:
                raise ValueError("MultiModalReID: mode='loss' needs "
                                 'data_samples with gt_label')
            if self.non_finite_loss == 'skip':
                self._snapshot_buffers()
            return self.head.loss(self.extract_feat(inputs, data_samples),
                                  data_samples)
        if mode == 'predict':
            missing = self.missing_indices
            if self.query_blank_indices is None:
                return self.head.predict(
                    self.extract_feat(self.blank(inputs), data_samples,
                                      missing=missing), data_samples)
            samples = self.head.predict(
                self.extract_feat(
                    self.blank(inputs, self.query_blank_indices),
                    data_samples, missing=missing), data_samples)
            gallery = self.head.test_features(self.extract_feat(
                self.blank(inputs, self.gallery_blank_indices),
                data_samples, missing=missing))
            for sample, feat in zip(samples, gallery):
                sample.set_field(feat, 'pred_gallery_feature')
            return samples
        if mode == 'tensor':
            if self.query_blank_indices is not None:
                raise ValueError(
                    "MultiModalReID: 'tensor' mode gives one feature per "
                    'sample, but test_cfg blanks query and gallery '
                    "differently; use 'predict' (pred_feature = query "
                    'side, pred_gallery_feature = gallery side)')
            return self.head.test_features(
                self.extract_feat(self.blank(inputs), data_samples, camids,
                                  self.missing_indices))
        raise ValueError(f'MultiModalReID: invalid mode {mode!r}; expected '
                         "'loss', 'predict' or 'tensor'")

    def _snapshot_buffers(self) -> None:
        """Copy the buffers (BatchNorm statistics and counters) so that a
        skipped batch can leave them as they were."""
        self._buffer_snapshot = {
            name: buf.detach().clone()
            for name, buf in self.named_buffers()
        }

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """mmengine's loss parsing, plus the non-finite loss guard.

        Every loss term is checked (one host sync per iteration, which the
        logger makes anyway); in a distributed run the ranks agree, so all
        stop or skip together.

        * ``non_finite_loss='error'``: raise :class:`FloatingPointError`
          naming the iteration, the epoch and each term's value. The
          optimizer has not stepped and no checkpoint has been written.
        * ``'skip'``: log a warning and return a loss whose gradient is zero
          for every parameter; the BatchNorm statistics the batch changed
          are restored. SGD's momentum and weight decay still act on that
          step, as for a batch of zero loss.

        Args:
            losses (dict): The head's losses (and accuracies).

        Returns:
            tuple[Tensor, dict]: The total loss and the log variables.
        """
        loss, log_vars = super().parse_losses(losses)
        terms = {k: v for k, v in log_vars.items() if 'loss' in k}
        finite = torch.stack([v.detach().float() for v in terms.values()])
        bad = (~torch.isfinite(finite)).any().float().reshape(1)
        if torch_dist.is_available() and torch_dist.is_initialized() \
                and torch_dist.get_world_size() > 1:
            torch_dist.all_reduce(bad, op=torch_dist.ReduceOp.MAX)
        if not bool(bad.item()):
            return loss, log_vars
        hub = MessageHub.get_current_instance()
        values = ', '.join(f'{k}={float(v.detach()):.6g}'
                           for k, v in terms.items())
        where = (f'iteration {hub.get_info("iter", -1) + 1} (epoch '
                 f'{hub.get_info("epoch", -1) + 1})')
        if self.non_finite_loss == 'error':
            raise FloatingPointError(
                f'Non-finite training loss at {where}: {values} (on this '
                'rank, or on another one). Training stopped before the '
                'optimizer step; nothing was saved. Look for NaN / inf in '
                'the inputs of this batch or lower the learning rate; set '
                "model.train_cfg.non_finite_loss='skip' to drop such "
                'batches instead.')
        print_log(f'Skipping the batch of {where}: non-finite loss '
                  f'({values}).', logger='current', level=logging.WARNING)
        if self._buffer_snapshot is not None:
            for name, buf in self.named_buffers():
                if name in self._buffer_snapshot:
                    buf.copy_(self._buffer_snapshot[name])
        zero = sum(p.sum() * 0 for p in self.parameters() if p.requires_grad)
        log_vars = type(log_vars)(
            (k, torch.zeros_like(v.detach()) if 'loss' in k else v)
            for k, v in log_vars.items())
        return zero, log_vars
