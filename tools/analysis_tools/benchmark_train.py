# Copyright (c) mmieee contributors.
"""Measure the training throughput of a config, on any machine.

    python tools/analysis_tools/benchmark_train.py CONFIG [--device cpu|cuda]
        [--iters N] [--warmup N] [--val-iters N] [--batch-size B]
        [--amp fp16|bf16] [--channels-last] [--compile] [--threads T ...]
        [--data-only | --model-only] [--num-workers W ...]
        [--train-samples N] [--val-samples N] [--variant NAME:KEY=VALUE,...]
        [--rounds R] [--in-process] [--cfg-options KEY=VALUE ...]
        [--out results.json]

In one run, side by side (what each figure is: docs/performance.md; the
measurements: :mod:`mmieee.utils.train_benchmark`): (a) samples/s of the
config's ``train_dataloader`` for each ``--num-workers``; (b) the training
step on a device-resident batch for the default path, each requested option
alone, all of them together, then each ``--variant`` (named config
overrides), each case in a fresh process unless ``--in-process``, the
cases repeated ``--rounds`` times interleaved; (c) the projected wall time
of the config's schedule. When the config's ``data_root`` does not exist, a
synthetic stand-in in the dataset's layout is written to a temporary folder
by :func:`mmieee.testing.generate_synthetic_dataset` (the generator of
``tools/dataset_converters/generate_synthetic.py``) and the output says so;
``--train-samples`` / ``--val-samples`` then give the real split's size to
the projection.

Options the device cannot run are refused with the reason
(:func:`mmieee.utils.check_speed_options`); the options are applied as
``tools/train.py`` applies them (:func:`mmieee.utils.apply_speed_options`).
Each result is printed as it is measured and ``--out`` is rewritten after
each one (``"complete": false`` until the end), so a run cut short keeps
every figure measured so far; the table is printed at the end (or at the
cut).

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
import statistics
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmieee.testing.synthetic import LAYOUTS, generate_synthetic_dataset
from mmieee.utils import (ConfigError, apply_speed_options,
                          check_speed_options, exit_on_user_error,
                          get_test_input_size, iter_dataset_cfgs,
                          load_tool_config, merge_cfg_options)
from mmieee.utils.atomic_file import atomic_write
from mmieee.utils.cpu_load import load_average
from mmieee.utils.text_table import format_table
from mmieee.utils.train_benchmark import (first_batch, schedule_sizes,
                                          summarize, time_dataloader,
                                          time_train_step)

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
# config and data
# --------------------------------------------------------------------------
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


def _missing_roots(cfg: Config) -> list:
    keys = ['train_dataloader'] + ['val_dataloader'] * bool(
        cfg.get('val_dataloader'))
    return [(name, ds['data_root'])
            for name, ds in iter_dataset_cfgs(cfg, keys)
            if ds.get('data_root') and not os.path.isdir(ds['data_root'])]


def make_stand_in(cfg: Config, out_dir: str, batches: int) -> dict:
    """Write the project's synthetic set in the layout of the config's
    train dataset and point every dataloader whose data_root is missing at
    it: at most as many ids as the classifier has, at the input size of the
    test pipeline, enough images per id for ``batches`` training batches.

    Returns:
        dict: What was written (for the report).
    """
    missing = _missing_roots(cfg)
    train = cfg.train_dataloader.dataset
    ds_type = str(train.get('type', '')).split('.')[-1]
    if ds_type.lower() not in LAYOUTS:
        raise ConfigError(
            f'{missing[0][0]}.data_root={missing[0][1]!r} does not exist, '
            f'and a synthetic stand-in can only be generated for the '
            f'layouts {sorted(LAYOUTS)} (dataset type {ds_type!r}); point '
            'data_root at your data with --cfg-options')
    height, width = get_test_input_size(cfg) or (128, 64)
    width = train.get('tile_width', width)  # RGBNT100: one tile per modality
    num_ids = min(int(cfg.model.head.num_classes), 40)
    cameras = 4
    per_cam = max(3, math.ceil(
        batches * cfg.train_dataloader.batch_size / (num_ids * cameras)))
    info = generate_synthetic_dataset(
        out_dir, num_train_ids=num_ids, num_cameras=cameras,
        images_per_id_per_camera=per_cam, height=height, width=width,
        layout=ds_type.lower())
    for _, ds in iter_dataset_cfgs(cfg):
        if ds.get('data_root') and not os.path.isdir(ds['data_root']):
            ds['data_root'] = info['root']
    train_folder = LAYOUTS[ds_type.lower()].LAYOUT.split_folders['train']
    return dict(
        dir=info['root'], layout=ds_type.lower(),
        replaced=sorted({m[1] for m in missing}), train_ids=num_ids,
        train_samples=info['samples'][train_folder],
        test_samples=sum(info['samples'].values()) -
        info['samples'][train_folder], height=height, width=width)


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


def run_case(cfg: Config, spec: dict, device: str, iters: int, warmup: int,
             val_iters: int, seed: int) -> dict:
    """One case: ``spec`` (``name``, ``options``, ``cfg_options``,
    ``threads``) applied to a copy of ``cfg``, then timed
    (:func:`mmieee.utils.train_benchmark.time_train_step`)."""
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
        result = time_train_step(cfg, spec['name'], device, iters, warmup,
                                 val_iters, seed)
    finally:
        torch.set_num_threads(old_threads)
    return dict(result, options=opts,
                cfg_options=spec.get('cfg_options') or {})


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


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f'{seconds / 3600:.1f} h'
    if seconds >= 60:
        return f'{seconds / 60:.1f} min'
    return f'{seconds:.1f} s'


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
        out.append(format_table(
            ['workers', 'samples/s', 'first batches s', 'load avg'],
            [[r['num_workers'], f'{r["samples_per_s"]:.1f}',
              f'{r["first_batches_s"]:.2f}',
              ' '.join(map(str, r['load_average']))]
             for r in res['data']], indent=2))
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
        out.append(format_table(
            ['option', 'thr', 'it/s', 'triplets/s', 'step ms (min-max)',
             'first s', 'val batch s', 'peak mem', 'loss@1', 'loss@last',
             'load avg'], rows, indent=2))
    sizes = res.get('schedule')
    if sizes and res.get('cases'):
        out.append(
            f'\n(c) projected schedule: {sizes["epochs"]} epochs x '
            f'{sizes["iters_per_epoch"]} iterations (from '
            f'{sizes["train_source"]}) + {sizes["validations"]} '
            f'validations x {sizes["val_batches"]} batches (from '
            f'{sizes["val_source"]}); model time only')
        out.append(format_table(
            ['option', 'training', 'validation', 'one-time', 'total'],
            [[c['name']] + [_hours(c['projection'][k]) for k in
                            ('train_s', 'val_s', 'once_s', 'total_s')]
             for c in res['cases']], indent=2))
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
def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args, tmp_dir: str, res: dict, save) -> None:
    """Measure into ``res``, calling ``save()`` after each result."""
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    check_speed_options(device, amp=args.amp, compile=args.compile)
    cfg = prepare_config(args)
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    res.update(
        config=args.config, device=device, device_name=device_name(device),
        torch=torch.__version__, torch_threads=torch.get_num_threads(),
        load_average_start=load_average(), command=' '.join(sys.argv))
    stand_in = None
    if _missing_roots(cfg):
        stand_in = make_stand_in(
            cfg, tmp_dir, batches=max(1, args.warmup) + args.data_batches)
    res['stand_in'] = stand_in
    batch_size = cfg.train_dataloader.batch_size
    save()

    if not args.model_only:
        workers = args.num_workers or [cfg.train_dataloader.num_workers]
        res['data_settings'] = dict(batch_size=batch_size,
                                    batches=args.data_batches,
                                    warmup=max(1, args.warmup))
        res['data'] = []
        for w in workers:
            row = time_dataloader(cfg, w, args.data_batches, args.warmup,
                                  args.seed)
            res['data'].append(row)
            save()
            _progress(f'  done: (a) {w} workers: '
                      f'{row["samples_per_s"]:.1f} samples/s')
    if args.data_only:
        return
    source = ('the synthetic stand-in (pass --train-samples / --val-samples '
              "for the real dataset's size)" if stand_in else
              'the dataset on disk')
    sizes = schedule_sizes(
        cfg, args.seed, validate=args.val_iters > 0,
        train_samples=args.train_samples if stand_in else None,
        val_samples=args.val_samples if stand_in else None, source=source)
    res['schedule'] = sizes
    sample = first_batch(cfg, 'train_dataloader', batch_size, args.seed)
    res['model_settings'] = dict(
        batch_size=batch_size,
        input_shape='x'.join(map(str, sample['inputs'].shape[1:])),
        iters=args.iters, warmup=max(1, args.warmup), rounds=args.rounds,
        val_batch_size=(cfg.get('val_dataloader') or {}).get('batch_size'),
        isolated=not args.in_process)
    specs = case_specs(args)
    cfg_path = os.path.join(tmp_dir, 'benchmark_config.py')
    if not args.in_process:
        cfg.dump(cfg_path)
    results = []
    for r in range(args.rounds):
        for spec in specs:
            if args.in_process:
                result = run_case(cfg, spec, device, args.iters,
                                  args.warmup, args.val_iters, args.seed)
            else:
                result = _run_case_subprocess(cfg_path, spec, args, device)
            results.append(result)
            res['cases'] = summarize(results, batch_size, sizes)
            save()
            _progress(
                f'  done: {spec["name"]}, round {r + 1}/{args.rounds} '
                f'({len(results)}/{args.rounds * len(specs)}): median step '
                f'{statistics.median(result["step_s"]):.3f} s, peak '
                f'{result["peak_mem_mb"]:.0f} MB, loss '
                f'{result["loss_first"]:.5f} -> {result["loss_last"]:.5f}')
    config_workers = cfg.train_dataloader.num_workers
    data_row = [r for r in res.get('data', [])
                if r['num_workers'] == config_workers]
    if data_row and data_row[0]['samples_per_s'] > 0:
        batch_s = batch_size / data_row[0]['samples_per_s']
        fastest = min(c['step_s'] for c in res['cases'])
        if batch_s > fastest:
            res['data_bound'] = dict(num_workers=config_workers,
                                     batch_s=batch_s, step_s=fastest)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.run_case:
        _case_main(args.run_case)
        return {}
    res = dict(complete=False)

    def save() -> None:
        if not args.out:
            return
        try:
            atomic_write(json.dumps(res, indent=2).encode('utf-8'), args.out)
        except OSError as err:
            raise ConfigError(f'--out {args.out}: cannot write it ({err})')

    try:
        with exit_on_user_error(), tempfile.TemporaryDirectory(
                prefix='mmieee_bench_') as tmp:
            run(args, tmp, res, save)
    except (KeyboardInterrupt, RuntimeError) as err:
        # Keep what was measured: the table so far, and --out as it is.
        res['load_average_end'] = load_average()
        save()
        if 'config' in res:
            print(report(res), flush=True)
        cause = 'Ctrl-C' if isinstance(err, KeyboardInterrupt) else \
            'a case failed'
        print(f'Interrupted ({cause}): the table above holds what was '
              'measured so far' + (f', and {args.out}' if args.out else ''),
              file=sys.stderr, flush=True)
        raise
    res['load_average_end'] = load_average()
    res['complete'] = True
    save()
    print(report(res), flush=True)
    if args.out:
        print(f'results written to {args.out}')
    return res


if __name__ == '__main__':
    main()
