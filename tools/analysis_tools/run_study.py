# Copyright (c) mmieee contributors.
"""Train and test several configs with several seeds, resuming what is done.

    python tools/analysis_tools/run_study.py CONFIG [CONFIG ...]
        --work-dir DIR [--seeds 0 1 2] [--launcher {none,pytorch}]
        [--nproc N] [--no-validate] [--dry-run]
        [--cfg-options KEY=VALUE ...]

For every config and seed, in that order, the run lives in
``DIR/<config name>/seed_<seed>/``:

1. ``tools/train.py CONFIG --work-dir RUN --cfg-options ... randomness.seed=S``
   (with ``--resume`` when the run has a checkpoint but not the last one);
2. ``tools/test.py CONFIG RUN/epoch_<max_epochs>.pth --out
   RUN/test_metrics.partial.json`` -- the LAST epoch's checkpoint, as
   everywhere in mmieee; the result is checked (JSON, finite numbers) and
   renamed to ``RUN/test_metrics.json``, or the study stops naming it.

A run whose ``test_metrics.json`` holds a complete, finite result is
skipped, so the same command continues an interrupted study (a damaged
result is named and tested again). The files and their checks:
:mod:`mmieee.utils.study_layout`. ``DIR/study.json`` records the configs, the
seeds and the ``--cfg-options`` of the study; a later call with other
options is refused (its runs would not be comparable), other configs or
seeds are added. ``tools/analysis_tools/summarize_results.py DIR`` turns
the results into one Markdown table.

The tools run as subprocesses, exactly the commands a user would type (each
is printed): every run gets a fresh process, so mmengine's global state
(logger and visualizer instances, default scope), the random generators,
the distributed process group and the memory of one run cannot leak into
the next, and one failing run stops the study with its log instead of
taking the finished runs with it. Their output goes to
``RUN/train_stdout.log`` and ``RUN/test_stdout.log``; each run is announced
with its number, the study's time so far and an estimate of the time left,
and while it runs the log's last line is shown every minute.

``--launcher pytorch --nproc N`` runs each of them through
``tools/dist_train.sh`` / ``tools/dist_test.sh`` with N processes (GPUs, or
gloo CPU processes). SLURM is not wrapped: run the printed commands with
``tools/slurm_train.sh``.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import DictAction

import mmieee  # noqa: F401  (environment shims before mmpretrain loads)
from mmieee.utils import ConfigError, exit_on_user_error, load_tool_config
from mmieee.utils.study_layout import (METRICS_FILE, PARTIAL_METRICS_FILE,
                                       STUDY_FILE, commit_run_metrics,
                                       config_name, read_run_metrics,
                                       read_study, run_dir, write_study)

REPO = Path(__file__).resolve().parents[2]
#: Seconds between two progress lines of a running train / test.
HEARTBEAT_S = 60.0
#: The clock of the progress lines (tests replace it).
_clock: Callable[[], float] = time.monotonic


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test configs over several seeds (resumable).')
    parser.add_argument('configs', nargs='+', metavar='CONFIG')
    parser.add_argument(
        '--work-dir', required=True,
        help='study folder: DIR/<config name>/seed_<seed>/ per run')
    parser.add_argument(
        '--seeds', nargs='+', type=int, default=[0, 1, 2],
        help='values of randomness.seed (default: 0 1 2)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch'], default='none',
        help='pytorch: run through tools/dist_train.sh / dist_test.sh')
    parser.add_argument(
        '--nproc', type=int, default=None,
        help='processes per run with --launcher pytorch')
    parser.add_argument(
        '--no-validate', action='store_true',
        help='pass --no-validate to tools/train.py (the test at the end '
        'gives the numbers)')
    parser.add_argument(
        '--dry-run', action='store_true',
        help='print what would run, run nothing')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
        help='config overrides passed to every train and test run')
    return parser.parse_args(argv)


def parse_cfg_options(options: Sequence[str]) -> Dict:
    """Parse ``KEY=VALUE`` strings as ``--cfg-options`` does (DictAction)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    bad = [o for o in options if '=' not in o]
    if bad:
        raise ConfigError(f'--cfg-options {bad[0]!r} is not KEY=VALUE')
    return parser.parse_args(['--o', *options]).o if options else {}


