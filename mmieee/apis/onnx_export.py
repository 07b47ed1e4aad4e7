# Copyright (c) mmieee contributors.
"""ONNX export of the Re-ID feature path and its check with onnxruntime.

What is exported: :class:`FeatureGraph`, i.e. the model's data preprocessor
(cast to float, optional channel flip, per-modality mean / std) followed by
``model(inputs, mode='tensor')`` (backbone, neck, blanking of
``test_cfg.blank_modalities``, flattened part embeddings).

Input: **raw uint8** ``inputs`` of shape (B, M, C, H, W), RGB channel order,
each modality already resized to the model's input size, i.e. exactly what
the test pipeline (``LoadMultiModalImages`` + ``Resize`` +
``PackMultiModalReIDInputs``) collates. Why uint8 with the normalisation
folded in: the mean / std (per modality, possibly), the channel order and the
blanked modalities live in the config, and a deployment that re-implements
them is where mistakes happen; resizing stays outside because a graph resize
would not match mmcv's (cv2) interpolation bit for bit. Output ``feats``:
(B, D) float32, D = M x parts x part dim (2304 for the full model), compared
with squared Euclidean distance as in PyTorch.

A model with a camera embedding (TOP-ReID's ViT streams) gets a second
input, ``camids``: int64 (B,), each sample's 0-based camera (the datasets'
``camid``); the graph looks the embedding up itself. ``model.test_cfg.
missing_modalities`` is folded in like the blanking.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``,
which works offline with only ``onnx`` installed; the ``dynamo=True``
exporter (torch's default since 2.9) needs the extra ``onnxscript`` package
and is much slower (docs/inference.md compares them). The TorchScript
exporter is deprecated upstream; when it is removed, ``dynamo=True`` (with
``onnxscript`` in the deploy extra) is the replacement.
"""
import warnings
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .inference import needs_camids

#: Graph input / output names.
INPUT_NAME = 'inputs'
CAMIDS_NAME = 'camids'
OUTPUT_NAME = 'feats'
DEFAULT_OPSET = 17


class FeatureGraph(nn.Module):
    """uint8 (B, M, C, H, W) (and int64 (B,) camera ids) → (B, D) features:
    preprocessing + tensor mode.

    Args:
        model (nn.Module): A :class:`MultiModalReID` in eval mode.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor,
                camids: Optional[torch.Tensor] = None) -> torch.Tensor:
        inputs = self.model.data_preprocessor({'inputs': inputs})['inputs']
        return self.model(inputs, mode='tensor', camids=camids)


def example_camids(model: nn.Module, batch: int,
                   seed: int = 0) -> Optional[torch.Tensor]:
    """Random int64 (B,) camera ids of the model's table (None for a model
    without a camera embedding): the traced / random-check input."""
    if not needs_camids(model):
        return None
    num = model.backbone.num_cameras
    return torch.randint(0, num, (batch, ),
                         generator=torch.Generator().manual_seed(seed))


def export_onnx(model: nn.Module,
                out_file: str,
                shape: Sequence[int],
                batch_size: int = 1,
                dynamic_batch: bool = False,
                opset: int = DEFAULT_OPSET,
                metadata: Optional[Dict[str, str]] = None) -> str:
    """Export the feature path of ``model`` to ONNX.

    Args:
        model (nn.Module): From :func:`~mmieee.apis.init_model` (eval mode).
        out_file (str): Destination ``.onnx``.
        shape (Sequence[int]): Input (H, W).
        batch_size (int): Batch of the traced input (the fixed batch when
            ``dynamic_batch`` is False). Defaults to 1.
        dynamic_batch (bool): Make the batch axis dynamic.
        opset (int): ONNX opset. Defaults to 17.
        metadata (dict, optional): Written into the model's
            ``metadata_props`` (the input layout and modalities are always
            written).

    Returns:
        str: ``out_file``.
    """
    import onnx
    h, w = (int(x) for x in shape)
    m = len(model.modalities)
    graph = FeatureGraph(model).eval()
    dummy = torch.randint(
        0, 256, (batch_size, m, 3, h, w), dtype=torch.uint8,
        generator=torch.Generator().manual_seed(0))
    args, names = (dummy, ), [INPUT_NAME]
    camids = example_camids(model, batch_size)
    if camids is not None:
        args, names = (dummy, camids), [INPUT_NAME, CAMIDS_NAME]
    axes = {n: {0: 'batch'} for n in names + [OUTPUT_NAME]} \
        if dynamic_batch else None
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about the models' shape checks (M, C, part
        # sizes): they hold for the fixed M, C, H, W of the graph.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        # The choice of this exporter is explained in the module docstring.
        warnings.filterwarnings(
            'ignore', 'You are using the legacy TorchScript-based ONNX',
            DeprecationWarning)
        torch.onnx.export(
            graph, args,
            out_file,
            dynamo=False,
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=opset)
    props = {
        'input': f'{INPUT_NAME}: uint8 (B, M, C, H, W) = (B, {m}, 3, {h}, '
        f'{w}), RGB, resized, not normalised',
        'output': f'{OUTPUT_NAME}: float32 (B, D), squared Euclidean',
        'modalities': ','.join(model.modalities),
        'blank_modalities': ','.join(
            model.modalities[i] for i in model.blank_indices),
        'missing_modalities': ','.join(
            model.modalities[i]
            for i in getattr(model, 'missing_indices', ())),
    }
    if camids is not None:
        props['camids'] = (f'{CAMIDS_NAME}: int64 (B,), 0-based camera ids '
                           f'< {model.backbone.num_cameras}')
    props.update(metadata or {})
    proto = onnx.load(out_file)
    onnx.helper.set_model_props(proto, props)
    onnx.checker.check_model(proto)
    onnx.save(proto, out_file)
    return out_file


def compare_outputs(reference: np.ndarray,
                    output: np.ndarray) -> Dict[str, float]:
    """``max_abs`` = max |output - reference|; ``max_rel`` = that divided by
    max |reference| (relative to the features' scale: element-wise ratios
    blow up on near-zero features)."""
    diff = float(np.abs(output - reference).max())
    scale = float(np.abs(reference).max())
    return dict(max_abs=diff, max_rel=diff / scale if scale > 0 else diff)


def verify_onnx(model: nn.Module, onnx_file: str, inputs: torch.Tensor,
                camids: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Run the ONNX file with onnxruntime (CPU) and PyTorch on ``inputs``.

    Args:
        model (nn.Module): The exported model.
        onnx_file (str): The exported file.
        inputs (Tensor): uint8 (B, M, C, H, W).
        camids (Tensor, optional): int64 (B,) camera ids for a model with a
            camera embedding; None draws random ones of its table.

    Returns:
        dict: ``max_abs``, ``max_rel`` (see :func:`compare_outputs`) and
        ``batch``.
    """
    import onnxruntime as ort
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    feed = {INPUT_NAME: inputs.cpu().numpy()}
    if needs_camids(model):
        if camids is None:
            camids = example_camids(model, len(inputs), seed=1)
        camids = torch.as_tensor(camids, dtype=torch.long)
        feed[CAMIDS_NAME] = camids.cpu().numpy()
    else:
        camids = None
    with torch.no_grad():
        reference = FeatureGraph(model).eval()(
            inputs, None if camids is None else camids.to(
                next(model.parameters()).device)).cpu().numpy()
    output = session.run([OUTPUT_NAME], feed)[0]
    if output.shape != reference.shape:
        raise ValueError(f'ONNX output shape {output.shape} != PyTorch '
                         f'{reference.shape}')
    out = compare_outputs(reference, output)
    out['batch'] = int(inputs.shape[0])
    return out
