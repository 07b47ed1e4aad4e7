# Copyright (c) mmieee contributors.
"""Measure the training throughput of a config, on any machine.

    python tools/analysis_tools/benchmark_train.py CONFIG [--device cpu|cuda]
        [--iters N] [--warmup N] [--val-iters N] [--batch-size B]
        [--amp fp16|bf16] [--channels-last] [--compile] [--threads T ...]
        [--data-only | --model-only] [--num-workers W ...]
        [--train-samples N] [--val-samples N] [--variant NAME:KEY=VALUE,...]
        [--rounds R] [--in-process] [--cfg-options KEY=VALUE ...]
        [--out results.json]

In one run, side by side:

(a) **data pipeline alone**: samples/s of the config's ``train_dataloader``
    (its dataset, pipeline, sampler and collate, built by mmengine's
    ``Runner.build_dataloader`` as training builds it) for each
    ``--num-workers`` value. When the config's ``data_root`` does not exist,
    a synthetic stand-in in the config's layout
    (:func:`mmieee.testing.generate_synthetic_dataset`, images of the size
    the train pipeline resizes to) is written to a temporary folder, and the
    output says so.
(b) **training step alone** on a device-resident batch (the first batch of
    the train dataloader, moved to the device once): ``model.train_step``
    with the config's optimizer wrapper -- the data preprocessor,
    forward, losses, backward and optimizer step that the Runner's train
    loop calls -- followed by reading the logged values as floats (what
    mmengine's ``RuntimeInfoHook`` does every iteration; on a GPU that is
    the host sync that ends the step). Reported: iterations/s and
    triplets/s from the median step time, the first step (warm-up,
    ``torch.compile``), one validation batch (``val_step`` at the
    ``val_dataloader`` batch size), peak memory
    (``torch.cuda.max_memory_allocated`` on a GPU, the process' peak
    resident set size on CPU, which includes the ~0.5 GB of the
    interpreter and libraries) and the loss of the first and last step.
    The default path runs first, then each requested option alone, then
    all of them together (when more than one), then each ``--variant``
    (named config overrides, e.g. ``fused-sgd:optim_wrapper.optimizer.
    fused=True``, to compare a config change side by side with the
    default). Each case runs in a fresh
    process (its own memory peak, compile cache and allocator state) unless
    ``--in-process``; ``--rounds R`` repeats the list of cases R times,
    interleaved, and pools their steps (robust to a machine whose load
    changes). The model keeps its random initialisation: the step time does
    not depend on the weights, and nothing is downloaded.
(c) **projected wall time of the full schedule**:
    ``epochs x iterations/epoch x step + validations x batches/validation x
    val batch + (first step - step)``, with mmengine's epoch-based
    validation rule (every ``val_interval`` epochs from ``val_begin``, and
    after the last epoch). Iterations per epoch and validation batches come
    from the dataset on disk, or, for a stand-in, from ``--train-samples`` /
    ``--val-samples`` (the real split's size, spread evenly over
    ``model.head.num_classes`` identities and passed through the config's
    sampler); without them the stand-in's own size is used and the output
    says so. Data loading runs in worker processes in parallel with the
    step, so the projection is that of the model; where (a) shows the
    pipeline slower than the step at the config's worker count, the output
    says the run will be data-bound. The evaluation metric and checkpoint
    saving are not included.

Options the device cannot run are refused with the reason (``--amp`` on CPU,
``--device cuda`` without CUDA, ...; see
:func:`mmieee.utils.check_speed_options`). The options are the ones
``tools/train.py`` uses (:func:`mmieee.utils.apply_speed_options`).
Prints a table; ``--out`` writes everything as JSON.

Example (the numbers in the README's performance section)::

    python tools/analysis_tools/benchmark_train.py configs/ieee_rgbnt201.py \\
        --threads 1 --channels-last \\
        --variant 'for-loop-sgd:optim_wrapper.optimizer.fused=False' \\
        --iters 3 --warmup 1 --val-iters 1 --rounds 2 \\
        --train-samples 3951 --val-samples 836
"""
import argparse
import copy
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed

from mmieee.registry import DATA_SAMPLERS, MODELS
from mmieee.testing.synthetic import LAYOUTS, generate_synthetic_dataset
from mmieee.utils import (ConfigError, apply_speed_options,
                          check_speed_options, exit_on_user_error,
                          iter_dataset_cfgs, load_tool_config,
                          merge_cfg_options)

