# Copyright (c) mmieee contributors.
"""TimmCosineLR with mmengine's optimizer wrapper gives every parameter
group, at every epoch, the learning rate of the official TOP-ReID and DeMo
schedulers (noise included), also after resuming.

The reference values (``tests/data/official_lr_schedules.json``) were copied
from fixtures written by running the official code on CPU:

* TOP-ReID (github.com/924973292/TOP-ReID at 921dd7c):
  ``cd /work/scratch/topreid && venv/bin/python make_fixtures.py``;
* DeMo (github.com/924973292/DeMo at b4f323a):
  ``cd /work/scratch/demo && venv/bin/python make_fixtures.py``.

How the official scheduler was driven: the official ``make_optimizer`` built
the optimizer of the official model (one group per parameter) and
``create_scheduler`` the ``CosineLRScheduler`` from each dataset's official
config (TOP-ReID RGBNT201: 120 epochs, warm-up 10; DeMo RGBNT201 and MSVR310:
50 epochs, warm-up 10; RGBNT100: 30, warm-up 5); then, as
``engine/processor.py`` does, ``scheduler.step(epoch)`` was called for
``epoch = 1 .. max_epochs`` and each group's ``lr`` read after the call: the
learning rate of training epoch ``epoch``. The DeMo tables also hold the
noise factor of each epoch and the values without noise.

Here a tiny model with parameters named like the official groups is given to
mmengine's ``DefaultOptimWrapperConstructor`` (the official group rules as a
``paramwise_cfg``) and stepped as mmengine's ``ParamSchedulerHook`` steps an
epoch-based scheduler.
"""
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import ParamSchedulerHook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from mmieee.engine import TimmCosineLR
from mmieee.registry import PARAM_SCHEDULERS
from mmieee.utils.safe_checkpoint import load_from_local

DATA = json.loads(
    (Path(__file__).resolve().parents[2] / 'data' /
     'official_lr_schedules.json').read_text())

#: mmieee's module path of DeMo's CLIP encoder in the tiny model (official:
#: every key containing 'base', i.e. ``BACKBONE.base.*``).
ENCODER = 'backbone.encoder'

TOPREID_OPTIM = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.009, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'bias': dict(lr_mult=2.0)}))
DEMO_OPTIM = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={
        'bias': dict(lr_mult=2.0),
        ENCODER: dict(lr=5e-6)
    }))


class OfficiallyNamed(nn.Module):
    """Parameters of every kind the official group rules distinguish: plain
    weights and biases, LayerNorm / BatchNorm biases, a packed attention
    ``in_proj_bias``, bare tensors (tokens, a camera table), a frozen BN
    bias, a bias-free classifier; an encoder whose camera table lies beside
    it (DeMo's ``BACKBONE.cv_embed`` is not in ``BACKBONE.base``)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.encoder = nn.Module()
        self.backbone.encoder.x = nn.Linear(4, 4)
        self.backbone.encoder.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.backbone.encoder.ln = nn.LayerNorm(4)
        self.backbone.encoder.attn = nn.MultiheadAttention(4, 2)
        self.backbone.camera_embed = nn.Parameter(torch.zeros(3, 1, 4))
        self.neck = nn.Module()
        self.neck.ln = nn.LayerNorm(4)
        self.neck.attn = nn.MultiheadAttention(4, 2)
        self.head = nn.Module()
        self.head.bn = nn.BatchNorm1d(4)
        self.head.bn.bias.requires_grad_(False)
        self.head.fc = nn.Linear(4, 3, bias=False)


def official_class(name: str, method: str) -> str:
    """The official rule (``solver/make_optimizer.py`` of both repos)."""
    kind = 'bias' if 'bias' in name else 'base'
    if method == 'demo':
        kind = 'other' if kind == 'base' else 'bias'
        if name.startswith(ENCODER + '.'):  # official: 'base' in key
            kind = 'backbone'
    return kind


def build(method: str, scheduler: dict):
    init_default_scope('mmieee')
    model = OfficiallyNamed()
    optim = build_optim_wrapper(
        model, TOPREID_OPTIM if method == 'topreid' else DEMO_OPTIM)
    sched = PARAM_SCHEDULERS.build(
        dict(type='TimmCosineLR', **scheduler),
        default_args=dict(optimizer=optim))
    return model, optim, sched


def train_epochs(optim, sched, num_epochs: int) -> list:
    """Learning rate of every optimizer group during each of ``num_epochs``
    epochs, the scheduler stepped by mmengine's ParamSchedulerHook. The
    wrapper's extra ``base_param_settings`` group (what mmengine logs as
    ``base_lr``) must follow the optimizer's own learning rate."""
    hook = ParamSchedulerHook()
    runner = SimpleNamespace(param_schedulers=[sched])
    base_lr = optim.optimizer.defaults['lr']
    seen = []
    for _ in range(num_epochs):
        seen.append([group['lr'] for group in optim.optimizer.param_groups])
        assert optim.base_param_settings['lr'] == sched.lr_at(
            sched.last_step + 1)[-1]
        assert optim.base_param_settings['initial_lr'] == base_lr
        optim.step()  # one (gradient-free) iteration
        hook.after_train_iter(runner, batch_idx=0)
        hook.after_train_epoch(runner)
    return seen


