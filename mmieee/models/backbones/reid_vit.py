# Copyright (c) mmieee contributors.
"""A Vision Transformer for Re-ID: mmpretrain's ``VisionTransformer`` plus a
camera embedding and an output projection.

Two families of Re-ID transformers are covered by one class:

* **TransReID-style ViT** (He et al., "TransReID: Transformer-based Object
  Re-Identification", ICCV 2021, § 3.2 "Side Information Embeddings"; the
  stream of TOP-ReID): conv patch embedding with a configurable stride,
  post-attention-style pre-norm blocks with ``qkv_bias``, LayerNorm eps 1e-6,
  GELU, drop path; the camera embedding (SIE) ``lambda * E[camid]`` is added
  to **every** token together with the position embedding; all tokens are
  returned after the final LayerNorm.
* **CLIP's visual encoder** (Radford et al., ICML 2021; the shared encoder of
  DeMo): ``pre_norm`` (``ln_pre``), QuickGELU, a bias-free patch embedding,
  the camera embedding added to the **class token only**, and the 768 -> 512
  projection applied to every token after ``ln_post``.

What mmpretrain's class provides unchanged: the patch embedding, the
encoder layers (its ``MultiheadAttention`` computes attention with
``F.scaled_dot_product_attention``), the final norm, and the resizing of a
loaded ``pos_embed`` of another grid (a ``load_state_dict`` pre-hook; with
``interpolate_mode='bilinear'`` it is the resize of TransReID's and CLIP-ReID's
loaders). What this class adds, in :meth:`forward`: the camera embedding
(``camera_embed``, (num_cameras, 1, C), truncated-normal std 0.02 as
TransReID), the output projection (``proj``, (C, out_channels), as CLIP's
``visual.proj``), and, when deterministic algorithms are requested
(``randomness.deterministic=True`` sets them), attention through the math
kernel on GPU, whose backward is deterministic (the fused kernels'
backward is not); in :meth:`init_weights`, weight-loading initializers
other than ``Pretrained`` (e.g. ``CLIPVisualPretrained``) applied after the
random initialisation.
"""
import contextlib
from typing import Optional, Tuple

import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import nn

from mmieee.registry import MODELS, WEIGHT_INITIALIZERS
from mmieee.utils.arg_checks import check_int

from ..weight_init import split_weight_loaders

#: Where the camera embedding is added.
CAMERA_TOKENS = ('all', 'cls')


def deterministic_attention() -> contextlib.AbstractContextManager:
    """The math SDPA kernel when deterministic algorithms are on and a GPU
    runs the model (else a no-op context).

    Why: with ``torch.use_deterministic_algorithms(True)`` torch still picks
    the flash / memory-efficient attention kernels, whose backward adds in a
    non-deterministic order; the math kernel's does not.
    """
    if torch.are_deterministic_algorithms_enabled() and \
            torch.cuda.is_available():
        from torch.nn.attention import SDPBackend, sdpa_kernel
        return sdpa_kernel(SDPBackend.MATH)
    return contextlib.nullcontext()