#: The clock of every measurement (tests replace it with a virtual one).
_clock: Callable[[], float] = time.perf_counter

#: Options in the order their cases run.
OPTIONS = ('channels_last', 'compile', 'amp')


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Measure data-pipeline and train-step throughput of a '
        'config and project the wall time of its schedule.')
    parser.add_argument('config', nargs='?', help='path of the config file')
    parser.add_argument(
        '--device',
        help='cpu or cuda (default: cuda when available, else cpu)')
    parser.add_argument(
        '--iters', type=int, default=10,
        help='timed training steps per case and round (default 10)')
    parser.add_argument(
        '--warmup', type=int, default=2,
        help='untimed steps before them, the first one reported '
        '(default 2)')
    parser.add_argument(
        '--val-iters', type=int, default=3,
        help='timed validation batches per case, after one untimed '
        '(default 3; 0: no validation in the projection)')
    parser.add_argument(
        '--batch-size', type=int,
        help='training batch size (default: the config\'s; the sampler\'s '
        'batch_size follows)')
    parser.add_argument(
        '--amp', choices=['fp16', 'bf16'],
        help='add a mixed-precision case (GPU only, like tools/train.py '
        '--amp)')
    parser.add_argument(
        '--channels-last', action='store_true',
        help='add a channels-last case (model.backbone.channels_last)')
    parser.add_argument(
        '--compile', action='store_true',
        help='add a torch.compile case (config key compile=True, as '
        'tools/train.py --compile)')
    parser.add_argument(
        '--threads', type=int, nargs='+',
        help='torch threads; several values run every case at each '
        '(default: torch\'s default)')
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        '--data-only', action='store_true',
        help='only (a), the data pipeline')
    only.add_argument(
        '--model-only', action='store_true',
        help='only (b) and (c), the training step and the projection')
    parser.add_argument(
        '--num-workers', type=int, nargs='+',
        help='dataloader worker counts for (a) (default: the config\'s)')
    parser.add_argument(
        '--data-batches', type=int, default=20,
        help='timed batches per worker count in (a), after --warmup '
        'untimed ones (default 20)')
    parser.add_argument(
        '--train-samples', type=int,
        help='training samples of the real dataset, for the projection '
        'when a synthetic stand-in is used (RGBNT201: 3951)')
    parser.add_argument(
        '--val-samples', type=int,
        help='validation samples of the real dataset, likewise '
        '(RGBNT201: 836)')
    parser.add_argument(
        '--variant', action='append', default=[], metavar='NAME:KEY=VALUE',
        help='add a case with these config overrides (comma-separated '
        'KEY=VALUE, values as in --cfg-options), e.g. '
        '"fused-sgd:optim_wrapper.optimizer.fused=True"; repeatable')
    parser.add_argument(
        '--rounds', type=int, default=1,
        help='run the list of cases this many times, interleaved '
        '(default 1)')
    parser.add_argument(
        '--in-process', action='store_true',
        help='run the cases in this process (faster start; the CPU memory '
        'peak then includes what earlier cases left allocated)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, KEY=VALUE with dotted keys')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--run-case', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_case is None and args.config is None:
        parser.error('the following arguments are required: config')
    for name in ('iters', 'warmup', 'val_iters', 'data_batches', 'rounds',
                 'batch_size', 'train_samples', 'val_samples'):
        value = getattr(args, name)
        low = 1 if name in ('iters', 'rounds', 'batch_size', 'data_batches',
                            'train_samples', 'val_samples') else 0
        if value is not None and value < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}, got '
                         f'{value}')
    if args.num_workers and min(args.num_workers) < 0:
        parser.error('--num-workers must be >= 0')
    if args.threads and min(args.threads) < 1:
        parser.error('--threads must be >= 1')
    try:
        args.variants = [parse_variant(v) for v in args.variant]
    except ValueError as err:
        parser.error(str(err))
    if args.num_workers and args.model_only:
        parser.error('--num-workers sets the data benchmark (a), which '
                     '--model-only skips')
    return args


