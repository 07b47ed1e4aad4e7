# Copyright (c) mmieee contributors.
"""tools/model_converters/publish_model.py on a training-style checkpoint
(state dict, SGD state, schedulers, message hub, meta as the Runner writes
them), run in-process."""
import hashlib
import importlib.util

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
    assert not list(tmp_path.glob('x*.pth'))
