# Copyright (c) mmieee contributors.
"""Evaluate a checkpoint with every proper subset of modalities missing.

    python tools/analysis_tools/eval_missing_modality.py CONFIG CHECKPOINT
        [--out results.json] [--work-dir DIR] [--cfg-options KEY=VALUE ...]
        [--launcher {none,pytorch,slurm,mpi}]

Scenarios: the full set, then every non-empty proper subset
of the model's modalities removed at test time (M = 3: 1 + 3 + 3 = 7 runs),
using the model's missing-modality protocol (``test_cfg.blank_modalities``:
the missing images are replaced by zeros after normalisation, i.e. by the
mean image, for query and gallery alike). Prints one table with mAP / R1 /
R5 / R10 per scenario; ``--out`` writes every scenario's metrics as JSON.
Runs under ``tools/dist_test.sh``-style launchers as well (``--launcher``).
"""
import argparse
import itertools
import os
import os.path as osp
from typing import List, Sequence, Tuple

import mmengine
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper

import mmieee  # noqa: F401  (environment shims before mmpretrain loads)
from mmieee.utils import (ConfigError, build_runner, exit_on_user_error,
                          load_tool_config)

COLUMNS = ('mAP', 'R1', 'R5', 'R10')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a multi-modal Re-ID checkpoint with each '
        'proper subset of modalities missing.')
    parser.add_argument('config', help='path of the config file')
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument('--out', help='write all scenarios\' metrics (JSON)')
    parser.add_argument(
        '--work-dir',
        help='folder for the log (default: work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, KEY=VALUE with dotted keys')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def missing_scenarios(modalities: Sequence[str]) -> List[Tuple[str, ...]]:
    """The full set first, then every non-empty proper subset, by size.

    Args:
        modalities (Sequence[str]): The model's modalities, in order.

    Returns:
        list[tuple[str, ...]]: Missing modalities of each scenario;
        ``()`` is the full set. 2**M - 1 scenarios.
    """
    scenarios = [()]
    for size in range(1, len(modalities)):
        scenarios.extend(itertools.combinations(modalities, size))
    return scenarios


def format_table(rows: List[dict]) -> str:
    """Plain-text table: missing, present, mAP, R1, R5, R10 (percent)."""
    header = ('Missing', 'Present') + COLUMNS
    body = [(' + '.join(r['missing']) or 'none (full)',
             ' + '.join(r['present'])) +
            tuple(f'{r["metrics"].get(f"reid/{c}", float("nan")):.2f}'
                  for c in COLUMNS) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]

    def line(cells):
        first = [f'{c:<{w}}' for c, w in zip(cells[:2], widths[:2])]
        rest = [f'{c:>{w}}' for c, w in zip(cells[2:], widths[2:])]
        return '  '.join(first + rest)

    rule = '  '.join('-' * w for w in widths)
    return '\n'.join([line(header), rule] + [line(b) for b in body])


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    with exit_on_user_error():
        if not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                               args.launcher, data_keys=('test_dataloader', ))
        cfg.load_from, cfg.resume = args.checkpoint, False
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    modalities = tuple(model.modalities)

    runner.call_hook('before_run')
    runner.load_or_resume()
    rows = []
    for missing in missing_scenarios(modalities):
        model.set_blank_modalities(missing)
        runner.logger.info(f'Missing modalities: {list(missing) or "none"}')
        metrics = runner.test_loop.run()
        rows.append(
            dict(
                missing=list(missing),
                present=[m for m in modalities if m not in missing],
                metrics={k: float(v) for k, v in metrics.items()}))
    model.set_blank_modalities(())
    runner.call_hook('after_run')

    if runner.rank == 0:
        table = format_table(rows)
        # The runner's logger prints to the console and to the log file.
        runner.logger.info('Missing-modality evaluation of '
                           f'{args.checkpoint}:\n{table}')
        if args.out:
            mmengine.dump(rows, args.out, indent=2)
    return rows


if __name__ == '__main__':
    main()