def parse_variant(text: str) -> Tuple[str, Dict]:
    """``'NAME:KEY=VALUE,KEY=VALUE'`` -> (NAME, {KEY: VALUE}), values typed
    like ``--cfg-options``."""
    name, sep, rest = text.partition(':')
    pairs = [p for p in rest.split(',') if p]
    if not sep or not name or not pairs or any('=' not in p for p in pairs):
        raise ValueError(f'--variant {text!r}: expected NAME:KEY=VALUE[,'
                         'KEY=VALUE...]')
    return name, {
        k: DictAction._parse_iterable(v)
        for k, v in (p.split('=', 1) for p in pairs)
    }


# --------------------------------------------------------------------------
# machine facts
# --------------------------------------------------------------------------
def load_average() -> List[float]:
    """1, 5 and 15-minute load averages (empty where unknown)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def device_name(device: str) -> str:
    """Human-readable name of the device."""
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{name}, {os.cpu_count()} logical cores'


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _peak_rss_mb(reset_worked: bool) -> float:
    if reset_worked:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------
# config and data
# --------------------------------------------------------------------------
def _find_resize_hw(obj) -> Optional[Tuple[int, int]]:
    """(h, w) of the first ``Resize`` with a fixed ``scale`` in a pipeline."""
    if isinstance(obj, dict):
        if obj.get('type') == 'Resize' and 'scale' in obj:
            scale = obj['scale']
            if isinstance(scale, int):
                return scale, scale
            return int(scale[1]), int(scale[0])  # mmcv scale is (w, h)
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    else:
        return None
    for item in items:
        found = _find_resize_hw(item)
        if found:
            return found
    return None


def _missing_roots(cfg: Config) -> List[Tuple[str, str]]:
    keys = ['train_dataloader']
    if cfg.get('val_dataloader'):
        keys.append('val_dataloader')
    return [(name, ds['data_root'])
            for name, ds in iter_dataset_cfgs(cfg, keys)
            if ds.get('data_root') and not os.path.isdir(ds['data_root'])]


def make_stand_in(cfg: Config, out_dir: str, batches: int) -> dict:
    """Write a synthetic set in the layout of the config's train dataset
    and point every dataloader whose data_root is missing at it.

    Args:
        cfg (Config): Prepared config (changed in place).
        out_dir (str): Folder to write into.
        batches (int): Training batches the stand-in must hold.

    Returns:
        dict: What was written (for the report).
    """
    missing = _missing_roots(cfg)
    train = cfg.train_dataloader.dataset
    ds_type = str(train.get('type', '')).split('.')[-1]
    layout = ds_type.lower()
    if layout not in LAYOUTS:
        raise ConfigError(
            f'{missing[0][0]}.data_root={missing[0][1]!r} does not exist, '
            f'and a synthetic stand-in can only be generated for the '
            f'layouts {sorted(LAYOUTS)} (dataset type {ds_type!r}); point '
            'data_root at your data with --cfg-options')
    hw = _find_resize_hw(train.get('pipeline', [])) or (128, 64)
    height, width = hw
    width = train.get('tile_width', width)  # RGBNT100: one tile per modality
    batch = cfg.train_dataloader.batch_size
    k = cfg.train_dataloader.get('sampler', {}).get('num_instances', 1)
    p = max(1, batch // k)
    num_ids = min(int(cfg.model.head.num_classes), max(2 * p, 4))
    cameras = 2
    per_cam = max(k, math.ceil(batches * batch / (num_ids * cameras)) + k)
    val_bs = (cfg.get('val_dataloader') or {}).get('batch_size', batch)
    test_ids = max(2, math.ceil(val_bs / (cameras * per_cam)) + 1)
    info = generate_synthetic_dataset(
        out_dir, num_train_ids=num_ids, num_test_ids=test_ids,
        num_cameras=cameras, images_per_id_per_camera=per_cam,
        height=height, width=width, layout=layout)
    for name, ds in iter_dataset_cfgs(cfg):
        if ds.get('data_root') and not os.path.isdir(ds['data_root']):
            ds['data_root'] = info['root']
    return dict(
        dir=info['root'], layout=layout,
        replaced=sorted({m[1] for m in missing}),
        train_ids=num_ids, test_ids=test_ids,
        train_samples=num_ids * cameras * per_cam,
        test_samples=test_ids * cameras * per_cam, height=height,
        width=width)


def prepare_config(args) -> Config:
    """Config with the command line's batch size and overrides."""
    cfg = load_tool_config(args.config, args.cfg_options, data_keys=())
    if args.batch_size:
        loader = cfg.train_dataloader
        loader.batch_size = args.batch_size
        sampler = loader.get('sampler') or {}
        if 'batch_size' in sampler:
            k = sampler.get('num_instances', 1)
            if args.batch_size % k:
                raise ConfigError(
                    f'--batch-size {args.batch_size} is not a multiple of '
                    f'train_dataloader.sampler.num_instances={k} (a batch '
                    'is P identities x K instances)')
            sampler.batch_size = args.batch_size
    loop = cfg.get('train_cfg') or {}
    if loop.get('type', 'EpochBasedTrainLoop') != 'EpochBasedTrainLoop' \
            or not loop.get('by_epoch', True):
        raise ConfigError(
            'train_cfg: the projection follows an epoch-based schedule '
            f'(EpochBasedTrainLoop), got {dict(loop)}')
    return cfg