def load_study(work_dir: str, configs: Sequence[str], seeds: Sequence[int],
               cfg_options: Sequence[str]) -> dict:
    """Read (or start) ``study.json`` and add these configs and seeds.

    Raises:
        ConfigError: The study was made with other ``--cfg-options``, or two
            configs share a name.
    """
    study = read_study(work_dir) or dict(
        configs={}, seeds=[], cfg_options=list(cfg_options))
    if study['cfg_options'] != list(cfg_options):
        raise ConfigError(
            f'{osp.join(work_dir, STUDY_FILE)} was made with --cfg-options '
            f'{study["cfg_options"]}, not {list(cfg_options)}: runs with '
            'other options are not comparable; use another --work-dir')
    for config in configs:
        name = config_name(config)
        # Recorded relative to the repository when inside it (for the
        # metafile look-up of summarize_results.py), else absolute.
        path = osp.abspath(config)
        if not osp.relpath(path, REPO).startswith('..'):
            path = osp.relpath(path, REPO)
        known = study['configs'].get(name)
        if known is not None and known != path:
            raise ConfigError(
                f'two configs are named {name!r} ({known} and {path}); '
                'run folders are named after the config file')
        study['configs'][name] = path
    study['seeds'] = sorted(set(study['seeds']) | set(seeds))
    return study


def final_epoch(config: str, options: Dict, run: str) -> int:
    """``train_cfg.max_epochs`` after the options; checks the config and
    its data folders now rather than hours into the study."""
    cfg = load_tool_config(config, options, run, 'none')
    if not cfg.get('train_cfg', {}).get('by_epoch', True):
        raise ConfigError(f'{config}: run_study.py needs an epoch-based '
                          'train_cfg (it tests epoch_<max_epochs>.pth)')
    return int(cfg.train_cfg.max_epochs)


