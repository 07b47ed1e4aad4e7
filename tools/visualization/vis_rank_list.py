# Copyright (c) mmieee contributors.
"""Draw the ranked gallery of test queries, one PNG per query.

    python tools/visualization/vis_rank_list.py CONFIG [CHECKPOINT]
        --out-dir DIR [--topk 10] [--num-queries 20]
        [--order worst|best|random] [--seed 0] [--dump FEATURES.pkl]
        [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

Each picture has one row per modality: the query, then its gallery items at
ranks 1..k with a green (same id) or red (other id) frame and the distance
under each. The ranking is the test metric's own (the config's
``test_evaluator``: distance, normalisation, re-ranking, and the same-id
same-camera / same-scene exclusion, whose skipped items are counted in the
title), so rank 1 in a picture is rank 1 in ``reid/R1``. Queries are shown
worst AP first by default; ``DIR/index.html`` lists them all.

``--dump`` reads the features of ``tools/test.py --dump`` instead of
extracting them (CHECKPOINT is then not needed); the config's test split
must be the one the dump was made from (rows are checked by image path).
"""
import argparse

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import numpy as np
import torch

from mmieee.apis import load_test_features
from mmieee.evaluation import RankingProtocol
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_dir, exit_on_user_error,
                          load_tool_config, parse_tool_args)
from mmieee.visualization import (ORDERS, SampleImageLoader, pick_visualizer,
                                  rank_rows, select_queries, write_rank_lists)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw the rank lists of test queries.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument(
        'checkpoint', nargs='?', help='checkpoint (not needed with --dump)')
    parser.add_argument(
        '--out-dir', required=True, help='folder of the PNGs and index.html')
    parser.add_argument(
        '--topk', type=int, default=10, help='gallery items per query')
    parser.add_argument(
        '--num-queries', type=int, default=20, help='queries drawn')
    parser.add_argument(
        '--order',
        choices=ORDERS,
        default='worst',
        help='which queries first: lowest AP (default), highest AP, random')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of --order random')
    parser.add_argument(
        '--dump', help='features from tools/test.py --dump (skips the model)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device of the model (default: cuda when available)')
    add_common_arguments(parser,
                         cfg_options_example='test_evaluator.rerank=True')
    return parse_tool_args(parser, argv)


def main(argv=None) -> list:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.topk < 1 or args.num_queries < 1:
            raise ConfigError(
                f'--topk and --num-queries must be >= 1, got {args.topk} '
                f'and {args.num_queries}')
        if args.dump and args.checkpoint:
            print(f'Features are read from {args.dump}; the checkpoint '
                  f'{args.checkpoint} is not used.')
        check_output_dir(args.out_dir, '--out-dir')
        cfg = load_tool_config(
            args.config, args.cfg_options, data_keys=('test_dataloader', ),
            required=('model', 'test_dataloader'))
        protocol = RankingProtocol.from_config(cfg)
        features, dataset = load_test_features(cfg, args.checkpoint,
                                               args.dump, args.device)
        try:
            ranked = rank_rows(features, protocol, args.topk)
        except (KeyError, ValueError) as err:
            raise ConfigError(str(err).strip('"')) from err
        positions = select_queries(ranked, args.num_queries, args.order,
                                   args.seed)
        visualizer = pick_visualizer('vis_rank_list')[0]
        loader = SampleImageLoader(dataset)
        print(f'Drawing {len(positions)} rank lists ({args.order} first)')
        rows = write_rank_lists(visualizer, features, ranked, positions,
                                loader, dataset.metainfo['modalities'],
                                args.out_dir)
    valid = ranked['valid']
    print(f'Wrote {len(rows)} rank lists and index.html to {args.out_dir}. '
          f'mAP over the {int(valid.sum())} queries with a match: '
          f'{100 * float(np.mean(ranked["ap"][valid])):.2f} (the '
          'metric\'s reid/mAP)')
    return rows


if __name__ == '__main__':
    main()