def _loader_cfg(cfg: Config, key: str, num_workers: int = 0) -> dict:
    loader = copy.deepcopy(cfg[key])
    loader['num_workers'] = num_workers
    loader['persistent_workers'] = False
    return loader


def first_batch(cfg: Config, key: str, size: int, seed: int) -> dict:
    """The first batch of a dataloader, repeated up to ``size`` samples."""
    loader = Runner.build_dataloader(_loader_cfg(cfg, key), seed=seed)
    batch = next(iter(loader))
    have = len(batch['data_samples'])
    if have < size:
        reps = math.ceil(size / have)
        inputs = batch['inputs']
        batch['inputs'] = inputs.repeat(
            (reps, ) + (1, ) * (inputs.dim() - 1))[:size]
        batch['data_samples'] = (batch['data_samples'] * reps)[:size]
    return batch


class _Labels:
    """A stand-in dataset of given labels, for the sampler's length."""

    def __init__(self, labels: Sequence[int]) -> None:
        self.data_list = [dict(gt_label=int(v)) for v in labels]

    def __len__(self) -> int:
        return len(self.data_list)


def schedule_sizes(cfg: Config, args, stand_in: Optional[dict],
                   seed: int) -> dict:
    """Iterations per epoch, validations and their batches (see (c))."""
    train_bs = cfg.train_dataloader.batch_size
    if stand_in is not None and args.train_samples:
        num_ids = int(cfg.model.head.num_classes)
        labels = [i * num_ids // args.train_samples
                  for i in range(args.train_samples)]
        sampler_cfg = copy.deepcopy(cfg.train_dataloader.sampler)
        sampler = DATA_SAMPLERS.build(
            sampler_cfg, default_args=dict(dataset=_Labels(labels),
                                           seed=seed))
        iters = math.ceil(len(sampler) / train_bs)
        train_source = (f'{args.train_samples} samples spread evenly over '
                        f'{num_ids} ids (--train-samples), through the '
                        "config's sampler")
    else:
        loader = Runner.build_dataloader(
            _loader_cfg(cfg, 'train_dataloader'), seed=seed)
        iters = len(loader)
        train_source = ('the synthetic stand-in (pass --train-samples for '
                        "the real dataset's size)" if stand_in else
                        'the dataset on disk')
    loop = cfg.train_cfg
    epochs = int(loop.max_epochs)
    val_interval = int(loop.get('val_interval', 1))
    val_begin = int(loop.get('val_begin', 1))
    has_val = bool(cfg.get('val_dataloader')) and \
        cfg.get('val_cfg') is not None and args.val_iters > 0
    num_val, val_batches, val_source = 0, 0, 'no validation'
    if has_val:
        num_val = sum(1 for e in range(1, epochs + 1)
                      if e >= val_begin and (e % val_interval == 0
                                             or e == epochs))
        val_bs = cfg.val_dataloader.batch_size
        if stand_in is not None and args.val_samples:
            samples = args.val_samples
            val_source = f'{samples} samples (--val-samples)'
        else:
            samples = len(Runner.build_dataloader(
                _loader_cfg(cfg, 'val_dataloader'), seed=seed).dataset)
            val_source = ('the synthetic stand-in (pass --val-samples)'
                          if stand_in else 'the dataset on disk')
        val_batches = math.ceil(samples / val_bs)
    return dict(
        epochs=epochs, iters_per_epoch=iters, train_source=train_source,
        val_interval=val_interval, val_begin=val_begin,
        validations=num_val, val_batches=val_batches,
        val_source=val_source)


