# Copyright (c) mmieee contributors.
"""tools/deployment/pytorch2onnx.py, run in-process on the tiny model."""
import importlib.util
import re

import pytest

from mmieee.utils.model_index import REPO_ROOT

pytest.importorskip('onnxruntime', reason='pip install -e .[deploy]')
TOOL = REPO_ROOT / 'tools' / 'deployment' / 'pytorch2onnx.py'
_spec = importlib.util.spec_from_file_location('pytorch2onnx', TOOL)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_export_and_verify(tiny_files, tmp_path, capsys):
    import onnx
    out = tmp_path / 'tiny.onnx'
    status = tool.main([
        tiny_files['config'], tiny_files['checkpoint'], '--out',
        str(out), '--dynamic-batch', '--verify', '--num-real', '3'
    ])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "input uint8 (B, 3, 3, 64, 32), B dynamic, modalities ('RGB', " \
        "'NI', 'TI'), blanked []" in text
    rows = re.findall(r'(random|real) inputs \(batch (\d)\): max abs diff '
                      r'(\S+), max rel diff (\S+) \(target < 0.0001\): OK',
                      text)
    assert [(r[0], r[1]) for r in rows] == [('random', '3'), ('real', '3')]
    assert all(float(r[3]) < 1e-4 for r in rows)
    model = onnx.load(str(out))
    props = {p.key: p.value for p in model.metadata_props}
    assert props['modalities'] == 'RGB,NI,TI'
    assert props['config'] == 'tiny_ieee'
    (inp, ) = model.graph.input
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ['batch', 3, 3, 64, 32]


def test_user_errors(tiny_files, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.main([tiny_files['config'], str(tmp_path / 'no.pth'), '--out',
                   str(tmp_path / 'x.onnx')])
    assert exc.value.code == 2
    assert "checkpoint '" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        tool.main(['ieee_r18_unknown', tiny_files['checkpoint'], '--out',
                   str(tmp_path / 'x.onnx')])
    assert exc.value.code == 2
    assert 'neither a config file nor a model name' in \
        capsys.readouterr().err


@pytest.mark.parametrize('extra, expected', [
    (['--shape', '0', '0'], '--shape takes a height and a width >= 1, got '
     '0 0'),
    (['--batch-size', '0'], '--batch-size must be >= 1'),
])
def test_bad_values_are_error_lines(tiny_files, tmp_path, capsys, extra,
                                    expected):
    with pytest.raises(SystemExit) as exc:
        tool.main([tiny_files['config'], tiny_files['checkpoint'], '--out',
                   str(tmp_path / 'x.onnx')] + extra)
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith(f'Error: {expected}')
    assert not (tmp_path / 'x.onnx').exists()


def test_out_folder_is_an_error_line(tiny_files, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.main([tiny_files['config'], tiny_files['checkpoint'], '--out',
                   str(tmp_path)])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith(
        f'Error: --out {tmp_path} is a folder')
