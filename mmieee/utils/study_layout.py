# Copyright (c) mmieee contributors.
"""The files of a multi-seed study, written and read in one place.

``tools/analysis_tools/run_study.py`` writes them and
``tools/analysis_tools/summarize_results.py`` reads them::

    WORK_DIR/study.json                      configs {name: path}, seeds,
                                             cfg_options of the study
    WORK_DIR/<config name>/seed_<seed>/      one run (tools/train.py)
        test_metrics.json                    its result (tools/test.py --out
                                             on the last epoch's checkpoint)

A run is finished when its ``test_metrics.json`` is a JSON object of finite
numbers. Both files are written atomically: ``study.json`` through
:func:`~.atomic_file.atomic_write`, and the test writes its metrics to
``test_metrics.partial.json``, which :func:`commit_run_metrics` checks and
renames into place, so a run killed while writing never looks finished.
A result that is not JSON, not complete or not finite is refused with the
file (and so the run) named, never averaged.
"""
import glob
import json
import math
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

from .atomic_file import atomic_write
from .errors import ConfigError

STUDY_FILE = 'study.json'
METRICS_FILE = 'test_metrics.json'
#: Where the test writes before the result is checked and moved in place.
PARTIAL_METRICS_FILE = 'test_metrics.partial.json'
#: The metrics a summary reports (``reid/<name>`` in a result, percent).
METRICS = ('mAP', 'R1', 'R5', 'R10', 'mINP')


def config_name(config: str) -> str:
    """``configs/x/name.py`` -> ``name`` (the run folder's name)."""
    return osp.splitext(osp.basename(config))[0]


def run_dir(work_dir: str, name: str, seed: int) -> str:
    """The folder of one run: ``WORK_DIR/<config name>/seed_<seed>``."""
    return osp.join(work_dir, name, f'seed_{seed}')


def seed_dirs(config_dir: str) -> List[int]:
    """Seeds of the ``seed_<seed>`` folders in a config's folder, sorted."""
    seeds = []
    for path in glob.glob(osp.join(config_dir, 'seed_*')):
        match = re.fullmatch(r'seed_(-?\d+)', osp.basename(path))
        if match and osp.isdir(path):
            seeds.append(int(match.group(1)))
    return sorted(seeds)


def read_json(path: str) -> object:
    """The content of a JSON file.

    Raises:
        ConfigError: The file is not readable as JSON (truncated, empty,
            not text); the message names the file.
    """
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f'{path} is not valid JSON ({err}): a write that '
                          'was cut short, or not a file of this tool')


def read_study(work_dir: str) -> Optional[dict]:
    """``WORK_DIR/study.json``, or None when there is none.

    Returns:
        dict: ``configs`` {name: config path}, ``seeds`` [int],
        ``cfg_options`` [str].

    Raises:
        ConfigError: The file is not JSON or lacks one of these keys.
    """
    path = osp.join(work_dir, STUDY_FILE)
    if not osp.isfile(path):
        return None
    study = read_json(path)
    kinds = dict(configs=dict, seeds=list, cfg_options=list)
    if not isinstance(study, dict) or any(
            not isinstance(study.get(k), t) for k, t in kinds.items()):
        raise ConfigError(f'{path} is not a study record: expected a JSON '
                          'object with "configs" {name: path}, "seeds" '
                          f'[...] and "cfg_options" [...], got {study!r}')
    return study


def write_study(work_dir: str, study: dict) -> None:
    """Write ``WORK_DIR/study.json`` atomically."""
    atomic_write(
        json.dumps(study, indent=2).encode('utf-8'),
        osp.join(work_dir, STUDY_FILE))


def read_run_metrics(path: str,
                     required: Sequence[str] = METRICS) -> Dict[str, float]:
    """The metrics of a finished run's result file.

    Args:
        path (str): A ``test_metrics.json``.
        required (Sequence[str]): Metric names that must be present (as
            ``reid/<name>``).

    Returns:
        dict: Every entry of the file (``'reid/mAP'``, ...) as a float.

    Raises:
        ConfigError: The file is not JSON, not an object, lacks a required
            metric, or holds a value that is not a finite number (the key
            and value are named).
    """
    metrics = read_json(path)
    if not isinstance(metrics, dict):
        raise ConfigError(f'{path} holds {type(metrics).__name__}, not the '
                          'JSON object of metrics tools/test.py --out writes')
    for name in required:
        if f'reid/{name}' not in metrics:
            raise ConfigError(f'{path} has no reid/{name} (it has '
                              f'{sorted(metrics)})')
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ConfigError(
                f'{path}: {key} is {value!r}, not a finite number (a model '
                'whose loss diverged, or a damaged file); this run has no '
                'result')
    return {k: float(v) for k, v in metrics.items()}


def commit_run_metrics(run: str) -> Dict[str, float]:
    """Check the test's ``test_metrics.partial.json`` of a run and move it
    to ``test_metrics.json`` (atomic rename).

    Args:
        run (str): The run folder.

    Returns:
        dict: The metrics (see :func:`read_run_metrics`).

    Raises:
        ConfigError: The partial result is missing or refused; it stays
            where it is for inspection and the run is not finished.
    """
    partial = osp.join(run, PARTIAL_METRICS_FILE)
    if not osp.isfile(partial):
        raise ConfigError(f'{partial} was not written: the test of {run} '
                          'ended without its metrics')
    metrics = read_run_metrics(partial, required=('mAP', ))
    os.replace(partial, osp.join(run, METRICS_FILE))
    return metrics