def project(sizes: dict, step_s: float, first_step_s: float,
            val_batch_s: Optional[float]) -> dict:
    """Projected wall time of the schedule for one case (see (c))."""
    train_s = sizes['epochs'] * sizes['iters_per_epoch'] * step_s
    val_s = sizes['validations'] * sizes['val_batches'] * (val_batch_s or 0)
    once_s = max(0.0, first_step_s - step_s)
    return dict(train_s=train_s, val_s=val_s, once_s=once_s,
                total_s=train_s + val_s + once_s)


# --------------------------------------------------------------------------
# (a) data pipeline
# --------------------------------------------------------------------------
def benchmark_data(cfg: Config, workers: Sequence[int], batches: int,
                   warmup: int, seed: int) -> List[dict]:
    """Samples/s of the train dataloader for each worker count."""
    rows = []
    for w in workers:
        loader = Runner.build_dataloader(
            _loader_cfg(cfg, 'train_dataloader', w), seed=seed)
        load0 = load_average()
        t0 = _clock()
        it = iter(loader)
        done = 0
        for _ in range(max(1, warmup)):
            next(it)
        t1 = _clock()
        for done in range(1, batches + 1):
            try:
                batch = next(it)
            except StopIteration:
                done -= 1
                break
        t2 = _clock()
        del it
        samples = done * len(batch['data_samples']) if done else 0
        rows.append(dict(
            num_workers=w, batches=done, samples=samples,
            seconds=t2 - t1, first_batches_s=t1 - t0,
            samples_per_s=samples / (t2 - t1) if t2 > t1 else float('nan'),
            load_average=load0))
    return rows


# --------------------------------------------------------------------------
# (b) training step
# --------------------------------------------------------------------------
def case_specs(args) -> List[dict]:
    """The default case, each requested option alone, then all together."""
    chosen = [o for o in OPTIONS if getattr(args, o)]
    combos = [dict()] + [{o: getattr(args, o)} for o in chosen]
    if len(chosen) > 1:
        combos.append({o: getattr(args, o) for o in chosen})
    cases = [(' + '.join(f'amp-{v}' if o == 'amp' else o.replace('_', '-')
                         for o, v in combo.items()) or 'default', combo, {})
             for combo in combos]
    cases += [(name, {}, overrides) for name, overrides in args.variants]
    specs = []
    for threads in (args.threads or [None]):
        for name, combo, overrides in cases:
            if args.threads and len(args.threads) > 1:
                name += f' @{threads} threads'
            specs.append(dict(name=name, options=combo, cfg_options=overrides,
                              threads=threads))
    return specs


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def run_case(cfg: Config, spec: dict, device: str, iters: int, warmup: int,
             val_iters: int, seed: int) -> dict:
    """Time ``train_step`` (and ``val_step``) of one case.

    Args:
        cfg (Config): Prepared config (data roots that exist).
        spec (dict): ``name``, ``options`` (channels_last / compile / amp)
            and ``threads``.
        device (str): ``'cpu'`` or ``'cuda[:N]'``.
        iters (int): Timed training steps.
        warmup (int): Untimed training steps before them (at least one is
            run and reported as the first step).
        val_iters (int): Timed validation batches (after one untimed); 0:
            none.
        seed (int): Seed of the model initialisation and the batch.

    Returns:
        dict: ``step_s`` (timed step durations), ``first_step_s``,
        ``val_batch_s`` (durations), ``peak_mem_mb``, ``mem_kind``,
        ``losses`` (first and last), ``threads``, ``load_average``.
    """
    cfg = copy.deepcopy(cfg)
    merge_cfg_options(cfg, spec.get('cfg_options'))
    opts = spec['options']
    apply_speed_options(cfg, amp=opts.get('amp'),
                        channels_last=bool(opts.get('channels_last')),
                        compile=bool(opts.get('compile')))
    old_threads = torch.get_num_threads()
    if spec.get('threads'):
        torch.set_num_threads(spec['threads'])
    try:
        return _run_case(cfg, spec, device, iters, warmup, val_iters, seed)
    finally:
        torch.set_num_threads(old_threads)


