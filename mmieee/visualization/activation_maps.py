# Copyright (c) mmieee contributors.
"""Where each modality stream looks.

* :func:`stream_activation_maps`: torchreid's activation maps (Zhou et al.,
  "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019,
  ``tools/visualize_actmap.py``): the channel mean of the squared
  last-stage activations of each stream of the multi-stream backbone
  (paper § "Three-stream Feature Extracting Network"), one (h, w) map per
  modality. No gradient, no class: what the stream responds to.
* :func:`grad_cam_maps`: Grad-CAM (Selvaraju et al., ICCV 2017) of each
  stream's last stage for the sample's identity, scored by the sum of that
  modality's part classifiers (paper Eq. 7). Test identities are not
  training classes, so the identity is the training class the model scores
  highest (the sum of all M x P part logits, as ``acc_top1``). Needs the
  optional ``grad-cam`` package (``pip install grad-cam``).
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import default_collate
from torch import nn


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


def _token_grid(tokens: torch.Tensor, image_hw: Sequence[int],
                num_extra: int) -> torch.Tensor:
    """ViT tokens (B, num_extra + h*w, C) -> the patch tokens as a
    (B, C, h, w) map, (h, w) the patch grid of an (H, W) image."""
    batch, length, channels = tokens.shape
    num = length - num_extra
    h = max(int(round((num * image_hw[0] / image_hw[1])**0.5)), 1)
    w = num // h
    if h * w != num:
        raise ValueError(
            f'activation maps: {num} patch tokens do not form a grid of the '
            f'{tuple(image_hw)} input\'s aspect ratio')
    return tokens[:, num_extra:].transpose(1, 2).reshape(
        batch, channels, h, w)


@torch.no_grad()
def stream_activation_maps(model: nn.Module,
                           inputs: torch.Tensor,
                           data_samples: Optional[Sequence] = None
                           ) -> List[torch.Tensor]:
    """torchreid activation maps of every stream.

    Args:
        model (nn.Module): A model with a multi-stream ``backbone``
            returning M maps (B, C, h, w), or M token maps (B, 1 + h*w, C)
            of a ViT stream (the patch tokens are laid out on the patch
            grid; the class token is left out).
        inputs (Tensor): (B, M, C, H, W) preprocessed batch.
        data_samples (Sequence[DataSample], optional): Where the camera
            ids come from when the backbone needs them.

    Returns:
        list[Tensor]: M maps, each (B, h, w): the mean over channels of the
        squared activations.
    """
    kwargs = {}
    if getattr(model, 'backbone_needs_camids', False):
        kwargs['camids'] = model.camera_ids(data_samples, inputs.device)
    outs = model.backbone(inputs, **kwargs)
    streams = getattr(model.backbone, 'streams', [None])
    num_extra = getattr(streams[0], 'num_extra_tokens', 1)
    return [(out.float()**2).mean(dim=1) if out.dim() == 4 else
            (_token_grid(out.float(), inputs.shape[-2:], num_extra)**2).mean(
                dim=1) for out in outs]


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
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError as err:
        raise ImportError(
            'Grad-CAM maps need the optional "grad-cam" package: '
            '`pip install grad-cam` (see docs/visualization.md)') from err

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
