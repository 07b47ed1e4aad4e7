# Copyright (c) mmieee contributors.
"""Evaluate a checkpoint with modalities missing, or across modalities.

    python tools/analysis_tools/eval_missing_modality.py CONFIG CHECKPOINT
        [--cross-modal [--pairs Q:G ...]]
        [--out results.json] [--work-dir DIR] [--cfg-options KEY=VALUE ...]
        [--launcher {none,pytorch,slurm,mpi}]

The checkpoint is loaded as ``tools/test.py`` loads it: every weight the
test feature depends on must fit the config's model (the same modalities,
keys and shapes), or the tool stops before the first scenario; keys only
training uses (the training classifiers) may differ and are reported.

Missing-modality mode (default): the full set, then every non-empty proper
subset of the model's modalities removed at test time (M = 3: 1 + 3 + 3 = 7
runs), using the model's missing-modality protocol
(``test_cfg.blank_modalities``: the missing images are replaced by zeros
after normalisation, i.e. by the mean image, for query and gallery alike).
A model whose neck reconstructs missing modalities (TOP-ReID's CRM) is also
evaluated with ``test_cfg.missing_modalities`` (the official ``TEST.MISS``:
the missing streams' tokens rebuilt from the present ones), 6 more runs,
printed as a second table beside the blanked one.

Cross-modal mode (``--cross-modal``; paper § "Difference from Cross-modal
Re-ID", Table 2): for each pair Q:G the queries keep modality Q only and the
gallery keeps modality G only (``test_cfg.query_blank_modalities`` /
``gallery_blank_modalities``: every other modality is zeroed on that side).
The default pairs are Table 2's RGB:TI, TI:RGB, RGB:NI and NI:RGB, those of
them the model has; a pair naming a modality the model lacks is listed as
not evaluated (``--pairs`` with such a pair is an error).

Prints one table with mAP / R1 / R5 / R10 per scenario and, before each
scenario, its number, the time so far and an estimate of the time left;
``--out`` writes every scenario's metrics as JSON. Runs under
``tools/dist_test.sh``-style launchers as well (``--launcher``).
"""
import argparse
import itertools
import os.path as osp
import time
from typing import List, Sequence, Tuple

import mmengine
from mmengine.model import is_model_wrapper

import mmieee  # noqa: F401  (environment shims before mmpretrain loads)
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          build_test_runner, check_output_dir,
                          check_output_file, exit_on_user_error,
                          load_tool_config, parse_tool_args, writing)
from mmieee.utils.text_table import format_table as text_table

