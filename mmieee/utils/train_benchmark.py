# Copyright (c) mmieee contributors.
"""Timing of a config's training: data pipeline, train step, schedule.

What ``tools/analysis_tools/benchmark_train.py`` measures (as
``mmdet/utils/benchmark.py`` serves mmdet's benchmark tool):

* :func:`time_dataloader`: samples/s of the config's ``train_dataloader``,
  built by mmengine's ``Runner.build_dataloader`` as training builds it;
* :func:`time_train_step`: ``model.train_step`` with the config's optimizer
  wrapper on a batch that stays on the device, followed by reading the
  logged values as floats (what mmengine's ``RuntimeInfoHook`` does every
  iteration; on a GPU the host sync that ends the step), and ``val_step``
  on one validation batch;
* :func:`schedule_sizes` and :func:`project`: the wall time of the whole
  schedule, ``epochs x iterations/epoch x step + validations x
  batches/validation x val batch + (first step - step)``, with mmengine's
  epoch-based validation rule (every ``val_interval`` epochs from
  ``val_begin``, and after the last epoch).

The model keeps its random initialisation: the step time does not depend on
the weights. Options are applied by the caller
(:func:`mmieee.utils.apply_speed_options`, as ``tools/train.py`` does).
"""
import copy
import math
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed

from mmieee.registry import DATA_SAMPLERS, MODELS

from .cpu_load import load_average
from .peak_memory import PeakMemory

#: The clock of every measurement (tests replace it with a virtual one).
_clock: Callable[[], float] = time.perf_counter


def loader_cfg(cfg: Config, key: str, num_workers: int = 0) -> dict:
    """A copy of ``cfg[key]`` (a dataloader) with ``num_workers``."""
    loader = copy.deepcopy(cfg[key])
    loader['num_workers'] = num_workers
    loader['persistent_workers'] = False
    return loader


def first_batch(cfg: Config, key: str, size: int, seed: int) -> dict:
    """The first batch of a dataloader, repeated up to ``size`` samples."""
    loader = Runner.build_dataloader(loader_cfg(cfg, key), seed=seed)
    batch = next(iter(loader))
    have = len(batch['data_samples'])
    if have < size:
        reps = math.ceil(size / have)
        inputs = batch['inputs']
        batch['inputs'] = inputs.repeat(
            (reps, ) + (1, ) * (inputs.dim() - 1))[:size]
        batch['data_samples'] = (batch['data_samples'] * reps)[:size]
    return batch


def time_dataloader(cfg: Config, num_workers: int, batches: int,
                    warmup: int, seed: int) -> dict:
    """Samples/s of the train dataloader with ``num_workers`` workers.

    Args:
        cfg (Config): Config whose data roots exist.
        num_workers (int): Dataloader worker processes.
        batches (int): Timed batches (fewer when the dataset ends first).
        warmup (int): Untimed batches before them (at least one; worker
            start-up included).
        seed (int): Seed of the sampler.

    Returns:
        dict: ``num_workers``, ``batches``, ``samples``, ``seconds``,
        ``first_batches_s``, ``samples_per_s``, ``load_average``.
    """
    loader = Runner.build_dataloader(
        loader_cfg(cfg, 'train_dataloader', num_workers), seed=seed)
    load0 = load_average()
    t0 = _clock()
    it = iter(loader)
    for _ in range(max(1, warmup)):
        next(it)
    t1 = _clock()
    done, samples = 0, 0
    for batch in it:
        samples += len(batch['data_samples'])
        done += 1
        if done == batches:
            break
    t2 = _clock()
    del it
    return dict(
        num_workers=num_workers, batches=done, samples=samples,
        seconds=t2 - t1, first_batches_s=t1 - t0,
        samples_per_s=samples / (t2 - t1) if t2 > t1 else float('nan'),
        load_average=load0)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def time_train_step(cfg: Config, name: str, device: str, iters: int,
                    warmup: int, val_iters: int, seed: int) -> dict:
    """Time ``train_step`` (and ``val_step``) of a prepared config.

    Args:
        cfg (Config): Config with its options applied and data roots that
            exist.
        name (str): The case's name (copied into the result).
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
        ``loss_first`` / ``loss_last``, ``threads``, ``load_average``.
    """
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

    peak = PeakMemory(device)
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

    times, losses = [], []
    steps = max(1, warmup) + iters
    for i in range(steps):
        t0 = _clock()
        log_vars = model.train_step(data, optim_wrapper=optim_wrapper)
        # RuntimeInfoHook: update_scalar(value) -> float (a host sync).
        logged = {k: v.item() for k, v in log_vars.items()}
        _sync(device)
        times.append(_clock() - t0)
        if i in (0, steps - 1):
            losses.append(logged.get('loss'))

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
    return dict(
        name=name, threads=torch.get_num_threads(),
        step_s=times[max(1, warmup):], first_step_s=times[0],
        val_batch_s=val_times, peak_mem_mb=peak.peak_bytes() / 2**20,
        mem_kind=peak.kind, loss_first=losses[0], loss_last=losses[-1],
        load_average=load0)


