# Copyright (c) mmieee contributors.
"""Speed options (mmieee/utils/speed_options.py): what each one changes in
a config, what a device refuses, and that each one trains like the default
path on CPU.

One training step of a tiny IEEE model (one ResNet stage per stream, batch
of 2 ids x 4, the official SGD with lr 0.01), starting from the default
run's weights. Float32 options (channels-last, compile) must give

* the logged loss within 1e-5 (relative; channels-last measured 1e-7),
* the weight update (all parameters, flattened) within 1e-4 (L2 distance
  relative to the default update's norm; measured 5e-6),
* the features after the step within 1e-5 (max difference relative to the
  largest feature; measured 4e-7).

bf16 autocast keeps 8 significant bits, and BatchNorm over 8 samples of a
randomly initialised network amplifies rounding in the gradients, so its
update is compared by direction and size: loss within 1e-3 (measured 8e-6),
the update's cosine similarity with the default one above 0.9 (measured
0.96) and its norm within 10 % (measured 4 %) -- a step skipped, left
scaled or reversed fails these -- and the autocast forward of the updated
model within 3e-2 of its float32 forward (measured 5e-3).
"""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS
from mmieee.utils import ConfigError, apply_speed_options, check_speed_options


def tiny_config() -> Config:
    """A training config of a tiny IEEE model (one 16-channel ResNet-18
    stage per stream, 64 x 32 input, 2 parts) with the official
    optimizer."""
    return Config(dict(
        default_scope='mmieee',
        model=dict(
            type='MultiModalReID',
            modalities=('RGB', 'NI', 'TI'),
            data_preprocessor=dict(
                type='MultiModalDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375]),
            backbone=dict(
                type='MultiStreamBackbone',
                backbone=dict(
                    type='mmpretrain.ResNet', depth=18, stem_channels=16,
                    base_channels=16, num_stages=1, strides=(1, ),
                    dilations=(1, ), out_indices=(0, ),
                    zero_init_residual=False)),
            neck=dict(type='IEEENeck', in_channels=16, reduce_channels=16,
                      out_channels=8, num_parts=2,
                      cim=dict(type='CrossModalInteraction', ca_ratio=4)),
            head=dict(type='IEEEHead', num_classes=4, num_parts=2,
                      in_channels=8)),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                           nesterov=True, weight_decay=5e-4))))


def _batch() -> dict:
    gen = torch.Generator().manual_seed(5)
    inputs = torch.randint(0, 256, (8, 3, 3, 64, 32), generator=gen,
                           dtype=torch.uint8)
    labels = (0, 0, 0, 0, 3, 3, 3, 3)
    return dict(inputs=inputs,
                data_samples=[DataSample().set_gt_label(y) for y in labels])


def _flat_params(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).float()
                      for p in model.parameters()])


def train_one_step(cfg: Config, state: dict) -> dict:
    """One ``train_step`` as the Runner runs it; loss, update, features."""
    init_default_scope('mmieee')
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.load_state_dict(state)
    model.train()
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(
        cfg.optim_wrapper))
    if cfg.get('compile'):
        # What mmengine's Runner._maybe_compile does with cfg.compile.
        kwargs = {} if cfg.compile is True else dict(cfg.compile)
        model.train_step = torch.compile(model.train_step, **kwargs)
    before = _flat_params(model)
    log_vars = model.train_step(_batch(), optim_wrapper=optim_wrapper)
    update = _flat_params(model) - before
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(_batch())['inputs']
        feats = model(inputs, mode='tensor')
    return dict(loss=log_vars['loss'].item(), update=update, feats=feats,
                inputs=inputs, optim_wrapper=optim_wrapper, model=model)


@pytest.fixture(scope='module')
def default_run():
    torch.manual_seed(0)
    init_default_scope('mmieee')
    state = MODELS.build(tiny_config().model).state_dict()
    return state, train_one_step(tiny_config(), state)


def _rel_max(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max()).item()


def _assert_matches(run: dict, ref: dict) -> None:
    """The float32 tolerances of the module docstring."""
    assert run['loss'] == pytest.approx(ref['loss'], rel=1e-5)
    upd = (run['update'] - ref['update']).norm() / ref['update'].norm()
    assert upd.item() < 1e-4
    assert _rel_max(run['feats'], ref['feats']) < 1e-5


def test_channels_last_trains_like_the_default(default_run):
    state, ref = default_run
    cfg = apply_speed_options(tiny_config(), channels_last=True)
    assert cfg.model.backbone.channels_last is True
    run = train_one_step(cfg, state)
    conv = run['model'].backbone.streams[0].conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    _assert_matches(run, ref)


def test_compile_trains_like_the_default(default_run):
    """``compile=True`` reaches ``torch.compile`` of ``train_step`` as in
    the Runner. The test compiles with the ``eager`` backend: TorchDynamo
    captures the step's graphs (where a capture fault -- a lost BatchNorm
    statistics update, a skipped optimizer step, a stale guard -- would
    show) and runs them without code generation; inductor's C++ code
    generation takes minutes even for this model on 2 cores. The inductor
    default is compared with the default path by the training benchmark
    (loss of the first and last step, docs/performance.md)."""
    state, ref = default_run
    cfg = apply_speed_options(tiny_config(), compile=True)
    assert cfg.compile is True
    cfg.compile = dict(backend='eager')
    run = train_one_step(cfg, state)
    assert hasattr(run['model'].train_step, '_torchdynamo_orig_callable')
    _assert_matches(run, ref)