COLUMNS = ('mAP', 'R1', 'R5', 'R10')
#: Query -> gallery modality pairs of the paper's Table 2, in its order.
TABLE2_PAIRS = (('RGB', 'TI'), ('TI', 'RGB'), ('RGB', 'NI'), ('NI', 'RGB'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a multi-modal Re-ID checkpoint with each '
        'proper subset of modalities missing, or across modalities.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument(
        '--cross-modal',
        action='store_true',
        help='query with one modality, search a gallery of another')
    parser.add_argument(
        '--pairs',
        nargs='+',
        metavar='Q:G',
        help='cross-modal pairs (default: RGB:TI TI:RGB RGB:NI NI:RGB)')
    parser.add_argument('--out', help='write all scenarios\' metrics (JSON)')
    add_common_arguments(
        parser, work_dir=True, launcher=True,
        cfg_options_example='test_evaluator.rerank=True')
    return parse_tool_args(parser, argv)


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


def cross_modal_pairs(
        modalities: Sequence[str],
        pairs: Sequence[str] = None
) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """The (query, gallery) modality pairs to evaluate.

    Args:
        modalities (Sequence[str]): The model's modalities.
        pairs (Sequence[str], optional): ``'Q:G'`` strings from ``--pairs``;
            None for Table 2's pairs.

    Returns:
        tuple[list, list]: The pairs to evaluate, and the default pairs left
        out because the model lacks one of their modalities.

    Raises:
        ConfigError: A ``--pairs`` entry is not ``Q:G`` with two different
            modalities of the model, or no pair is left.
    """
    if pairs is None:
        chosen = [p for p in TABLE2_PAIRS if set(p) <= set(modalities)]
        skipped = [p for p in TABLE2_PAIRS if p not in chosen]
    else:
        chosen, skipped = [], []
        for text in pairs:
            parts = text.split(':')
            if len(parts) != 2 or parts[0] == parts[1] or \
                    not set(parts) <= set(modalities):
                raise ConfigError(
                    f'--pairs {text!r}: expected QUERY:GALLERY, two '
                    f'different modalities of the model {tuple(modalities)}')
            chosen.append(tuple(parts))
    if not chosen:
        raise ConfigError(
            f'the model\'s modalities {tuple(modalities)} contain none of '
            f'the pairs {[":".join(p) for p in TABLE2_PAIRS]}; choose them '
            'with --pairs Q:G')
    return chosen, skipped


def _values(row: dict) -> Tuple[str, ...]:
    return tuple(f'{row["metrics"].get(f"reid/{c}", float("nan")):.2f}'
                 for c in COLUMNS)


def format_table(rows: List[dict]) -> str:
    """Missing-modality table: missing, present, mAP, R1, R5, R10 (%)."""
    body = [(' + '.join(r['missing']) or 'none (full)',
             ' + '.join(r['present'])) + _values(r) for r in rows]
    return text_table(('Missing', 'Present') + COLUMNS, body,
                      align='ll' + 'r' * len(COLUMNS), rule=True)


def format_cross_table(rows: List[dict]) -> str:
    """Cross-modal table: query -> gallery, mAP, R1, R5, R10 (%)."""
    body = [(f'{r["query"]} -> {r["gallery"]}', ) + _values(r) for r in rows]
    return text_table(('Query -> gallery', ) + COLUMNS, body,
                      align='l' + 'r' * len(COLUMNS), rule=True)


def scenarios(args: argparse.Namespace, modalities: Tuple[str, ...],
              logger, reconstructs: bool = False) -> List[Tuple[dict, dict]]:
    """(row label, ``set_blank_modalities`` keyword arguments, or
    ``missing`` for ``set_missing_modalities``) of every scenario of the
    chosen mode; ``reconstructs`` adds the neck's reconstruction."""
    if not args.cross_modal:
        rows = [(dict(missing=list(missing),
                      present=[m for m in modalities if m not in missing],
                      method='blanked'), dict(blank=missing))
                for missing in missing_scenarios(modalities)]
        if reconstructs:
            rows += [(dict(label, method='reconstructed'),
                      dict(missing=tuple(label['missing'])))
                     for label, _ in rows[1:]]
        return rows
    pairs, skipped = cross_modal_pairs(modalities, args.pairs)
    if skipped:
        lacking = sorted({m for p in skipped for m in p} - set(modalities))
        logger.info(f'Not evaluated (the model has no {", ".join(lacking)}): '
                    + ', '.join(f'{q} -> {g}' for q, g in skipped))
    return [(dict(query=q, gallery=g),
             dict(query=[m for m in modalities if m != q],
                  gallery=[m for m in modalities if m != g]))
            for q, g in pairs]


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.pairs and not args.cross_modal:
            raise ConfigError('--pairs needs --cross-modal')
        if not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        check_output_file(args.out, '--out', ('.json', ))
        cfg = load_tool_config(
            args.config, args.cfg_options, args.work_dir, args.launcher,
            data_keys=('test_dataloader', ),
            required=('model', 'test_dataloader', 'test_evaluator'))
        check_output_dir(cfg.work_dir, '--work-dir')
        # the strict loading of tools/test.py: every weight the test
        # feature depends on, or an error before any scenario
        runner = build_test_runner(cfg, args.checkpoint)
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        modalities = tuple(model.modalities)
        todo = scenarios(args, modalities, runner.logger,
                         getattr(model.neck, 'reconstructs_missing', False))
        rows = run_scenarios(runner, model, todo)
        if runner.rank == 0:
            report(args, rows, runner.logger)
    return rows


def run_scenarios(runner, model, todo: List[Tuple[dict, dict]]
                  ) -> List[dict]:
    """Evaluate every scenario with the test loop; one row each."""
    runner.call_hook('before_run')
    rows, start = [], time.time()
    for i, (label, setting) in enumerate(todo):
        model.set_blank_modalities(
            **{k: v for k, v in setting.items() if k != 'missing'})
        model.set_missing_modalities(setting.get('missing', ()))
        elapsed = time.time() - start
        eta = f', about {elapsed / i * (len(todo) - i):.0f} s left' \
            if i else ''
        runner.logger.info(
            f'Scenario {i + 1}/{len(todo)} ({elapsed:.0f} s so far{eta}): '
            + ', '.join(f'{k} {v if v else "none"}'
                        for k, v in label.items()))
        metrics = runner.test_loop.run()
        rows.append(
            dict(label, metrics={k: float(v)
                                 for k, v in metrics.items()}))
    model.set_blank_modalities(())
    model.set_missing_modalities(())
    runner.call_hook('after_run')
    return rows


def report(args: argparse.Namespace, rows: List[dict], logger) -> None:
    """Log the table (console and log file) and write ``--out``."""
    if args.cross_modal:
        title = 'Cross-modal evaluation (queries with one modality, ' \
            'gallery with another)'
        table = format_cross_table(rows)
    else:
        title = 'Missing-modality evaluation'
        table = format_table([r for r in rows if r['method'] == 'blanked'])
        rebuilt = [r for r in rows if r['method'] == 'reconstructed']
        if rebuilt:
            table = (f'missing images blanked (test_cfg.blank_modalities):'
                     f'\n{table}\n\nmissing modalities reconstructed by the '
                     'neck (test_cfg.missing_modalities):\n'
                     f'{format_table(rows[:1] + rebuilt)}')
    logger.info(f'{title} of {args.checkpoint}:\n{table}')
    if args.out:
        with writing(args.out):
            mmengine.dump(rows, args.out, indent=2)


if __name__ == '__main__':
    main()
