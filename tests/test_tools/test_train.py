# Copyright (c) mmieee contributors.
"""tools/train.py: two epochs with validation, checkpoints, first errors."""
import importlib.util
from pathlib import Path

import pytest
import torch


def test_train_two_epochs_writes_last_and_best(tools, trained_run):
    # max_keep_ckpts=1: only the last epoch's checkpoint stays, plus the best.
    assert sorted(p.name for p in trained_run.glob('epoch_*.pth')) == [
        'epoch_2.pth'
    ]
    best = tools.best_checkpoint(trained_run)
    last = (trained_run / 'last_checkpoint').read_text().strip()
    assert last.endswith('epoch_2.pth')

    vals = tools.read_val_metrics(trained_run)
    assert [v['step'] for v in vals] == [1, 2]  # validated after each epoch
    for v in vals:
        for key in ('reid/mAP', 'reid/R1', 'reid/R5', 'reid/R10',
                    'reid/mINP'):
            assert 0.0 <= v[key] <= 100.0
    best_val = max(vals, key=lambda v: v['reid/mAP'])
    assert tools.best_epoch(best) == best_val['step']

    ckpt = torch.load(best, map_location='cpu', weights_only=False)
    assert ckpt['meta']['epoch'] == best_val['step']
    keys = ckpt['state_dict'].keys()
    assert 'backbone.streams.2.layer4.1.conv2.weight' in keys  # 3 streams
    assert 'head.classifiers.2.3.weight' in keys  # M x P = 3 x 4 classifiers


def test_train_log_has_losses_and_eta(trained_run):
    logs = sorted(trained_run.glob('*/*.log'))
    text = logs[-1].read_text()
    for word in ('eta:', 'loss_ce:', 'loss_3m:', 'acc_top1:', 'reid/mAP:'):
        assert word in text


def test_missing_dataset_stops_before_building(tools, tmp_path):
    missing = tmp_path / 'nowhere' / 'RGBNT201'
    proc = tools.run(
        ['tools/train.py', 'configs/ieee_rgbnt201.py', '--work-dir',
         tmp_path / 'w', '--cfg-options',
         f'train_dataloader.dataset.data_root={missing}'],
        check=False, timeout=120)
    assert proc.returncode != 0
    err = proc.stderr
    assert str(missing) in err  # where it looked
    assert 'RGBNT201 is obtained from' in err  # where to get it
    assert 'github.com/ziwang1121/IEEE' in err
    assert 'tools/dataset_converters/generate_synthetic.py' in err  # demo
    assert 'Traceback' not in err  # a message, not a crash
    assert not (tmp_path / 'w').exists()  # nothing was built


def test_unknown_top_level_cfg_option_is_refused(tools, tiny_config,
                                                 tmp_path):
    proc = tools.run(
        ['tools/train.py', tiny_config, '--work-dir', tmp_path / 'w',
         '--cfg-options', 'trian_cfg.max_epochs=1'],
        check=False, timeout=120)
    assert proc.returncode != 0
    assert "'trian_cfg' is not a key of the config" in proc.stderr
    assert 'Did you mean train_cfg' in proc.stderr