def group_classes(model, optim, method):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = optim.optimizer.param_groups
    assert len(groups) == len(named)  # one group per trainable parameter
    for (name, param), group in zip(named, groups):
        assert group['params'] == [param], name
    return [official_class(n, method) for n, _ in named]


def compare(seen, classes, table):
    """Max |difference| over every group and epoch (asserted 0)."""
    worst = 0.0
    for epoch, lrs in enumerate(seen):
        for lr, kind in zip(lrs, classes):
            expected = table[kind][epoch]
            worst = max(worst, abs(lr - expected))
            assert lr == expected, (epoch, kind, lr, expected)
    return worst


def test_group_rules_match_the_official_optimizers():
    ref = DATA['topreid_rgbnt201']
    model, optim, _ = build('topreid', ref['scheduler'])
    classes = group_classes(model, optim, 'topreid')
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert 'head.bn.bias' not in names  # frozen: not in the optimizer
    by_name = dict(zip(names, classes))
    # every name containing 'bias' doubles, norm and attention biases too
    assert by_name['neck.ln.bias'] == by_name[
        'backbone.encoder.attn.in_proj_bias'] == 'bias'
    assert by_name['backbone.camera_embed'] == 'base'
    for kind, group in zip(classes, optim.optimizer.param_groups):
        assert group['initial_lr'] == ref['group_lr'][kind]
        assert group['weight_decay'] == 1e-4
        assert group['momentum'] == 0.9
    demo = DATA['demo']
    model, optim, _ = build('demo', demo['RGBNT201']['scheduler'])
    classes = group_classes(model, optim, 'demo')
    by_name = dict(zip(names, classes))
    assert by_name['backbone.encoder.ln.bias'] == 'backbone'  # 5e-6 wins
    assert by_name['backbone.camera_embed'] == 'other'
    assert by_name['neck.attn.in_proj_bias'] == 'bias'
    assert {group['initial_lr'] for group in optim.optimizer.param_groups
            } == set(demo['group_lr'].values())
    for kind, group in zip(classes, optim.optimizer.param_groups):
        assert group['initial_lr'] == demo['group_lr'][kind]
        assert group['weight_decay'] == 1e-4
    assert isinstance(optim.optimizer, torch.optim.Adam)


def test_mmengine_bias_lr_mult_is_not_the_official_rule():
    """Why the configs use ``custom_keys={'bias': ...}``: mmengine's
    ``bias_lr_mult`` skips norm biases and parameters not named exactly
    ``bias`` (attention ``in_proj_bias``), which the official rule doubles."""
    model = OfficiallyNamed()
    optim = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='SGD', lr=0.009, momentum=0.9),
            paramwise_cfg=dict(bias_lr_mult=2.0)))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    lrs = dict(zip(names, (g['lr'] for g in optim.optimizer.param_groups)))
    assert lrs['backbone.encoder.x.bias'] == 0.018
    assert lrs['neck.ln.bias'] == lrs['neck.attn.in_proj_bias'] == 0.009


def test_topreid_rgbnt201_every_group_every_epoch():
    ref = DATA['topreid_rgbnt201']
    # configs write the official factory's products, e.g. 0.01 * base_lr
    assert ref['scheduler']['warmup_lr_init'] == 0.01 * 0.009
    assert ref['scheduler']['lr_min'] == 0.001 * 0.009
    model, optim, sched = build('topreid', ref['scheduler'])
    classes = group_classes(model, optim, 'topreid')
    seen = train_epochs(optim, sched, ref['scheduler']['t_initial'])
    assert compare(seen, classes, ref['lr_by_epoch']) == 0.0
    base = ref['lr_by_epoch']['base']
    assert base[8] < base[9] < 0.009  # epoch 10 jumps; never reaches base
    assert base[-1] == ref['scheduler']['lr_min']  # last epoch at the floor


@pytest.mark.parametrize('dataset', ['RGBNT201', 'RGBNT100', 'MSVR310'])
def test_demo_every_group_every_epoch_with_noise(dataset):
    ref = DATA['demo'][dataset]
    assert ref['scheduler']['warmup_lr_init'] == 0.1 * 3.5e-4
    model, optim, sched = build('demo', ref['scheduler'])
    classes = group_classes(model, optim, 'demo')
    epochs = ref['scheduler']['t_initial']
    seen = train_epochs(optim, sched, epochs)
    assert len(seen) == epochs
    assert compare(seen, classes, ref['lr_by_epoch']) == 0.0
    # the fixture's noise column was derived from the learning rates (last
    # bits differ); the learning rates above are the exact check
    assert [sched.noise_at(t) for t in range(1, epochs + 1)] == \
        pytest.approx(ref['noise_by_epoch'], rel=1e-12, abs=1e-15)
    # the encoder warms *down* from warmup_lr_init to 5e-6
    backbone = ref['lr_without_noise_by_epoch']['backbone']
    assert backbone[0] > backbone[1] > 5e-6


