# Copyright (c) mmieee contributors.
"""t-SNE of the test features, as the paper's Fig. 7.

    python tools/visualization/vis_tsne.py CONFIG [CHECKPOINT] --out FILE.png
        [--dump FEATURES.pkl] [--num-ids 10] [--level modality|fused]
        [--seed 0] [--perplexity P] [--device cpu|cuda]
        [--cfg-options KEY=VALUE ...]

At ``--level modality`` (default) each sample gives M points, its
per-modality P x C slices of the (M, P, C) feature (M from the config's
``model.modalities``): colour = identity, marker = modality. At ``fused``
level each sample is one point. ``--num-ids`` identities are drawn with
``--seed``; the same seed gives the same figure. The 2-D embedding is saved
beside the picture (``FILE.npz``: ``embedding``, ``pids``, ``modality``,
``sample``, ``modalities``) so that figures can be re-drawn. Features are
extracted from CHECKPOINT, or read from ``--dump`` (``tools/test.py
--dump``). Needs scikit-learn (``pip install -e ".[vis]"``).

Why not mmpretrain's ``vis_tsne.py``: it builds the model with
``mmpretrain.apis.get_model`` (mmpretrain's registry, which holds no mmieee
model), picks samples by class index (test identities are pids, not class
indices) and would average-pool the (B, M, P, C) part embeddings as if they
were an image feature map, mixing the modalities this figure separates.
"""
import argparse
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import numpy as np
import torch

from mmieee.apis import load_test_features
from mmieee.evaluation import RankingProtocol
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_file, exit_on_user_error,
                          load_tool_config, parse_tool_args, writing)
from mmieee.utils.optional_packages import require_package
from mmieee.visualization import LEVELS, plot_tsne, tsne_embedding, tsne_points


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='t-SNE of multi-modal Re-ID test features.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument(
        'checkpoint', nargs='?', help='checkpoint (not needed with --dump)')
    parser.add_argument('--out', required=True, help='output .png file')
    parser.add_argument(
        '--dump', help='features from tools/test.py --dump (skips the model)')
    parser.add_argument(
        '--num-ids', type=int, default=10, help='identities shown')
    parser.add_argument(
        '--level',
        choices=LEVELS,
        default='modality',
        help='one point per modality of a sample (default) or per sample')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the ids and t-SNE')
    parser.add_argument(
        '--perplexity',
        type=float,
        help='t-SNE perplexity (default min(30, (points - 1) / 3))')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device of the model (default: cuda when available)')
    add_common_arguments(parser,
                         cfg_options_example='test_evaluator.rerank=True')
    return parse_tool_args(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    with exit_on_user_error():
        check_output_file(args.out, '--out', ('.png', ))
        if args.num_ids < 1:
            raise ConfigError(f'--num-ids must be >= 1, got {args.num_ids}')
        # before the (long) feature extraction
        require_package('sklearn')
        require_package('matplotlib')
        if args.dump and args.checkpoint:
            print(f'Features are read from {args.dump}; the checkpoint '
                  f'{args.checkpoint} is not used.')
        data_keys = () if args.dump else ('test_dataloader', )
        cfg = load_tool_config(
            args.config, args.cfg_options, data_keys=data_keys)
        modalities = tuple(cfg.get('model', {}).get('modalities') or ())
        if not modalities:
            raise ConfigError(f'{args.config}: model.modalities is not set; '
                              'it gives the number of per-modality slices')
        protocol = RankingProtocol.from_config(cfg)
        features, _ = load_test_features(
            cfg, args.checkpoint, args.dump, args.device, with_dataset=False)
        if features.pids is None:
            raise ConfigError('the features have no "pids"; write them with '
                              'tools/test.py --dump')
        try:
            points = tsne_points(
                features.feats,
                features.pids,
                len(modalities),
                args.level,
                args.num_ids,
                args.seed,
                normalize=protocol.normalize or protocol.metric == 'cosine')
        except ValueError as err:
            raise ConfigError(f'{args.dump or args.checkpoint}: {err}')
        return draw(args, points, modalities)


def draw(args: argparse.Namespace, points: dict, modalities) -> dict:
    """Embed, plot and write the figure and its ``.npz``."""
    num_samples = len(np.unique(points['sample']))
    num_ids = len(np.unique(points['pids']))
    print(f't-SNE of {len(points["points"])} points ({num_samples} test '
          f'samples of {num_ids} ids, {args.level} level, seed {args.seed})')
    embedding = tsne_embedding(points['points'], args.seed, args.perplexity)
    what = 'modality-level' if args.level == 'modality' else 'fused'
    fig = plot_tsne(
        embedding,
        points['pids'],
        points['modality'],
        modalities,
        title=f't-SNE of {what} test features: {num_samples} samples of '
        f'{num_ids} ids (seed {args.seed})')
    with writing(args.out):
        fig.savefig(args.out)
    npz = osp.splitext(args.out)[0] + '.npz'
    with writing(npz):
        np.savez(
            npz,
            embedding=embedding,
            pids=points['pids'],
            modality=points['modality'],
            sample=points['sample'],
            modalities=np.asarray(modalities),
            level=np.asarray(args.level),
            seed=np.asarray(args.seed))
    print(f'Wrote {args.out} and {npz}')
    return dict(points, embedding=embedding, figure=fig)


if __name__ == '__main__':
    main()