def _train_module():
    """tools/train.py as a module (fast: no new interpreter)."""
    spec = importlib.util.spec_from_file_location(
        'mmieee_train_tool',
        Path(__file__).resolve().parents[2] / 'tools' / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_main(argv):
    """tools/train.py's main() in this process."""
    return _train_module().main(argv)


def test_unknown_module_type_fails_with_registry_message(tiny_config,
                                                         tmp_path):
    with pytest.raises(KeyError, match='NoSuchNeck is not in the '
                       r'mmieee::model registry'):
        _train_main([
            str(tiny_config), '--work-dir', str(tmp_path),
            '--cfg-options', 'model.neck.type=NoSuchNeck'
        ])


def test_unknown_argument_fails_with_registry_message(tiny_config,
                                                      tmp_path):
    with pytest.raises(TypeError,
                       match=r"IEEENeck.*unexpected keyword argument 'foo'"):
        _train_main([
            str(tiny_config), '--work-dir', str(tmp_path),
            '--cfg-options', 'model.neck.foo=1'
        ])


def test_speed_flags_set_the_config(tiny_config, monkeypatch):
    """--amp [fp16|bf16] and --compile set what mmengine reads (the device
    check is given a GPU here; the refusal is tested below)."""
    from mmengine.config import Config
    train = _train_module()
    monkeypatch.setattr(train, 'check_speed_options', lambda *a, **k: None)
    for argv, dtype in (([], None), (['--amp'], 'float16'),
                        (['--amp', 'bf16'], 'bfloat16')):
        cfg = Config.fromfile(str(tiny_config))
        args = train.parse_args([str(tiny_config), *argv, '--compile'])
        cfg = train.apply_args(cfg, args)
        assert cfg.compile is True
        assert cfg.optim_wrapper.get('dtype') == dtype
        assert cfg.optim_wrapper.type == (
            'AmpOptimWrapper' if dtype else 'OptimWrapper')


def test_amp_without_a_gpu_is_refused(tiny_config, tmp_path, capsys,
                                      monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SystemExit) as exit_info:
        _train_main([str(tiny_config), '--amp', 'bf16', '--work-dir',
                     str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--amp bf16 on cpu: mixed-precision training uses mmengine's " \
        'AmpOptimWrapper, which refuses to run without a GPU' in \
        capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # stopped before building anything


def test_missing_resume_file_is_an_error_not_a_traceback(
        tools, tiny_config, tmp_path):
    proc = tools.run(['tools/train.py', tiny_config, '--work-dir',
                      tmp_path / 'w', '--resume', tmp_path / 'nope.pth'],
                     check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f'Error: --resume {tmp_path / "nope.pth"}: no such checkpoint file')
    assert 'Traceback' not in proc.stderr


def test_no_validate_does_not_need_the_validation_data(
        tools, tiny_config, tmp_path):
    proc = tools.run(['tools/train.py', tiny_config, '--work-dir',
                      tmp_path / 'w', '--no-validate', '--cfg-options',
                      'train_cfg.max_epochs=1',
                      f'val_dataloader.dataset.data_root={tmp_path / "no"}'],
                     timeout=240)
    assert (tmp_path / 'w' / 'epoch_1.pth').is_file(), proc.stderr[-2000:]
    assert not (tmp_path / 'w' / '.train.lock').exists()  # released


def test_second_training_on_a_work_dir_is_refused(tools, tiny_config,
                                                  tmp_path):
    import subprocess
    import sys
    hold = ('import sys, time\n'
            'from mmieee.utils import WorkDirLock\n'
            'with WorkDirLock(sys.argv[1]):\n'
            '    print("locked", flush=True)\n'
            '    time.sleep(120)\n')
    first = subprocess.Popen([sys.executable, '-c', hold, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True,
                             env=tools.env())
    try:
        assert first.stdout.readline().strip() == 'locked'
        proc = tools.run(['tools/train.py', tiny_config, '--work-dir',
                          tmp_path], check=False, timeout=120)
    finally:
        first.kill()
        first.wait()
    assert proc.returncode == 2
    assert f'Error: work dir {tmp_path} is in use by another training ' \
        f'(pid {first.pid}' in proc.stderr
    assert not list(tmp_path.glob('*/*.log'))  # no second, interleaved log


@pytest.mark.parametrize('case', ['not_reid', 'launcher', 'unknown_name'])
def test_user_errors_end_in_one_error_line(tools, tmp_path, case):
    env = tools.env()
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        env.pop(key, None)
    config = tmp_path / 'cls.py'
    config.write_text('optim_wrapper = dict(optimizer=dict(lr=0.1))\n')
    args, expected = {
        'not_reid': ([config], f"Error: {config} has no 'model' / "
                     "'train_dataloader': it is not an mmieee Re-ID config"),
        'launcher': (['ieee_r18_1xb16-8e_synthetic-demo', '--launcher',
                      'pytorch'], 'Error: --launcher pytorch needs the '
                     'environment variables RANK, WORLD_SIZE, MASTER_ADDR, '
                     'MASTER_PORT'),
        'unknown_name': (['ieee_r18_demo'], "Error: 'ieee_r18_demo' is "
                         'neither a config file nor a model name'),
    }[case]
    proc = tools.run(['tools/train.py', *args, '--work-dir', tmp_path / 'w'],
                     check=False, timeout=120, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith(expected), proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr and 'KeyError' not in proc.stderr
    if case == 'unknown_name':
        assert 'Known names: ' in proc.stderr
        assert 'ieee_r18_1xb16-8e_synthetic-demo' in proc.stderr


def test_model_name_is_accepted_as_the_config(tools, tmp_path):
    """The demo's metafile name reaches the config (its dataset check)."""
    missing = tmp_path / 'nowhere'
    proc = tools.run(['tools/train.py', 'ieee_r18_1xb16-8e_synthetic-demo',
                      '--work-dir', tmp_path / 'w', '--cfg-options',
                      f'train_dataloader.dataset.data_root={missing}'],
                     check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith('Error: RGBNT201 dataset not found: '
                                  'train_dataloader.dataset.data_root')
    assert str(missing) in proc.stderr
