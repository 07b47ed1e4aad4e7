# Copyright (c) mmieee contributors.
"""One Markdown table of a multi-seed study made by ``run_study.py``.

    python tools/analysis_tools/summarize_results.py DIR [--out table.md]
        [--configs NAME ...] [--seeds S ...]

For every config of the study (``DIR/study.json``; without it, every
``DIR/<config name>/seed_<seed>/`` folder), in the order given by
``--configs`` or the study's: the mean ± standard deviation over the seeds
of mAP, R1, R5, R10 and mINP (the last epoch's test, ``test_metrics.json``,
in percent), then one row per seed, beside the paper's mAP / R1 / R5 / R10
when the config's entry in a ``configs/*/metafile.yml`` has ``Paper
Results``. The standard deviation is the sample one (n - 1 in the
denominator).

Every config must have every seed of the study (or of ``--seeds``): a
missing result is an error naming the config and the seed, never a mean
over fewer runs; a result that is not JSON (a write cut short) or holds a
NaN / infinite metric is an error naming the file, never ``nan ± nan``
(the study layout: :mod:`mmieee.utils.study_layout`).
"""
import argparse
import os
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from mmieee.utils import ConfigError, exit_on_user_error
from mmieee.utils.atomic_file import atomic_write
from mmieee.utils.model_index import load_model_index
from mmieee.utils.study_layout import (METRICS, METRICS_FILE, STUDY_FILE,
                                       read_run_metrics, read_study, run_dir,
                                       seed_dirs)
from mmieee.utils.text_table import format_table as text_table

REPO = Path(__file__).resolve().parents[2]
PAPER_METRICS = ('mAP', 'R1', 'R5', 'R10')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Summarise a multi-seed study as one Markdown table.')
    parser.add_argument('work_dir', help='the study folder of run_study.py')
    parser.add_argument('--out', help='write the table to this .md file')
    parser.add_argument(
        '--configs', nargs='+', metavar='NAME',
        help='config names (file names without .py), in table order '
        '(default: all of the study)')
    parser.add_argument(
        '--seeds', nargs='+', type=int,
        help='seeds to summarise (default: all of the study)')
    return parser.parse_args(argv)


def paper_results(config: Optional[str]) -> Dict[str, float]:
    """``Paper Results`` metrics of the metafile entry of ``config``.

    Args:
        config (str, optional): Path of the config file, absolute or
            relative to the repository root (as ``run_study.py`` records
            it).

    Returns:
        dict: e.g. ``{'mAP': 46.42, 'R1': 47.13, ...}``; empty when the
        config has no entry or the entry has no ``Paper Results``.
    """
    if not config:
        return {}
    target = osp.realpath(REPO / config)  # an absolute config stays
    try:
        index = load_model_index()
    except FileNotFoundError:
        return {}
    for entry in index.values():
        if osp.realpath(entry['Config']) == target:
            results = entry.get('Paper Results') or []
            return dict(results[0]['Metrics']) if results else {}
    return {}


def load_study(work_dir: str, configs: Optional[Sequence[str]] = None,
               seeds: Optional[Sequence[int]] = None) -> dict:
    """Collect the per-seed metrics of a study folder.

    Args:
        work_dir (str): The study folder.
        configs (Sequence[str], optional): Config names to keep, in order.
        seeds (Sequence[int], optional): Seeds to keep.

    Returns:
        dict: ``{'seeds': [...], 'configs': {name: {'config': path or None,
        'runs': {seed: {metric: value}}}}}``.

    Raises:
        ConfigError: No study there, an unknown config name, a config
            without the result of one of the seeds, or a result that is not
            JSON or not finite (each named).
    """
    if not osp.isdir(work_dir):
        raise ConfigError(f'{work_dir} is not a folder')
    study = read_study(work_dir)
    if study is not None:
        paths = dict(study['configs'])
        all_seeds = list(study['seeds'])
    else:
        names = sorted(n for n in os.listdir(work_dir)
                       if seed_dirs(osp.join(work_dir, n)))
        paths = {n: None for n in names}
        all_seeds = sorted({s for n in names
                            for s in seed_dirs(osp.join(work_dir, n))})
    if not paths:
        raise ConfigError(f'{work_dir} holds no study (no {STUDY_FILE}, '
                          'no <config>/seed_<seed>/ folders)')
    names = list(configs) if configs else list(paths)
    unknown = [n for n in names if n not in paths]
    if unknown:
        raise ConfigError(f'{work_dir} has no config named {unknown[0]!r}; '
                          f'it has {sorted(paths)}')
    seeds = sorted(seeds) if seeds else sorted(all_seeds)
    out = dict(seeds=seeds, configs={})
    for name in names:
        runs = {}
        for seed in seeds:
            path = osp.join(run_dir(work_dir, name, seed), METRICS_FILE)
            if not osp.isfile(path):
                raise ConfigError(
                    f'{name}: seed {seed} has no result ({path} is missing); '
                    'finish it with run_study.py (same command, it resumes) '
                    'or summarise the finished seeds with --seeds')
            metrics = read_run_metrics(path)
            runs[seed] = {m: metrics[f'reid/{m}'] for m in METRICS}
        out['configs'][name] = dict(config=paths[name], runs=runs)
    return out


def mean_std(values: Sequence[float]) -> str:
    """``'mean ± std'`` (sample std, n - 1) with 2 decimals; one value has
    no spread: ``'v (1 seed)'``."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 1:
        return f'{values[0]:.2f} (1 seed)'
    return f'{values.mean():.2f} ± {values.std(ddof=1):.2f}'


def format_table(study: dict) -> str:
    """The Markdown table (see the module docstring)."""
    seeds = study['seeds']
    header = ['Config', 'Run', *METRICS, 'Paper mAP / R1 / R5 / R10']
    rows = []
    for name, item in study['configs'].items():
        paper = paper_results(item['config'])
        paper_text = ' / '.join(
            f'{paper[m]:.2f}' if m in paper else '–'
            for m in PAPER_METRICS) if paper else '—'
        runs = item['runs']
        runs_text = f'{len(seeds)} seed' + ('s' if len(seeds) > 1 else '')
        rows.append([name, f'mean ± std ({runs_text})'] +
                    [mean_std([runs[s][m] for s in seeds])
                     for m in METRICS] + [paper_text])
        rows += [['', f'seed {seed}'] +
                 [f'{runs[seed][m]:.2f}' for m in METRICS] + ['']
                 for seed in seeds]
    align = 'll' + 'r' * len(METRICS) + 'l'
    return text_table(header, rows, align, style='markdown') + '\n'


def main(argv=None) -> str:
    args = parse_args(argv)
    with exit_on_user_error():
        table = format_table(load_study(args.work_dir, args.configs,
                                        args.seeds))
        print(table, end='')
        try:
            if args.out:
                atomic_write(table.encode('utf-8'), args.out)
        except OSError as err:
            raise ConfigError(f'--out {args.out}: cannot write it ({err})')
    return table


if __name__ == '__main__':
    main()
