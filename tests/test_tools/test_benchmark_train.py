# Copyright (c) mmieee contributors.
"""tools/analysis_tools/benchmark_train.py: the projected schedule time is
iterations x measured step time (by hand, with a virtual clock), a missing
dataset is replaced by the project's synthetic set and the output names it,
options the device cannot run are refused with the reason, and a run cut
short keeps what it measured.

The tool runs in this process (``--in-process``) so that the virtual clock
reaches it: each training forward advances it by STEP seconds and each
validation forward by VAL seconds, so every measured duration is exact.
"""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from mmieee.models.reid import MultiModalReID
from mmieee.utils import train_benchmark

REPO = Path(__file__).resolve().parents[2]
STEP, VAL = 0.5, 0.125  # exact in binary


def _bench_module():
    spec = importlib.util.spec_from_file_location(
        'mmieee_benchmark_train',
        REPO / 'tools' / 'analysis_tools' / 'benchmark_train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench(monkeypatch):
    """The tool's module with a virtual clock driven by the model."""
    module = _bench_module()
    now = [0.0]
    forward = MultiModalReID.forward

    def timed_forward(self, inputs, data_samples=None, mode='tensor'):
        now[0] += STEP if mode == 'loss' else VAL
        return forward(self, inputs, data_samples, mode)

    monkeypatch.setattr(MultiModalReID, 'forward', timed_forward)
    monkeypatch.setattr(train_benchmark, '_clock', lambda: now[0])
    return module


FAST = ['--in-process', '--model-only', '--iters', '2', '--warmup', '1',
        '--val-iters', '1']


def test_projection_is_iterations_times_step_time(bench, tiny_config,
                                                  tmp_path, capsys):
    out = tmp_path / 'res.json'
    res = bench.main([str(tiny_config), *FAST, '--out', str(out)])
    # The tiny set on disk: 6 training ids x 2 cameras x 2 images. K = 4:
    # every id is one chunk of 4, P = 2 chunks per batch -> 6 // 2 = 3
    # iterations per epoch. Test: 4 ids x 4 images = 16, batches of 8 -> 2.
    # 2 epochs, validation every epoch -> 2 validations.
    sizes = res['schedule']
    assert (sizes['epochs'], sizes['iters_per_epoch'], sizes['validations'],
            sizes['val_batches']) == (2, 3, 2, 2)
    (case, ) = res['cases']
    assert case['name'] == 'default'
    assert (case['step_s'], case['val_batch_s']) == (STEP, VAL)
    assert (case['iters_per_s'], case['triplets_per_s']) == (2.0, 16.0)
    # 2 epochs x 3 iterations x 0.5 s + 2 validations x 2 batches x 0.125 s
    assert case['projection'] == dict(train_s=3.0, val_s=0.5, once_s=0.0,
                                      total_s=3.5)
    assert res['stand_in'] is None
    assert json.loads(out.read_text())['cases'][0]['projection'][
        'total_s'] == 3.5
    printed = capsys.readouterr().out
    assert '2 epochs x 3 iterations (from the dataset on disk)' in printed
    assert 'default' in printed and '3.5 s' in printed


def test_stand_in_and_real_split_sizes(bench, tiny_config, tmp_path,
                                       capsys):
    """A missing data_root gets a synthetic stand-in in the config's
    layout; --train-samples / --val-samples give the real split's size."""
    missing = tmp_path / 'nowhere' / 'RGBNT201'
    res = bench.main([
        str(tiny_config), *FAST, '--channels-last', '--data-batches', '1',
        '--variant', 'fused-sgd:optim_wrapper.optimizer.fused=True',
        '--train-samples', '100', '--val-samples', '20', '--cfg-options',
        f'train_dataloader.dataset.data_root={missing}',
        f'val_dataloader.dataset.data_root={missing}'
    ])
    stand_in = res['stand_in']
    assert stand_in['replaced'] == [str(missing)]
    assert stand_in['layout'] == 'rgbnt201'
    assert (stand_in['height'], stand_in['width']) == (64, 32)  # the Resize
    # 100 samples over the 6 classes: 16 or 17 each -> 4 chunks of K = 4
    # per id, 24 chunks, P = 2 -> 12 iterations; 20 val samples / 8 -> 3.
    sizes = res['schedule']
    assert (sizes['iters_per_epoch'], sizes['val_batches']) == (12, 3)
    assert [c['name'] for c in res['cases']] == [
        'default', 'channels-last', 'fused-sgd'
    ]
    assert res['cases'][2]['cfg_options'] == {
        'optim_wrapper.optimizer.fused': True
    }
    for case in res['cases']:
        # 2 x 12 x 0.5 + 2 x 3 x 0.125
        assert case['projection']['total_s'] == 12.75
    printed = capsys.readouterr().out
    assert f'{missing} does not exist -> synthetic stand-in in the ' \
        'rgbnt201 layout' in printed
    assert '100 samples spread evenly over 6 ids (--train-samples)' in printed


def test_a_run_cut_short_keeps_every_figure_so_far(bench, tiny_config,
                                                   tmp_path, monkeypatch,
                                                   capsys):
    """--out is rewritten after each case; Ctrl-C during the second case
    leaves the first one's figures in it and prints the table so far."""
    out = tmp_path / 'res.json'
    calls = []
    real = bench.time_train_step

    def second_is_cut(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            partial = json.loads(out.read_text())
            assert partial['complete'] is False
            assert [c['name'] for c in partial['cases']] == ['default']
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(bench, 'time_train_step', second_is_cut)
    with pytest.raises(KeyboardInterrupt):
        bench.main([str(tiny_config), *FAST, '--channels-last', '--out',
                    str(out)])
    assert calls == ['default', 'channels-last']
    res = json.loads(out.read_text())
    assert res['complete'] is False
    (case, ) = res['cases']
    assert (case['name'], case['step_s'], case['val_batch_s']) == \
        ('default', STEP, VAL)
    assert case['projection']['total_s'] == 3.5
    printed, err = capsys.readouterr()
    assert 'done: default, round 1/1 (1/2): median step 0.500 s' in err
    assert 'Interrupted (Ctrl-C)' in err
    table = printed[printed.index('(b) train step'):]
    assert '\n  default ' in table and 'channels-last' not in table


def test_out_is_complete_at_the_end_and_checked_first(bench, tiny_config,
                                                      tmp_path, capsys):
    out = tmp_path / 'res.json'
    bench.main([str(tiny_config), *FAST, '--out', str(out)])
    assert json.loads(out.read_text())['complete'] is True
    capsys.readouterr()
    # an unwritable --out is refused before any measurement
    blocked = tmp_path / 'file'
    blocked.write_text('')
    with pytest.raises(SystemExit) as exit_info:
        bench.main([str(tiny_config), *FAST, '--out',
                    str(blocked / 'res.json')])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f'Error: --out {blocked / "res.json"}: cannot '
                          'write it')
    assert 'done:' not in err


@pytest.mark.parametrize('argv, patches, message', [
    (['--device', 'cuda'], dict(is_available=False),
     '--device cuda: CUDA is not available'),
    (['--device', 'cpu', '--amp', 'fp16'], {},
     "--amp fp16 on cpu: mixed-precision training uses mmengine's "
     'AmpOptimWrapper, which refuses to run without a GPU'),
    (['--device', 'cuda', '--amp', 'bf16'],
     dict(is_available=True, is_bf16_supported=False),
     '--amp bf16 on cuda: this GPU has no bfloat16 support'),
    (['--device', 'cpu', '--batch-size', '6'], {},
     '--batch-size 6 is not a multiple of '
     'train_dataloader.sampler.num_instances=4'),
])
def test_refuses_what_the_device_cannot_run(bench, tiny_config, monkeypatch,
                                            capsys, argv, patches, message):
    for name, value in patches.items():
        monkeypatch.setattr(torch.cuda, name, lambda v=value: v)
    with pytest.raises(SystemExit) as exit_info:
        bench.main([str(tiny_config), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('Error: ') and message in err


def test_malformed_variant_is_refused(bench, tiny_config, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(tiny_config), '--variant', 'fused-sgd'])
    assert "--variant 'fused-sgd': expected NAME:KEY=VALUE" in \
        capsys.readouterr().err


def test_compile_without_a_compiler_is_refused(bench, tiny_config,
                                               monkeypatch, capsys):
    monkeypatch.delenv('CXX', raising=False)
    monkeypatch.setenv('PATH', '')
    with pytest.raises(SystemExit):
        bench.main([str(tiny_config), '--device', 'cpu', '--compile'])
    assert 'no C++ compiler was found' in capsys.readouterr().err