@MODELS.register_module()
class ReIDViT(VisionTransformer):
    """ViT returning all tokens, with a camera embedding (module docstring).

    Args:
        num_cameras (int): Rows of the camera embedding table: the number
            of cameras of the training split (camids 0 .. num_cameras - 1).
            0 disables it (then no camera id is needed).
        camera_embed_coef (float): The factor lambda of the camera
            embedding (TOP-ReID's ``SIE_COE`` 3.0; DeMo's 1.0).
            Defaults to 1.0.
        camera_tokens (str): ``'all'`` (TransReID: every token) or
            ``'cls'`` (DeMo: the class token only). Defaults to ``'all'``.
        out_channels (int, optional): Channels of a bias-free linear
            projection applied to every output token (CLIP's ``proj``, 512
            for ViT-B/16). None: no projection. Defaults to None.
        interpolate_mode (str): How a loaded position embedding of another
            grid is resized. Defaults to ``'bilinear'``.
        out_type (str): mmpretrain's output type; Re-ID necks take
            ``'raw'`` (all tokens, (B, 1 + N, C)). Defaults to ``'raw'``.
        **kwargs: Arguments of mmpretrain's ``VisionTransformer`` (``arch``,
            ``img_size``, ``patch_size``, ``patch_cfg=dict(stride=...)``,
            ``qkv_bias``, ``norm_cfg``, ``drop_path_rate``, ``pre_norm``,
            ``layer_cfgs``, ``init_cfg``, ...).
    """

    def __init__(self,
                 num_cameras: int = 0,
                 camera_embed_coef: float = 1.0,
                 camera_tokens: str = 'all',
                 out_channels: Optional[int] = None,
                 interpolate_mode: str = 'bilinear',
                 out_type: str = 'raw',
                 **kwargs) -> None:
        super().__init__(
            interpolate_mode=interpolate_mode, out_type=out_type, **kwargs)
        check_int('ReIDViT', 'num_cameras', num_cameras, 0)
        if camera_tokens not in CAMERA_TOKENS:
            raise ValueError(f'ReIDViT: camera_tokens must be one of '
                             f'{CAMERA_TOKENS}, got {camera_tokens!r}')
        self.num_cameras = num_cameras
        self.camera_embed_coef = float(camera_embed_coef)
        self.camera_tokens = camera_tokens
        if num_cameras:
            self.camera_embed = nn.Parameter(
                torch.zeros(num_cameras, 1, self.embed_dims))
        self.out_channels = out_channels or self.embed_dims
        if out_channels is None:
            self.register_parameter('proj', None)
        else:
            self.proj = nn.Parameter(
                torch.empty(self.embed_dims, out_channels))
            nn.init.normal_(self.proj, std=self.embed_dims**-0.5)

    @property
    def needs_camids(self) -> bool:
        """Whether :meth:`forward` needs each sample's camera id."""
        return self.num_cameras > 0

    def init_weights(self) -> None:
        """Random initialisation, then the weight-loading ``init_cfg``.

        A ``Pretrained`` checkpoint of this class provides the camera
        embedding; otherwise it is drawn (truncated normal, std 0.02, as
        TransReID). Weight-loading initializers of other names
        (``TimmViTPretrained``, ``CLIPVisualPretrained``) are applied last,
        after every random initialisation
        (:mod:`mmieee.models.weight_init.weight_loaders`).
        """
        loaders, others = split_weight_loaders(self.init_cfg)
        saved = self.init_cfg
        # a lone entry stays a dict: mmpretrain tests for a ``Pretrained``
        # dict before it redraws the position embedding
        self.init_cfg = others[0] if len(others) == 1 else others or None
        try:
            super().init_weights()
        finally:
            self.init_cfg = saved
        if self.num_cameras and not (isinstance(self.init_cfg, dict) and
                                     self.init_cfg['type'] == 'Pretrained'):
            nn.init.trunc_normal_(self.camera_embed, std=0.02)
        for cfg in loaders:
            WEIGHT_INITIALIZERS.build(dict(cfg))(self)

    def forward(self, x: torch.Tensor,
                camids: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, ...]:
        """Embed, encode, normalise (and project) the tokens.

        Args:
            x (Tensor): (B, 3, H, W) images.
            camids (Tensor, optional): (B,) int64 camera ids in
                ``[0, num_cameras)`` (checked where data enters the model);
                required when ``num_cameras > 0``.

        Returns:
            tuple[Tensor]: One output per ``out_indices`` entry, for
            ``out_type='raw'`` the tokens (B, 1 + N, out_channels), class
            token first.
        """
        if self.num_cameras and camids is None:
            raise ValueError(
                f'ReIDViT has a camera embedding of {self.num_cameras} '
                'cameras and needs the camera id of every sample (camids)')
        batch = x.shape[0]
        x, patch_resolution = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(batch, -1, -1), x), dim=1)
        pos = resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens)
        if self.num_cameras:
            cam = self.camera_embed_coef * self.camera_embed[camids]
            if self.camera_tokens == 'all':
                x = x + pos + cam  # (B, 1 + N, C) + (1, 1 + N, C) + (B, 1, C)
            else:
                x = torch.cat((x[:, :1] + cam, x[:, 1:]), dim=1) + pos
        else:
            x = x + pos
        x = self.pre_norm(self.drop_after_pos(x))
        outs = []
        with deterministic_attention():
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i == len(self.layers) - 1 and self.final_norm:
                    x = self.ln1(x)
                if i in self.out_indices:
                    out = self._format_output(x, patch_resolution)
                    if self.proj is not None:
                        out = out @ self.proj
                    outs.append(out)
        return tuple(outs)

    def _prepare_pos_embed(self, state_dict, prefix, *args,
                           **kwargs) -> None:
        """mmpretrain's resize of a loaded position embedding, refusing a
        non-square source grid (whose shape cannot be inferred) by name."""
        name = prefix + 'pos_embed'
        if name in state_dict and state_dict[name].shape != \
                self.pos_embed.shape:
            tokens = state_dict[name].shape[1] - self.num_extra_tokens
            side = int(round(tokens**0.5))
            if side * side != tokens:
                raise ValueError(
                    f'{name}: the checkpoint has {tokens} position tokens, '
                    'not a square grid, and the model has '
                    f'{tuple(self.pos_embed.shape)}; it cannot be resized '
                    'without knowing its grid')
        super()._prepare_pos_embed(state_dict, prefix, *args, **kwargs)