def _run_case(cfg, spec, device, iters, warmup, val_iters, seed) -> dict:
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    # What the Runner's setup_env / set_randomness do before training.
    env = cfg.get('env_cfg') or {}
    torch.backends.cudnn.benchmark = bool(env.get('cudnn_benchmark', False))
    rand = cfg.get('randomness') or {}
    set_random_seed(seed, deterministic=bool(rand.get('deterministic')))
    load0 = load_average()

    train_batch = first_batch(cfg, 'train_dataloader',
                              cfg.train_dataloader.batch_size, seed)
    val_batch = None
    if val_iters and cfg.get('val_dataloader'):
        val_batch = first_batch(cfg, 'val_dataloader',
                                cfg.val_dataloader.batch_size, seed)

    cuda = device.startswith('cuda')
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    rss_reset = _reset_peak_rss()
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model).to(device)
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    compile_cfg = cfg.get('compile')
    if compile_cfg:
        # As mmengine's Runner._maybe_compile does for training.
        kwargs = {} if compile_cfg is True else dict(compile_cfg)
        model.train_step = torch.compile(model.train_step, **kwargs)
    data = model.data_preprocessor.cast_data(train_batch)
    _sync(device)

    def step() -> Dict[str, float]:
        log_vars = model.train_step(data, optim_wrapper=optim_wrapper)
        # RuntimeInfoHook: update_scalar(value) -> float (a host sync).
        return {k: v.item() for k, v in log_vars.items()}

    times, losses = [], []
    for i in range(max(1, warmup) + iters):
        t0 = _clock()
        logged = step()
        _sync(device)
        times.append(_clock() - t0)
        if i == 0 or i == max(1, warmup) + iters - 1:
            losses.append(logged.get('loss'))
    first = times[0]
    timed = times[max(1, warmup):]

    val_times = []
    if val_batch is not None:
        model.eval()
        vdata = model.data_preprocessor.cast_data(val_batch)
        with torch.no_grad():
            for i in range(1 + val_iters):
                t0 = _clock()
                model.val_step(vdata)
                _sync(device)
                if i:
                    val_times.append(_clock() - t0)
    if cuda:
        peak, kind = torch.cuda.max_memory_allocated(device) / 2**20, \
            'max_memory_allocated'
    else:
        peak = _peak_rss_mb(rss_reset)
        kind = 'peak RSS' if rss_reset else 'peak RSS (process lifetime)'
    return dict(
        name=spec['name'], options=spec['options'],
        cfg_options=spec.get('cfg_options') or {},
        threads=torch.get_num_threads(), step_s=timed,
        first_step_s=first, val_batch_s=val_times, peak_mem_mb=peak,
        mem_kind=kind, loss_first=losses[0], loss_last=losses[-1],
        load_average=load0)


def _run_case_subprocess(cfg_path: str, spec: dict, args,
                         device: str) -> dict:
    payload = dict(cfg=cfg_path, spec=spec, device=device, iters=args.iters,
                   warmup=args.warmup, val_iters=args.val_iters,
                   seed=args.seed)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--run-case',
         json.dumps(payload)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'case {spec["name"]!r} failed (exit status '
                       f'{proc.returncode}):\n{proc.stderr[-4000:]}')


def _case_main(payload: str) -> None:
    job = json.loads(payload)
    cfg = Config.fromfile(job['cfg'])
    result = run_case(cfg, job['spec'], job['device'], job['iters'],
                      job['warmup'], job['val_iters'], job['seed'])
    print('RESULT ' + json.dumps(result), flush=True)


