# Copyright (c) mmieee contributors.
"""Where each modality stream looks.

* :func:`stream_activation_maps`: torchreid's activation maps (Zhou et al.,
  "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019,
  ``tools/visualize_actmap.py``): the channel mean of the squared
  last-stage activations of each stream of the multi-stream backbone
  (paper § "Three-stream Feature Extracting Network"), one (h, w) map per
  modality. No gradient, no class: what the stream responds to. For ViT
  streams (:class:`~mmieee.models.backbones.ReIDViT`, TOP-ReID) whose
  LayerNorm'd tokens make that mean nearly flat, the map is instead the
  last layer's attention of the class token over the patches, averaged over
  the heads (Dosovitskiy et al., ICLR 2021, Fig. 6 shows such maps): where
  the token the stream's feature comes from looks. Camera ids of the data
  samples reach streams with a camera embedding.
* :func:`grad_cam_maps`: Grad-CAM (Selvaraju et al., ICCV 2017) of each
  stream's last stage for the sample's identity, scored by the sum of that
  modality's part classifiers (paper Eq. 7). Test identities are not
  training classes, so the identity is the training class the model scores
  highest (the sum of all M x P part logits, as ``acc_top1``). Needs the
  optional ``grad-cam`` package (``pip install --no-deps grad-cam ttach
  tqdm``).
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import default_collate
from torch import nn

from mmieee.utils.optional_packages import require_package


def is_vit_backbone(backbone: nn.Module) -> bool:
    """Whether the streams are ViTs (token maps, mmpretrain layers)."""
    streams = getattr(backbone, 'streams', None)
    return bool(streams) and all(
        hasattr(s, 'patch_embed') and hasattr(s, 'layers') for s in streams)


def activation_map_name(model: nn.Module) -> str:
    """Column title of :func:`stream_activation_maps` for ``model``."""
    return 'class-token\nattention' if is_vit_backbone(model.backbone) \
        else 'activation'


def preprocess(model: nn.Module, packed: Sequence[dict]
               ) -> Tuple[torch.Tensor, list]:
    """Collate packed samples and run the model's data preprocessor.

    The model's ``test_cfg.blank_modalities`` are applied, so the maps show
    what the model sees in predict mode.

    Args:
        model (nn.Module): A :class:`~mmieee.models.MultiModalReID`.
        packed (Sequence[dict]): Outputs of the test pipeline
            (``PackMultiModalReIDInputs``).

    Returns:
        tuple: ``inputs`` (B, M, C, H, W) float on the model's device and
        the data samples.
    """
    data = model.data_preprocessor(default_collate(list(packed)), False)
    return model.blank(data['inputs']), data['data_samples']


def _class_token_attention(backbone: nn.Module, inputs: torch.Tensor,
                           kwargs: dict) -> List[torch.Tensor]:
    """Last-layer class-token attention of every ViT stream, (B, h, w)."""
    captured, grids = [], []
    handles = []
    for stream in dict.fromkeys(backbone.streams):  # shared: once
        handles.append(stream.layers[-1].attn.register_forward_hook(
            lambda module, args, out: captured.append((module, args[0]))))
        handles.append(stream.patch_embed.register_forward_hook(
            lambda module, args, out: grids.append(tuple(out[1]))))
    try:
        backbone(inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    maps = []
    for (attn, tokens), (h, w) in zip(captured, grids):
        b, n, _ = tokens.shape
        qkv = attn.qkv(tokens).reshape(b, n, 3, attn.num_heads,
                                       attn.head_dims).permute(2, 0, 3, 1, 4)
        scores = qkv[0][:, :, :1] @ qkv[1].transpose(-2, -1)
        weights = (scores * attn.head_dims**-0.5).softmax(dim=-1)
        maps.append(weights[:, :, 0, n - h * w:].mean(dim=1).reshape(b, h, w))
    return maps


@torch.no_grad()
def stream_activation_maps(model: nn.Module,
                           inputs: torch.Tensor,
                           data_samples: Optional[Sequence] = None
                           ) -> List[torch.Tensor]:
    """Activation maps of every stream (module docstring).

    Args:
        model (nn.Module): A model with a multi-stream ``backbone``
            returning M maps (B, C, h, w), or M token maps of ViT streams.
        inputs (Tensor): (B, M, C, H, W) preprocessed batch.
        data_samples (Sequence[DataSample], optional): Their ``camid`` for
            streams with a camera embedding.

    Returns:
        list[Tensor]: M maps, each (B, h, w): the mean over channels of the
        squared activations, or for ViT streams the class token's attention
        over the (h, w) patches.
    """
    kwargs = {}
    if getattr(model, 'backbone_needs_camids', False):
        kwargs['camids'] = model.camera_ids(data_samples, inputs.device)
    if is_vit_backbone(model.backbone):
        return _class_token_attention(model.backbone, inputs, kwargs)
    outs = model.backbone(inputs, **kwargs)
    return [(out.float()**2).mean(dim=1) for out in outs]


class _StreamLogits(nn.Module):
    """The summed part logits of one modality, (B, num_classes)."""

    def __init__(self, model: nn.Module, modality: int) -> None:
        super().__init__()
        self.model = model
        self.modality = modality

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        logits = self.model.head(self.model.extract_feat(inputs))
        return logits[:, self.modality].sum(dim=1)


def _last_stage(backbone: nn.Module, modality: int) -> nn.Module:
    """The last stage of the stream of ``modality``."""
    if getattr(backbone, 'share_weights', False):
        raise ValueError(
            'Grad-CAM needs one stream per modality; this backbone shares '
            'its weights (share_weights=True), so one layer serves every '
            'modality and its gradients cannot be told apart')
    stream = backbone.streams[modality]
    names = getattr(stream, 'res_layers', None)
    if not names:
        raise ValueError(
            f'Grad-CAM: the stream {type(stream).__name__} has no '
            '"res_layers" (mmpretrain ResNet), so its last stage is unknown')
    return getattr(stream, names[-1])


def grad_cam_maps(model: nn.Module,
                  inputs: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of each stream's last stage for the predicted identity.

    Args:
        model (nn.Module): A :class:`~mmieee.models.MultiModalReID` with an
            IEEE-style head (``head(feats)`` -> (B, M, P, num_classes)).
        inputs (Tensor): (B, M, C, H, W) preprocessed batch.

    Returns:
        tuple: ``maps`` (B, M, H, W) float in [0, 1] and ``classes`` (B,)
        the training class each map explains.

    Raises:
        ImportError: ``grad-cam`` is not installed (the message says how to
            install it).
    """
    require_package('pytorch_grad_cam')
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    class MultiModalGradCAM(GradCAM):
        # grad-cam reads a 5-D input as a 3-D volume (D, H, W); ours is
        # (B, M, C, H, W), whose maps have the images' (W, H).
        def get_target_width_height(self, input_tensor):
            return input_tensor.size(-1), input_tensor.size(-2)

    with torch.no_grad():
        logits = model.head(model.extract_feat(inputs))
    classes = logits.sum(dim=(1, 2)).argmax(dim=1).cpu().numpy()
    targets = [ClassifierOutputTarget(int(k)) for k in classes]
    maps = []
    for m in range(inputs.size(1)):
        with MultiModalGradCAM(
                model=_StreamLogits(model, m),
                target_layers=[_last_stage(model.backbone, m)]) as cam:
            maps.append(cam(input_tensor=inputs, targets=targets))
    return np.stack(maps, axis=1).astype(np.float32), classes
