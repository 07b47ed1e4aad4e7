# Copyright (c) mmieee contributors.
"""Every user tool ends a user error with one ``Error: ...`` message and
exit status 2: no traceback, no crash, nothing written.

The payload is the 547-byte kind of file that crashed ``tools/test.py``,
``init_model`` and the gallery reader (exit 139): an object array whose
state holds fewer objects than its shape. A file with a shell command is
refused the same way (tests/test_utils/test_safe_checkpoint.py).
"""
import numpy as np
import pytest
import torch

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - old numpy
    from numpy.core.multiarray import _reconstruct


class _ShortObjectArray:

    def __reduce__(self):
        return (_reconstruct, (np.ndarray, (0, ), b'b'),
                (1, (100000, ), np.dtype('O'), False, []))


@pytest.fixture(scope='module')
def payload(tmp_path_factory):
    path = tmp_path_factory.mktemp('payload') / 'epoch_1.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': _ShortObjectArray()},
               path)
    return path


#: tool -> arguments after it ({cfg}: a config, {ckpt}: the payload, {out}:
#: a fresh folder); every one must be refused.
CASES = {
    'train': ['tools/train.py', '{train_cfg}', '--work-dir', '{out}/w',
              '--resume', '{ckpt}'],
    'test': ['tools/test.py', '{cfg}', '{ckpt}', '--work-dir', '{out}/w'],
    'eval_missing_modality': [
        'tools/analysis_tools/eval_missing_modality.py', '{cfg}', '{ckpt}',
        '--work-dir', '{out}/w', '--cross-modal'
    ],
    'pytorch2onnx': ['tools/deployment/pytorch2onnx.py', '{cfg}', '{ckpt}',
                     '--out', '{out}/m.onnx'],
    'publish_model': ['tools/model_converters/publish_model.py', '{ckpt}',
                      '{out}/p.pth'],
    'official_converter': [
        'tools/model_converters/ieee_official_to_mmieee.py', '{ckpt}',
        '{out}/c.pth'
    ],
    'vis_actmap': ['tools/visualization/vis_actmap.py', '{cfg}', '{ckpt}',
                   '--out-dir', '{out}/a'],
    'vis_rank_list': ['tools/visualization/vis_rank_list.py', '{cfg}',
                      '{ckpt}', '--out-dir', '{out}/r'],
    'vis_tsne': ['tools/visualization/vis_tsne.py', '{cfg}', '{ckpt}',
                 '--out', '{out}/t.png'],
    'retrieval_demo': ['demo/retrieval_demo.py', '{root}/test', 'a,b,c',
                       '--config', '{cfg}', '--checkpoint', '{ckpt}',
                       '--out', '{out}/d'],
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_refused_checkpoint_is_one_error_line(tools, tiny_files, tiny_config,
                                              payload, tmp_path, case):
    args = [a.format(cfg=tiny_files['config'], ckpt=payload, out=tmp_path,
                     root=tiny_files['root'], train_cfg=tiny_config)
            for a in CASES[case]]
    proc = tools.run(args, check=False, timeout=180)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert f'Error: Refusing to load checkpoint {payload}' in proc.stderr
    assert 'dtype object' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert 'weights_only' not in proc.stderr
    written = [p for p in tmp_path.rglob('*')
               if p.is_file() and not p.name.endswith('.log')]
    assert not [p for p in written
                if p.suffix in ('.onnx', '.pth', '.png', '.json')], written


@pytest.mark.parametrize('tool', [
    'tools/analysis_tools/get_flops.py', 'tools/misc/check_config.py',
    'tools/visualization/browse_dataset.py'
])
def test_config_errors_are_one_error_line(tools, tmp_path, tool):
    extra = ['--out-dir', str(tmp_path / 'o')] if 'browse' in tool else []
    proc = tools.run([tool, 'ieee_r18_no_such_model'] + extra, check=False,
                     timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: 'ieee_r18_no_such_model' is "
                                  'neither a config file nor a model name')
    assert 'Known names: ' in proc.stderr
    config = tmp_path / 'cls.py'
    config.write_text('optim_wrapper = dict()\n')
    proc = tools.run([tool, config] + extra, check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith('Error: ') and 'Traceback' not in \
        proc.stderr


def test_analyze_logs_unwritable_out(tools, tmp_path):
    log = tmp_path / 'scalars.json'
    log.write_text('{"lr": 0.1, "loss": 1.0, "step": 1, "epoch": 1}\n')
    proc = tools.run(['tools/analysis_tools/analyze_logs.py', 'plot_curve',
                      log, '--out', tmp_path], check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f'Error: --out {tmp_path} is a folder')
