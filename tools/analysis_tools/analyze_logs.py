# Copyright (c) mmieee contributors.
"""Plot training curves and report training time from mmengine's logs.

    python tools/analysis_tools/analyze_logs.py plot_curve LOG [LOG ...]
        [--keys loss reid/mAP] [--legend NAME ...] [--title T]
        [--out FILE.png] [--window-size 12*7]
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG [LOG ...]
        [--include-outliers]

mmpretrain's interface, on mmieee's logs: ``LOG`` is the
``vis_data/scalars.json`` a training run writes (one JSON object per
logged step; training lines carry ``lr``, validation lines the metrics), or
a run / work folder, in which case the newest ``*/vis_data/scalars.json``
under it is read. ``plot_curve`` draws one panel per key against epochs
(iterations for iteration-based runs), one curve per log; without
``--out`` the figure is shown. ``cal_train_time`` prints the mean time per
iteration (the first iteration of each epoch left out unless
``--include-outliers``), the slowest and fastest epochs and the data time.
"""
import argparse
import glob
import json
import os.path as osp
import re
from itertools import groupby
from pathlib import Path
from typing import Dict, List, Optional

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import numpy as np

from mmieee.utils import (ConfigError, check_output_file, exit_on_user_error,
                          writing)

LogDict = Dict[str, List[dict]]


def resolve_log(path: str) -> str:
    """The scalars file of ``path`` (a file, or a run / work folder)."""
    if osp.isdir(path):
        found = sorted(
            glob.glob(osp.join(path, 'vis_data', 'scalars.json')) +
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
        if not found:
            raise ConfigError(
                f'no vis_data/scalars.json under {path!r} (a training work '
                'folder holds <timestamp>/vis_data/scalars.json)')
        return found[-1]  # timestamps sort by time
    if not osp.isfile(path):
        raise ConfigError(f'log {path!r} does not exist')
    if not path.endswith('.json'):
        raise ConfigError(f'log {path!r} is not a .json file (give '
                          '<work_dir>/<timestamp>/vis_data/scalars.json)')
    return path


def load_log(path: str) -> LogDict:
    """Split a scalars file into training and validation lines.

    As mmpretrain's ``load_json_log`` (a training line has ``lr``), but an
    unreadable line is reported with its number.

    Args:
        path (str): A ``scalars.json`` (JSON lines).

    Returns:
        dict: ``train`` and ``val``, lists of dicts in file order.
    """
    log: LogDict = dict(train=[], val=[])
    with open(path, encoding='utf-8') as f:
        for num, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f'{path}, line {num}: not JSON ({err})')
            if not isinstance(entry, dict) or 'step' not in entry:
                raise ConfigError(f'{path}, line {num}: expected a JSON '
                                  'object with a "step", as mmengine writes')
            log['train' if 'lr' in entry else 'val'].append(entry)
    if not log['train'] and not log['val']:
        raise ConfigError(f'{path} holds no logged step')
    return log


def iters_per_epoch(train: List[dict]) -> Optional[float]:
    """Iterations per epoch of an epoch-based run (None: iteration-based).

    Taken from the first epoch that is followed by another (its last logged
    step is at its end: mmengine logs the last iteration of every epoch).
    """
    if not train or 'epoch' not in train[0]:
        return None
    last = {}
    for entry in train:
        last[entry['epoch']] = max(entry['step'], last.get(entry['epoch'], 0))
    epochs = sorted(last)
    epoch = epochs[0] if len(epochs) > 1 else epochs[-1]
    return last[epoch] / epoch


def curve(log: LogDict, key: str, path: str) -> tuple:
    """x (epochs or iterations), y of ``key`` and the x-axis name."""
    per_epoch = iters_per_epoch(log['train'])
    for phase in ('train', 'val'):
        entries = [e for e in log[phase] if key in e]
        if not entries:
            continue
        steps = np.array([e['step'] for e in entries], dtype=np.float64)
        ys = np.array([e[key] for e in entries], dtype=np.float64)
        if per_epoch is None:
            return steps, ys, 'iterations'
        # Validation steps of an epoch-based run are epochs already.
        return (steps / per_epoch if phase == 'train' else steps), ys, \
            'epochs'
    keys = sorted({k for phase in log.values() for e in phase for k in e} -
                  {'step', 'epoch', 'iter'})
    raise ConfigError(f'{path} has no key {key!r}; it has {keys}')


def run_name(path: str) -> str:
    """The name of a run for legends and titles: its work dir's name for
    ``<work_dir>/<YYYYMMDD_HHMMSS>/vis_data/scalars.json``."""
    parts = Path(path).parts
    if len(parts) >= 4 and parts[-2] == 'vis_data' and re.fullmatch(
            r'\d{8}_\d{6}', parts[-3]):
        return parts[-4]
    return osp.basename(osp.dirname(osp.dirname(path))) or path


