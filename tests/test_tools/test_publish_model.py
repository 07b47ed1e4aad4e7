# Copyright (c) mmieee contributors.
"""tools/model_converters/publish_model.py on a training-style checkpoint
(state dict, SGD state, schedulers, message hub, meta as the Runner writes
them), run in-process."""
import hashlib
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import load_checkpoint

from mmieee.apis import init_model
from mmieee.utils.model_index import REPO_ROOT

TOOL = REPO_ROOT / 'tools' / 'model_converters' / 'publish_model.py'
_spec = importlib.util.spec_from_file_location('publish_model', TOOL)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


@pytest.fixture
def training_checkpoint(tiny_files, tmp_path):
    cfg = tiny_files['cfg']
    model = init_model(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()  # momentum buffers, as after training
    hub = MessageHub.get_instance('publish_test')
    hub.update_scalar('train/loss', 1.0)
    path = tmp_path / 'epoch_2.pth'
    torch.save({
        'meta': dict(cfg=cfg.pretty_text, epoch=2,
                     experiment_name='tiny_ieee_20260101_120000',
                     dataset_meta=dict(modalities=('RGB', 'NI', 'TI'))),
        'state_dict': model.state_dict(),
        'optimizer': optimizer.state_dict(),
        'param_schedulers': [dict(milestones=[1])],
        'message_hub': hub.state_dict(),
    }, path)
    return path, model


def test_publish(training_checkpoint, tmp_path, capsys):
    src, trained = training_checkpoint
    final = tool.main([str(src), str(tmp_path / 'pub' / 'tiny.pth')])
    data = open(final, 'rb').read()
    sha = hashlib.sha256(data).hexdigest()
    assert final == str(tmp_path / 'pub' / f'tiny-{sha[:8]}.pth')
    assert len(data) < src.stat().st_size
    assert 'published' in capsys.readouterr().out
    ckpt = torch.load(final, weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta']['config'] == 'tiny_ieee'
    assert ckpt['meta']['modalities'] == ['RGB', 'NI', 'TI']
    assert ckpt['meta']['epoch'] == 2 and 'cfg' in ckpt['meta']
    # loads strictly (mmengine's loader, as the Runner) with equal weights
    model = init_model(trained.cfg)
    load_checkpoint(model, final, strict=True)
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_refuses_a_checkpoint_of_another_model(training_checkpoint, tmp_path,
                                               tiny_cfg, capsys):
    src, _ = training_checkpoint
    other = tiny_cfg(str(tmp_path), **{'model.neck.out_channels': 4,
                                       'model.head.in_channels': 4})
    other.dump(str(tmp_path / 'other.py'))
    with pytest.raises(SystemExit) as exc:
        tool.main([str(src), str(tmp_path / 'x.pth'), '--config',
                   str(tmp_path / 'other.py')])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert 'epoch_2.pth does not fit the model' in err
    assert 'keys with another shape' in err and 'neck.part_fcs' in err
    assert 'strict' not in err  # publish has no --non-strict to advise
    assert not list(tmp_path.glob('x*.pth'))


def _publish_error(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        tool.main([str(a) for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    # (in-process, mmengine's logger may first report a stream an earlier
    # test closed: the tool's own output starts at its message)
    assert 'Error: ' in err
    err = err[err.index('Error: '):]
    assert 'Traceback' not in err
    return err


def test_training_classifiers_must_fit_too(training_checkpoint, tmp_path,
                                           tiny_cfg, capsys):
    """Evaluation lets them differ; a published file must load exactly."""
    src, _ = training_checkpoint
    other = tiny_cfg(str(tmp_path), **{'model.head.num_classes': 5})
    other.dump(str(tmp_path / 'other.py'))
    err = _publish_error(capsys, src, tmp_path / 'x.pth', '--config',
                         tmp_path / 'other.py')
    assert 'head.classifiers' in err
    assert not list(tmp_path.glob('x*.pth'))


def test_config_text_with_code_is_refused_and_not_run(
        training_checkpoint, tmp_path, capsys):
    src, _ = training_checkpoint
    marker = tmp_path / 'ran'
    ckpt = torch.load(src, weights_only=False)
    ckpt['meta']['cfg'] += (
        f"\nnote = __import__('os').system('touch {marker}')\n")
    evil = tmp_path / 'evil.pth'
    torch.save(ckpt, evil)
    err = _publish_error(capsys, evil, tmp_path / 'pub' / 'x.pth')
    assert f"Refusing to read the config stored in {evil} (meta['cfg']): " \
        'line' in err and 'a function call' in err
    assert 'Give the config with --config.' in err
    assert not marker.exists()
    assert not list((tmp_path / 'pub').glob('x*'))


def test_non_finite_weights_are_refused(training_checkpoint, tmp_path,
                                        capsys):
    src, _ = training_checkpoint
    ckpt = torch.load(src, weights_only=False)
    key = next(iter(ckpt['state_dict']))
    ckpt['state_dict'][key] = ckpt['state_dict'][key].clone().fill_(
        float('nan'))
    bad = tmp_path / 'diverged.pth'
    torch.save(ckpt, bad)
    err = _publish_error(capsys, bad, tmp_path / 'x.pth')
    assert f'{bad}: 1 weights hold NaN or inf ({key})' in err
    assert not list(tmp_path.glob('x*.pth'))


def test_a_file_without_weights_is_refused(training_checkpoint, tmp_path,
                                           capsys):
    src, _ = training_checkpoint
    ckpt = torch.load(src, weights_only=False)
    only = tmp_path / 'optimizer.pth'
    torch.save({'optimizer': ckpt['optimizer']}, only)
    err = _publish_error(capsys, only, tmp_path / 'x.pth')
    assert f'{only} holds no model weights (its entries: optimizer)' in err


def test_sparse_tensor_checkpoint_is_an_error(tmp_path, capsys):
    src = tmp_path / 'sparse.pth'
    torch.save({'state_dict': {'w': torch.eye(2).to_sparse()}}, src)
    err = _publish_error(capsys, src, tmp_path / 'x.pth')
    assert f'Refusing to load checkpoint {src}: it holds a sparse tensor' \
        in err


def test_read_only_folder_is_an_error_before_anything_is_loaded(
        training_checkpoint, tmp_path, capsys):
    src, _ = training_checkpoint
    folder = tmp_path / 'ro'
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe = folder / 'probe'
        try:  # root writes anyway: use a folder the kernel refuses
            probe.touch()
            probe.unlink()
            folder = Path('/sys/kernel')
            if not folder.is_dir():
                pytest.skip('no unwritable folder to test with')
        except OSError:
            pass
        err = _publish_error(capsys, src, folder / 'x.pth')
        assert f'Error: OUT {folder / "x.pth"}: cannot write in {folder}' \
            in err
    finally:
        (tmp_path / 'ro').chmod(0o755)
