# Copyright (c) mmieee contributors.
"""The DeMo model (shared CLIP-style ViT with the camera embedding on the
class token, PIFE, HDM's nn.MultiheadAttention, ATMoE) exports to ONNX
with the camera ids as a second graph input, and onnxruntime gives
PyTorch's features, also for another batch size (blanking in the graph
is tested with the IEEE model in test_onnx_export.py)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from mmieee.registry import MODELS

ort = pytest.importorskip('onnxruntime', reason='pip install -e .[deploy]')

DEMO = (Path(__file__).resolve().parents[2] / 'configs' / 'demo' /
        'demo_vit-tiny_1xb32-20e_synthetic-demo.py')


class _Graph(nn.Module):
    """uint8 (B, M, C, H, W) + (B,) camera ids -> (B, D) features."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, camids):
        inputs = self.model.data_preprocessor({'inputs': inputs})['inputs']
        return self.model(inputs, mode='tensor', camids=camids)


def test_demo_exports_with_camera_ids(tmp_path):
    cfg = Config.fromfile(str(DEMO))
    init_default_scope('mmieee')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()  # a non-zero camera embedding
    model.eval()
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 256, (2, 3, 3, 64, 32), dtype=torch.uint8,
                           generator=gen)
    camids = torch.tensor([0, 3])
    path = str(tmp_path / 'demo.onnx')
    # eval() on the wrapper: the exporter restores the wrapper's mode
    # recursively afterwards
    graph = _Graph(model).eval()
    with torch.no_grad():
        torch.onnx.export(
            graph, (inputs, camids),
            path,
            dynamo=False,
            input_names=['inputs', 'camids'],
            output_names=['feats'],
            dynamic_axes={
                'inputs': {0: 'batch'},
                'camids': {0: 'batch'},
                'feats': {0: 'batch'}
            },
            opset_version=17)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    more = torch.randint(0, 256, (3, 3, 3, 64, 32), dtype=torch.uint8,
                         generator=gen)
    for x, c in ((inputs, camids), (more, torch.tensor([1, 2, 0]))):
        (got, ) = session.run(None, {
            'inputs': x.numpy(),
            'camids': c.numpy()
        })
        with torch.no_grad():
            want = graph(x, c).numpy()
        assert got.shape == (len(c), 10 * 64)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # the camera id is used: another id, another feature
    (other, ) = session.run(None, {
        'inputs': inputs.numpy(),
        'camids': np.array([1, 2])
    })
    assert not np.allclose(other, session.run(None, {
        'inputs': inputs.numpy(),
        'camids': camids.numpy()
    })[0])