class Study:
    """The runs of a study and how to run them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work_dir = args.work_dir
        if args.launcher == 'pytorch' and not args.nproc:
            raise ConfigError('--launcher pytorch needs --nproc N')
        if args.launcher == 'none' and args.nproc:
            raise ConfigError('--nproc only applies to --launcher pytorch')
        options = parse_cfg_options(args.cfg_options)
        if any(k.startswith('randomness.seed') for k in options):
            raise ConfigError('set the seeds with --seeds, not with '
                              '--cfg-options randomness.seed=...')
        for config in args.configs:
            if not osp.isfile(config):
                raise ConfigError(f'config file {config!r} does not exist')
        self.study = load_study(self.work_dir, args.configs, args.seeds,
                                args.cfg_options)
        self.epochs = {}
        for config in args.configs:
            run = self.run_dir(config, args.seeds[0])
            self.epochs[config] = final_epoch(config, options, run)

    def run_dir(self, config: str, seed: int) -> str:
        return run_dir(self.work_dir, config_name(config), seed)

    def options(self, seed: int) -> List[str]:
        return ['--cfg-options', *self.args.cfg_options,
                f'randomness.seed={seed}']

    def train_cmd(self, config: str, seed: int, resume: bool) -> List[str]:
        run = self.run_dir(config, seed)
        extra = ['--work-dir', run] + (['--resume'] if resume else []) + \
            (['--no-validate'] if self.args.no_validate else [])
        if self.args.launcher == 'pytorch':
            head = ['bash', str(REPO / 'tools' / 'dist_train.sh'), config,
                    str(self.args.nproc)]
        else:
            head = [sys.executable, str(REPO / 'tools' / 'train.py'), config]
        return head + extra + self.options(seed)

    def test_cmd(self, config: str, seed: int) -> List[str]:
        run = self.run_dir(config, seed)
        ckpt = osp.join(run, f'epoch_{self.epochs[config]}.pth')
        extra = ['--work-dir', osp.join(run, 'test'), '--out',
                 osp.join(run, PARTIAL_METRICS_FILE)]
        if self.args.launcher == 'pytorch':
            head = ['bash', str(REPO / 'tools' / 'dist_test.sh'), config,
                    ckpt, str(self.args.nproc)]
        else:
            head = [sys.executable, str(REPO / 'tools' / 'test.py'), config,
                    ckpt]
        return head + extra + self.options(seed)

    def plan(self) -> List[tuple]:
        """(config, seed, steps) of every run; steps are 'train',
        'resume', 'test' or nothing for a finished run (one whose result
        is complete and finite; a refused one is tested again)."""
        runs = []
        for config in self.args.configs:
            for seed in self.args.seeds:
                run = self.run_dir(config, seed)
                result = osp.join(run, METRICS_FILE)
                if osp.isfile(result):
                    try:
                        read_run_metrics(result, required=('mAP', ))
                        runs.append((config, seed, []))
                        continue
                    except ConfigError as err:
                        print(f'Not finished: {err}', flush=True)
                if osp.isfile(
                        osp.join(run, f'epoch_{self.epochs[config]}.pth')):
                    steps = ['test']
                elif osp.isfile(osp.join(run, 'last_checkpoint')):
                    steps = ['resume', 'test']
                else:
                    steps = ['train', 'test']
                runs.append((config, seed, steps))
        return runs

    def run(self) -> None:
        runs = self.plan()
        todo = [r for r in runs if r[2]]
        print(f'Study {self.work_dir}: {len(runs)} runs, '
              f'{len(runs) - len(todo)} already done.', flush=True)
        if not self.args.dry_run:
            write_study(self.work_dir, self.study)
        start = _clock()
        for i, (config, seed, steps) in enumerate(todo, 1):
            run = self.run_dir(config, seed)
            for step in steps:
                if step == 'test':
                    cmd = self.test_cmd(config, seed)
                else:
                    cmd = self.train_cmd(config, seed, step == 'resume')
                kind = 'test' if step == 'test' else 'train'
                print(f'[{i}/{len(todo)}] {config_name(config)} seed {seed}'
                      f': {step} ({progress(_clock() - start, i, len(todo))})'
                      f'\n  {" ".join(cmd)}', flush=True)
                if self.args.dry_run:
                    continue
                took = run_logged(cmd, osp.join(run, f'{kind}_stdout.log'))
                print(f'  done in {took / 60:.1f} min', flush=True)
            if not self.args.dry_run:
                metrics = commit_run_metrics(run)
                print('  ' + '  '.join(f'{k.split("/")[-1]} {v:.2f}'
                                       for k, v in metrics.items()),
                      flush=True)


def progress(elapsed: float, i: int, total: int) -> str:
    """``'study 3.0 min so far, about 6.0 min left'`` when run ``i`` of
    ``total`` starts (the estimate: the mean of the runs done)."""
    text = f'study {elapsed / 60:.1f} min so far'
    if i > 1:
        text += f', about {elapsed / (i - 1) * (total - i + 1) / 60:.1f} ' \
            'min left'
    return text


def last_line(path: str, limit: int = 160) -> str:
    """The last non-empty line of a log, colour codes removed, shortened
    to ``limit`` characters."""
    try:
        with open(path, 'rb') as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            tail = f.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    lines = [ln.strip() for ln in re.sub(r'\x1b\[[0-9;]*m', '',
                                         tail).splitlines() if ln.strip()]
    line = lines[-1] if lines else ''
    return line if len(line) <= limit else line[:limit - 3] + '...'


def run_logged(cmd: List[str], log: str,
               heartbeat_s: Optional[float] = None) -> float:
    """Run ``cmd`` with its output in ``log``, printing the log's last line
    every ``heartbeat_s`` seconds (when it changed), and return the
    seconds it took; a failure stops the study, showing the end of the
    log."""
    heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    os.makedirs(osp.dirname(log), exist_ok=True)
    env = dict(os.environ, PYTHON=sys.executable)
    start = _clock()
    shown = ''
    with open(log, 'w') as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            while True:
                try:
                    code = proc.wait(timeout=heartbeat_s)
                    break
                except subprocess.TimeoutExpired:
                    line = last_line(log)
                    if line and line != shown:
                        print(f'  {(_clock() - start) / 60:.1f} min: {line}',
                              flush=True)
                        shown = line
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
    if code != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise RuntimeError(f'{" ".join(cmd)}\nexited with status {code}; '
                           f'end of {log}:\n{tail}')
    return _clock() - start


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    with exit_on_user_error():
        study = Study(args)
    try:
        with exit_on_user_error():
            study.run()
    except RuntimeError as err:
        print(f'Error: {err}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