def summarize(results: List[dict], batch_size: int, sizes: Optional[dict]
              ) -> List[dict]:
    """Pool the rounds of each case and add rates and the projection."""
    by_name: Dict[str, List[dict]] = {}
    for r in results:
        by_name.setdefault(r['name'], []).append(r)
    rows = []
    for name, runs in by_name.items():
        steps = [t for r in runs for t in r['step_s']]
        vals = [t for r in runs for t in r['val_batch_s']]
        step = statistics.median(steps)
        first = max(r['first_step_s'] for r in runs)
        val = statistics.median(vals) if vals else None
        row = dict(
            name=name, options=runs[0]['options'],
            cfg_options=runs[0]['cfg_options'],
            threads=runs[0]['threads'], step_s=step,
            step_min_s=min(steps), step_max_s=max(steps),
            steps_timed=len(steps), round_medians_s=[
                statistics.median(r['step_s']) for r in runs
            ], iters_per_s=1.0 / step, triplets_per_s=batch_size / step,
            first_step_s=first, val_batch_s=val,
            peak_mem_mb=max(r['peak_mem_mb'] for r in runs),
            mem_kind=runs[0]['mem_kind'], loss_first=runs[0]['loss_first'],
            loss_last=runs[0]['loss_last'],
            load_average=[r['load_average'] for r in runs])
        if sizes is not None:
            row['projection'] = project(sizes, step, first, val)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f'{seconds / 3600:.1f} h'
    if seconds >= 60:
        return f'{seconds / 60:.1f} min'
    return f'{seconds:.1f} s'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ['  '.join(str(x).ljust(w) for x, w in zip(line, widths))
             for line in [header, *rows]]
    return '\n'.join('  ' + ln.rstrip() for ln in lines)


