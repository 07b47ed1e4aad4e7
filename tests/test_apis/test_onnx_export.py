# Copyright (c) mmieee contributors.
"""ONNX export of the feature path: onnxruntime against PyTorch for both REM
variants, two and three modalities and blanked modalities (tiny models built
in-process, random weights, no training; the official three-modality model
is exported by the tool's test)."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmieee.apis import init_model
from mmieee.apis.onnx_export import compare_outputs, export_onnx, verify_onnx
from mmieee.registry import DATASETS
from mmieee.utils import get_test_input_size

pytest.importorskip('onnxruntime', reason='pip install -e .[deploy]')

# The official variant with three modalities and a dynamic batch is
# exported by tests/test_tools/test_pytorch2onnx.py (one export less here).
VARIANTS = {
    'paper-3-blank-NI': {
        'model.neck.rem': dict(type='RelationEmbedding', variant='paper',
                               similarity='dot'),
        'model.neck.global_source': 'cim',
        'model.test_cfg.blank_modalities': ['NI']
    },
    'official-2': {
        'model.modalities': ('RGB', 'TI'),
        'test_dataloader.dataset.modalities': ('RGB', 'TI')
    },
}


@pytest.mark.parametrize('variant', list(VARIANTS))
def test_onnx_matches_pytorch(variant, tiny_files, tiny_cfg, tmp_path):
    cfg = tiny_cfg(tiny_files['root'], **VARIANTS[variant])
    torch.manual_seed(0)
    model = init_model(cfg)
    shape = get_test_input_size(cfg)
    assert shape == (64, 32)
    dynamic = variant == 'official-2'
    out = export_onnx(model, str(tmp_path / 'm.onnx'), shape,
                      batch_size=2, dynamic_batch=dynamic)
    m = len(model.modalities)
    random = torch.randint(0, 256, (2, m, 3, 64, 32), dtype=torch.uint8)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    real = default_collate([dataset[i] for i in range(2)])['inputs']
    assert real.dtype == torch.uint8 and real.shape == (2, m, 3, 64, 32)
    for inputs in (random, real):
        diff = verify_onnx(model, out, inputs)
        assert diff['max_rel'] < 1e-4, (variant, diff)
    # the graph is the model's test feature: predict mode on the same batch
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=real))
        want = model(data['inputs'], mode='tensor')
    import onnxruntime as ort
    got = ort.InferenceSession(out).run(None, {'inputs': real.numpy()})[0]
    assert compare_outputs(want.numpy(), got)['max_rel'] < 1e-4
    if 'blank-NI' in variant:  # NI really is blanked in the graph
        changed = real.clone()
        changed[:, 1] = 255 - changed[:, 1]
        again = ort.InferenceSession(out).run(
            None, {'inputs': changed.numpy()})[0]
        np.testing.assert_array_equal(again, got)
    if dynamic:
        five = torch.randint(0, 256, (5, m, 3, 64, 32), dtype=torch.uint8)
        assert verify_onnx(model, out, five)['max_rel'] < 1e-4


def test_compare_outputs_is_relative_to_the_scale():
    ref = np.array([[2.0, -4.0, 0.0]])
    assert compare_outputs(ref, ref + [[0, 0, 1e-3]]) == dict(
        max_abs=pytest.approx(1e-3), max_rel=pytest.approx(2.5e-4))