def test_amp_bf16_trains_like_the_default_on_cpu(default_run, monkeypatch):
    """mmengine's AmpOptimWrapper itself (its autocast context and loss
    scaler) on CPU: its GPU-only guard is lifted for the test, and the loss
    scaler disables itself without CUDA, so this checks the bf16 autocast
    forward/backward of the model."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    state, ref = default_run
    cfg = apply_speed_options(tiny_config(), amp='bf16')
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype,
            cfg.optim_wrapper.loss_scale) == ('AmpOptimWrapper', 'bfloat16',
                                              'dynamic')
    with pytest.warns(UserWarning, match='CUDA is not available'):
        run = train_one_step(cfg, state)
    assert run['optim_wrapper'].cast_dtype == torch.bfloat16
    assert run['loss'] == pytest.approx(ref['loss'], rel=1e-3)
    cos = torch.nn.functional.cosine_similarity(run['update'],
                                                ref['update'], dim=0)
    assert cos.item() > 0.9
    assert run['update'].norm() / ref['update'].norm() == pytest.approx(
        1, abs=0.1)
    # The wrapper's autocast runs the model in bf16, within 3e-2 of float32.
    model = run['model']
    with torch.no_grad(), run['optim_wrapper'].optim_context(model):
        stream_out = model.backbone.streams[0](run['inputs'][:, 0])[-1]
        feats_bf16 = model(run['inputs'], mode='tensor')
    assert stream_out.dtype == torch.bfloat16
    assert _rel_max(feats_bf16.float(), run['feats']) < 3e-2


def test_options_change_only_their_config_keys():
    base = tiny_config()
    cfg = apply_speed_options(tiny_config(), amp='fp16',
                              channels_last=True, compile=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'float16'
    assert cfg.optim_wrapper.optimizer == base.optim_wrapper.optimizer
    assert cfg.model.backbone.channels_last is True
    assert cfg.compile is True
    # An explicit dict of compile arguments is kept.
    cfg = tiny_config()
    cfg.compile = dict(backend='aot_eager')
    assert apply_speed_options(cfg, compile=True).compile == dict(
        backend='aot_eager')
    assert apply_speed_options(tiny_config()).to_dict() == base.to_dict()


def test_channels_last_needs_a_multi_stream_backbone():
    cfg = tiny_config()
    cfg.model.backbone = dict(type='mmpretrain.ResNet', depth=18)
    with pytest.raises(ConfigError, match=r"only MultiStreamBackbone.*"
                       r"'mmpretrain.ResNet'"):
        apply_speed_options(cfg, channels_last=True)


@pytest.mark.parametrize('kwargs, message', [
    (dict(device='cuda', cuda_available=False),
     r'--device cuda: CUDA is not available \(torch .* is '),
    (dict(device='cpu', amp='fp16'),
     r"--amp fp16 on cpu: .*mmengine's AmpOptimWrapper, which refuses to "
     'run without a GPU'),
    (dict(device='cpu', amp='bf16'), r'--amp bf16 on cpu: '),
    (dict(device='cuda', amp='bf16', cuda_available=True,
          bf16_supported=False),
     r'--amp bf16 on cuda: this GPU has no bfloat16 support .* use --amp '
     'fp16'),
    (dict(device='cpu', amp='fp8'), r"--amp 'fp8': expected one of"),
    (dict(device='cpu', compile=True, cxx=None),
     r'--compile on cpu: .*no C\+\+ compiler was found'),
    (dict(device='cuda', compile=True, cuda_available=True,
          triton_available=False),
     r'--compile on cuda: .*needs the triton package'),
    (dict(device='tpu'), r"--device 'tpu': expected cpu or cuda"),
])
def test_refuses_what_the_device_cannot_run(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        check_speed_options(**kwargs)


@pytest.mark.parametrize('kwargs', [
    dict(device='cpu'),
    dict(device='cpu', compile=True, cxx='/usr/bin/g++'),
    dict(device='cuda', amp='fp16', cuda_available=True),
    dict(device='cuda:1', amp='bf16', cuda_available=True,
         bf16_supported=True),
    dict(device='cuda', compile=True, cuda_available=True,
         triton_available=True),
])
def test_accepts_what_the_device_can_run(kwargs):
    check_speed_options(**kwargs)


def test_fused_sgd_of_the_schedule_updates_like_the_for_loop():
    """The official schedule asks for torch's fused SGD; three steps of it
    give the parameters and momentum of the for-loop SGD within float
    rounding (measured: 3e-8 and 4e-7 relative to the largest value)."""
    schedule = Config.fromfile(
        str(Path(__file__).resolve().parents[2] / 'configs' / '_base_' /
            'schedules' / 'ieee_sgd_61e.py'))
    assert schedule.optim_wrapper.optimizer.fused is True
    init_default_scope('mmieee')
    torch.manual_seed(0)
    state = MODELS.build(tiny_config().model).state_dict()
    runs = []
    for fused in (True, False):
        cfg = tiny_config()
        cfg.optim_wrapper = copy.deepcopy(schedule.optim_wrapper)
        cfg.optim_wrapper.optimizer.fused = fused
        cfg.optim_wrapper.optimizer.lr = 0.01
        model = MODELS.build(cfg.model)
        model.load_state_dict(state)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        for _ in range(3):
            model.train_step(_batch(), optim_wrapper=optim_wrapper)
        momentum = torch.cat([
            optim_wrapper.optimizer.state[p]['momentum_buffer'].reshape(-1)
            for p in model.parameters()
        ])
        runs.append((_flat_params(model), momentum))
    (params_f, mom_f), (params_l, mom_l) = runs
    assert _rel_max(params_f, params_l) < 1e-6
    assert _rel_max(mom_f, mom_l) < 1e-5