class _Labels:
    """A stand-in dataset of given labels, for the sampler's length."""

    def __init__(self, labels: Sequence[int]) -> None:
        self.data_list = [dict(gt_label=int(v)) for v in labels]

    def __len__(self) -> int:
        return len(self.data_list)


def schedule_sizes(cfg: Config, seed: int, validate: bool = True,
                   train_samples: Optional[int] = None,
                   val_samples: Optional[int] = None,
                   source: str = 'the dataset on disk') -> dict:
    """Iterations per epoch, validations and their batches.

    Args:
        cfg (Config): Config whose data roots exist.
        seed (int): Seed of the sampler.
        validate (bool): Count validations (when the config has them).
        train_samples (int, optional): Training samples of the real
            dataset, spread evenly over ``model.head.num_classes`` ids and
            passed through the config's sampler, instead of the dataset on
            disk.
        val_samples (int, optional): Validation samples, likewise.
        source (str): What the dataset on disk is (for the report).

    Returns:
        dict: ``epochs``, ``iters_per_epoch``, ``train_source``,
        ``val_interval``, ``val_begin``, ``validations``, ``val_batches``,
        ``val_source``.
    """
    train_bs = cfg.train_dataloader.batch_size
    if train_samples:
        num_ids = int(cfg.model.head.num_classes)
        labels = [i * num_ids // train_samples for i in range(train_samples)]
        sampler = DATA_SAMPLERS.build(
            copy.deepcopy(cfg.train_dataloader.sampler),
            default_args=dict(dataset=_Labels(labels), seed=seed))
        iters = math.ceil(len(sampler) / train_bs)
        train_source = (f'{train_samples} samples spread evenly over '
                        f'{num_ids} ids (--train-samples), through the '
                        "config's sampler")
    else:
        iters = len(Runner.build_dataloader(
            loader_cfg(cfg, 'train_dataloader'), seed=seed))
        train_source = source
    loop = cfg.train_cfg
    epochs = int(loop.max_epochs)
    val_interval = int(loop.get('val_interval', 1))
    val_begin = int(loop.get('val_begin', 1))
    num_val, val_batches, val_source = 0, 0, 'no validation'
    if validate and cfg.get('val_dataloader') and \
            cfg.get('val_cfg') is not None:
        num_val = sum(1 for e in range(1, epochs + 1)
                      if e >= val_begin and (e % val_interval == 0
                                             or e == epochs))
        if val_samples:
            samples = val_samples
            val_source = f'{samples} samples (--val-samples)'
        else:
            samples = len(Runner.build_dataloader(
                loader_cfg(cfg, 'val_dataloader'), seed=seed).dataset)
            val_source = source
        val_batches = math.ceil(samples / cfg.val_dataloader.batch_size)
    return dict(
        epochs=epochs, iters_per_epoch=iters, train_source=train_source,
        val_interval=val_interval, val_begin=val_begin,
        validations=num_val, val_batches=val_batches,
        val_source=val_source)


def project(sizes: dict, step_s: float, first_step_s: float,
            val_batch_s: Optional[float]) -> dict:
    """Projected wall time of the schedule for one case (seconds)."""
    train_s = sizes['epochs'] * sizes['iters_per_epoch'] * step_s
    val_s = sizes['validations'] * sizes['val_batches'] * (val_batch_s or 0)
    once_s = max(0.0, first_step_s - step_s)
    return dict(train_s=train_s, val_s=val_s, once_s=once_s,
                total_s=train_s + val_s + once_s)


def summarize(results: List[dict], batch_size: int,
              sizes: Optional[dict]) -> List[dict]:
    """Pool the rounds of each case (by ``name``, in order of first
    appearance) and add rates and the projection."""
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
        row = dict(runs[0], step_s=step, step_min_s=min(steps),
                   step_max_s=max(steps), steps_timed=len(steps),
                   round_medians_s=[statistics.median(r['step_s'])
                                    for r in runs],
                   iters_per_s=1.0 / step, triplets_per_s=batch_size / step,
                   first_step_s=first, val_batch_s=val,
                   peak_mem_mb=max(r['peak_mem_mb'] for r in runs),
                   load_average=[r['load_average'] for r in runs])
        if sizes is not None:
            row['projection'] = project(sizes, step, first, val)
        rows.append(row)
    return rows