def plot_curve(logs: List[LogDict], paths: List[str], keys: List[str],
               legend: List[str], title: Optional[str] = None,
               window_size: str = '12*7', out: Optional[str] = None):
    """One panel per key, one curve per log.

    Returns:
        matplotlib.figure.Figure: The figure (saved to ``out`` when given).
    """
    import matplotlib.pyplot as plt
    w, h = (int(v) for v in window_size.split('*'))
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(w, h), sharex=True, squeeze=False)
    xlabel = 'epochs'
    for ax, key in zip(axes[:, 0], keys):
        for log, path, name in zip(logs, paths, legend):
            xs, ys, xlabel = curve(log, key, path)
            ax.plot(xs, ys, label=name, linewidth=1.0,
                    marker='o' if len(xs) < 30 else None, markersize=3)
        # ReIDMetric reports percentages (reid/mAP, reid/R1, ...)
        ax.set_ylabel(f'{key} (%)' if key.startswith('reid/') else key)
        ax.grid(True, alpha=0.3)
        if len(logs) > 1:
            ax.legend()
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title or f'{", ".join(keys)} of {", ".join(legend)}')
    fig.tight_layout()
    if out:
        with writing(out):
            fig.savefig(out)
        print(f'save curve to: {out}')
        plt.close(fig)
    else:
        plt.show()
    return fig


def cal_train_time(logs: List[LogDict], paths: List[str],
                   include_outliers: bool = False) -> List[dict]:
    """Print and return the time per training iteration of each log."""
    results = []
    for log, path in zip(logs, paths):
        print(f'{"-" * 5}Analyze train time of {path}{"-" * 5}')
        train = [e for e in log['train'] if 'time' in e]
        if not train:
            raise ConfigError(f'{path} has no training line with "time"')
        result = {}
        if 'epoch' in train[0]:
            epoch_means = []
            for _, group in groupby(train, lambda e: e['epoch']):
                times = np.array([e['time'] for e in group])
                if not include_outliers and len(times) > 1:
                    times = times[1:]
                epoch_means.append(times.mean())
            epoch_means = np.array(epoch_means)
            slowest, fastest = epoch_means.argmax(), epoch_means.argmin()
            print(f'slowest epoch {slowest + 1}, average time is '
                  f'{epoch_means[slowest]:.4f}')
            print(f'fastest epoch {fastest + 1}, average time is '
                  f'{epoch_means[fastest]:.4f}')
            print(f'time std over epochs is {epoch_means.std():.4f}')
            result.update(
                slowest_epoch=int(slowest) + 1,
                fastest_epoch=int(fastest) + 1,
                epoch_time_std=float(epoch_means.std()))
        result['avg_iter_time'] = float(np.mean([e['time'] for e in train]))
        print(f'average iter time: {result["avg_iter_time"]:.4f} s/iter')
        if 'data_time' in train[0]:
            result['avg_data_time'] = float(
                np.mean([e['data_time'] for e in train]))
            print(f'average data time: {result["avg_data_time"]:.4f} s/iter')
        print()
        results.append(result)
    return results


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyze JSON logs')
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot curves of logged keys')
    plot.add_argument(
        'json_logs', nargs='+',
        help='vis_data/scalars.json files or run folders')
    plot.add_argument(
        '--keys', nargs='+', default=['loss'], help='keys to plot')
    plot.add_argument(
        '--title',
        help='title of the figure (default: the keys and the runs)')
    plot.add_argument('--legend', nargs='+', help='one name per log')
    plot.add_argument('--out', help='save the figure here (.png, .pdf)')
    plot.add_argument(
        '--window-size', default='12*7', help='figure size "W*H" (inches)')
    time = sub.add_parser(
        'cal_train_time', help='time per training iteration')
    time.add_argument(
        'json_logs', nargs='+',
        help='vis_data/scalars.json files or run folders')
    time.add_argument(
        '--include-outliers',
        action='store_true',
        help='include the first iteration of every epoch')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with exit_on_user_error():
        if args.task == 'plot_curve':
            check_output_file(args.out, '--out')
        paths = [resolve_log(p) for p in args.json_logs]
        logs = [load_log(p) for p in paths]
        if args.task == 'cal_train_time':
            return cal_train_time(logs, paths, args.include_outliers)
        if not re.fullmatch(r'\d+\*\d+', args.window_size):
            raise ConfigError('--window-size must be "W*H", e.g. 12*7, got '
                              f'{args.window_size!r}')
        legend = args.legend or [run_name(p) for p in paths]
        if len(legend) != len(paths):
            raise ConfigError(f'--legend has {len(legend)} names for '
                              f'{len(paths)} logs')
        for key in args.keys:  # every key exists before anything is drawn
            for log, path in zip(logs, paths):
                curve(log, key, path)
        return plot_curve(logs, paths, args.keys, legend, args.title,
                          args.window_size, args.out)


if __name__ == '__main__':
    main()