def report(res: dict) -> str:
    """The printed report of a run (``res`` as written by ``--out``)."""
    out = [f'Training benchmark of {res["config"]}',
           f'device: {res["device"]} ({res["device_name"]}); torch '
           f'{res["torch"]}; default torch threads {res["torch_threads"]}',
           f'load average (1/5/15 min) at start: '
           f'{res["load_average_start"]}']
    stand_in = res.get('stand_in')
    if stand_in:
        out.append(
            f'data: {", ".join(stand_in["replaced"])} does not exist -> '
            f'synthetic stand-in in the {stand_in["layout"]} layout at '
            '(temporary) '
            f'{stand_in["dir"]}: {stand_in["train_samples"]} training '
            f'triplets ({stand_in["train_ids"]} ids), '
            f'{stand_in["test_samples"]} test triplets, '
            f'{stand_in["height"]}x{stand_in["width"]} images')
    else:
        out.append('data: the config\'s dataset on disk')
    if res.get('data'):
        d = res['data_settings']
        out.append(f'\n(a) data pipeline: train_dataloader, batch '
                   f'{d["batch_size"]}, {d["batches"]} timed batches after '
                   f'{d["warmup"]} (worker start-up included in "first '
                   'batches")')
        out.append(_table(
            ['workers', 'samples/s', 'first batches s', 'load avg'],
            [[r['num_workers'], f'{r["samples_per_s"]:.1f}',
              f'{r["first_batches_s"]:.2f}',
              ' '.join(map(str, r['load_average']))]
             for r in res['data']]))
    if res.get('cases'):
        m = res['model_settings']
        out.append(
            f'\n(b) train step on a device-resident batch of '
            f'{m["batch_size"]} triplets {m["input_shape"]}: median of '
            f'{m["iters"]} timed steps x {m["rounds"]} round(s) after '
            f'{m["warmup"]} warm-up; val batch = val_step on '
            f'{m["val_batch_size"]} triplets; peak memory = '
            f'{res["cases"][0]["mem_kind"]}'
            + ('' if m['isolated'] else ' (cases run in one process)'))
        rows = []
        for c in res['cases']:
            rows.append([
                c['name'], c['threads'], f'{c["iters_per_s"]:.3f}',
                f'{c["triplets_per_s"]:.2f}',
                f'{c["step_s"] * 1e3:.0f} ({c["step_min_s"] * 1e3:.0f}-'
                f'{c["step_max_s"] * 1e3:.0f})',
                f'{c["first_step_s"]:.2f}',
                '-' if c['val_batch_s'] is None else
                f'{c["val_batch_s"]:.3f}', f'{c["peak_mem_mb"]:.0f} MB',
                f'{c["loss_first"]:.5f}', f'{c["loss_last"]:.5f}',
                ' '.join(map(str, c['load_average'][0]))
            ])
        out.append(_table(
            ['option', 'thr', 'it/s', 'triplets/s', 'step ms (min-max)',
             'first s', 'val batch s', 'peak mem', 'loss@1', 'loss@last',
             'load avg'], rows))
    sizes = res.get('schedule')
    if sizes and res.get('cases'):
        out.append(
            f'\n(c) projected schedule: {sizes["epochs"]} epochs x '
            f'{sizes["iters_per_epoch"]} iterations (from '
            f'{sizes["train_source"]}) + {sizes["validations"]} '
            f'validations x {sizes["val_batches"]} batches (from '
            f'{sizes["val_source"]}); model time only')
        out.append(_table(
            ['option', 'training', 'validation', 'one-time', 'total'],
            [[c['name'], _hours(c['projection']['train_s']),
              _hours(c['projection']['val_s']),
              _hours(c['projection']['once_s']),
              _hours(c['projection']['total_s'])] for c in res['cases']]))
        bound = res.get('data_bound')
        if bound:
            out.append(
                f'  note: at the config\'s {bound["num_workers"]} workers '
                f'the data pipeline delivers a batch every '
                f'{bound["batch_s"] * 1e3:.0f} ms, slower than the fastest '
                f'step ({bound["step_s"] * 1e3:.0f} ms): training will be '
                'data-bound, the projection is a lower bound')
    out.append(f'\nload average (1/5/15 min) at end: '
               f'{res["load_average_end"]}')
    return '\n'.join(out)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def run(args, tmp_dir: str) -> dict:
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    check_speed_options(device, amp=args.amp, compile=args.compile)
    cfg = prepare_config(args)
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    res = dict(
        config=args.config, device=device, device_name=device_name(device),
        torch=torch.__version__, torch_threads=torch.get_num_threads(),
        load_average_start=load_average(), command=' '.join(sys.argv))
    stand_in = None
    if _missing_roots(cfg):
        stand_in = make_stand_in(
            cfg, tmp_dir, batches=max(1, args.warmup) + args.data_batches)
    res['stand_in'] = stand_in
    batch_size = cfg.train_dataloader.batch_size

    if not args.model_only:
        workers = args.num_workers or [cfg.train_dataloader.num_workers]
        res['data_settings'] = dict(batch_size=batch_size,
                                    batches=args.data_batches,
                                    warmup=max(1, args.warmup))
        res['data'] = benchmark_data(cfg, workers, args.data_batches,
                                     args.warmup, args.seed)
    if not args.data_only:
        sizes = schedule_sizes(cfg, args, stand_in, args.seed)
        res['schedule'] = sizes
        specs = case_specs(args)
        cfg_path = os.path.join(tmp_dir, 'benchmark_config.py')
        if not args.in_process:
            cfg.dump(cfg_path)
        results = []
        for _ in range(args.rounds):
            for spec in specs:
                if args.in_process:
                    results.append(run_case(cfg, spec, device, args.iters,
                                            args.warmup, args.val_iters,
                                            args.seed))
                else:
                    results.append(_run_case_subprocess(cfg_path, spec, args,
                                                        device))
                print(f'  done: {spec["name"]} (median step '
                      f'{statistics.median(results[-1]["step_s"]):.3f} s)',
                      file=sys.stderr, flush=True)
        res['cases'] = summarize(results, batch_size, sizes)
        sample = first_batch(cfg, 'train_dataloader', batch_size, args.seed)
        res['model_settings'] = dict(
            batch_size=batch_size,
            input_shape='x'.join(map(str, sample['inputs'].shape[1:])),
            iters=args.iters, warmup=max(1, args.warmup), rounds=args.rounds,
            val_batch_size=(cfg.get('val_dataloader') or {}).get(
                'batch_size'), isolated=not args.in_process)
        config_workers = cfg.train_dataloader.num_workers
        data_row = [r for r in res.get('data', [])
                    if r['num_workers'] == config_workers]
        if data_row and data_row[0]['samples_per_s'] > 0:
            batch_s = batch_size / data_row[0]['samples_per_s']
            fastest = min(c['step_s'] for c in res['cases'])
            if batch_s > fastest:
                res['data_bound'] = dict(num_workers=config_workers,
                                         batch_s=batch_s, step_s=fastest)
    res['load_average_end'] = load_average()
    return res


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.run_case:
        _case_main(args.run_case)
        return {}
    with exit_on_user_error(), tempfile.TemporaryDirectory(
            prefix='mmieee_bench_') as tmp:
        res = run(args, tmp)
    print(report(res), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=2)
        print(f'results written to {args.out}')
    return res


if __name__ == '__main__':
    main()