def test_demo_noise_switched_off_gives_the_noise_free_table():
    ref = DATA['demo']['RGBNT201']
    args = dict(ref['scheduler'], noise_range=None)
    model, optim, sched = build('demo', args)
    seen = train_epochs(optim, sched, args['t_initial'])
    classes = group_classes(model, optim, 'demo')
    assert compare(seen, classes, ref['lr_without_noise_by_epoch']) == 0.0


@pytest.mark.parametrize('stop', [1, 7, 10, 49])
def test_resume_continues_the_same_values(tmp_path, stop):
    """State dicts saved after ``stop`` epochs and read back through the
    safe checkpoint loader (as ``--resume`` does) continue the official
    values, noise included."""
    ref = DATA['demo']['RGBNT201']
    epochs = ref['scheduler']['t_initial']
    model, optim, sched = build('demo', ref['scheduler'])
    classes = group_classes(model, optim, 'demo')
    first = train_epochs(optim, sched, stop)
    path = tmp_path / 'resume.pth'
    torch.save(dict(optimizer=optim.state_dict(),
                    param_schedulers=[sched.state_dict()]), path)
    state = load_from_local(str(path))

    model, optim, sched = build('demo', ref['scheduler'])  # fresh run
    optim.load_state_dict(state['optimizer'])
    sched.load_state_dict(state['param_schedulers'][0])
    rest = train_epochs(optim, sched, epochs - stop)
    assert compare(first + rest, classes, ref['lr_by_epoch']) == 0.0


def test_lr_at_follows_the_formula():
    """Warm-up, cosine and floor by hand (DeMo MSVR310: T = 50, T_w = 10,
    w = 3.5e-5, m = 3.5e-7), times the epoch's noise factor."""
    ref = DATA['demo']['MSVR310']
    _, optim, sched = build('demo', ref['scheduler'])
    w, m = 3.5e-5, 3.5e-7
    for t, by_hand in (
            (3, lambda b: w + 3 * (b - w) / 10),
            (10, lambda b: m + 0.5 * (b - m) * (1 + math.cos(math.pi / 5))),
            (37, lambda b: m + 0.5 * (b - m) *
             (1 + math.cos(math.pi * 37 / 50)))):
        noise = sched.noise_at(t)
        assert 0 < abs(noise) < 0.67
        for lr, base in zip(sched.lr_at(t), sched.base_values):
            assert lr == pytest.approx(by_hand(base) * (1 + noise),
                                       rel=1e-14)
    assert sched.noise_at(50) == 0.0  # outside noise_range = (0, 50)
    assert sched.lr_at(50) == [m] * len(optim.param_groups)
    assert sched.lr_at(51) == [m] * len(optim.param_groups)


@pytest.mark.parametrize('kwargs, message', [
    (dict(t_initial=0), 't_initial must be an integer >= 1'),
    (dict(t_initial=10, warmup_t=-1), 'warmup_t must be an integer >= 0'),
    (dict(t_initial=10, lr_min=-1e-6), 'lr_min must be a finite number'),
    (dict(t_initial=10, warmup_lr_init=float('nan')),
     'warmup_lr_init must be a finite number'),
    (dict(t_initial=10, noise_range=(5, 5)), r'noise_range must be None'),
    (dict(t_initial=10, noise_range=50), r'noise_range must be None'),
    (dict(t_initial=10, noise_range=(0, 10), noise_pct=0),
     'noise_pct must be a number > 0'),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=message):
        TimmCosineLR(optimizer, **kwargs)


def test_iteration_based_conversion_is_refused():
    with pytest.raises(ValueError, match='convert_to_iter_based'):
        TimmCosineLR.build_iter_from_epoch(
            None, t_initial=10, epoch_length=5)


def test_built_and_stepped_by_a_runner(tmp_path):
    """From a config, through mmengine's Runner: the learning rate of each
    training epoch is the official one."""
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.net = OfficiallyNamed()

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.net.neck.ln(inputs)
            return dict(loss=out.square().mean()) if mode == 'loss' else out

    class Record(Hook):
        seen = []

        def before_train_epoch(self, runner):
            self.seen.append([g['lr'] for g in
                              runner.optim_wrapper.optimizer.param_groups])

    ref = DATA['demo']['RGBNT201']
    epochs = 3
    runner = Runner(
        model=Toy(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(4))] * 2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            DEMO_OPTIM,
            paramwise_cfg=dict(custom_keys={
                'bias': dict(lr_mult=2.0),
                'net.' + ENCODER: dict(lr=5e-6)
            })),
        param_scheduler=dict(type='TimmCosineLR', **ref['scheduler']),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        custom_hooks=[Record()],
        default_hooks=dict(checkpoint=None),
        default_scope='mmieee')
    runner.train()
    names = [n for n, p in runner.model.net.named_parameters()
             if p.requires_grad]
    classes = [official_class(n, 'demo') for n in names]
    assert compare(Record.seen, classes, ref['lr_by_epoch']) == 0.0
    assert len(Record.seen) == epochs
