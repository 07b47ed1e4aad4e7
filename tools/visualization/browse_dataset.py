# Copyright (c) mmieee contributors.
"""Show what a data pipeline makes of samples, modality by modality.

    python tools/visualization/browse_dataset.py CONFIG --out-dir DIR
        [--phase train|test] [--num 20] [--seed 0]
        [--cfg-options KEY=VALUE ...]

One PNG per sample (``--num`` samples evenly spread over the dataset), one
column per modality and one row per pipeline step that changes the images:
the loaded files, then e.g. ``ApplyToModalities`` (its transforms and
whether the M images share one random draw), then the packed model input.
Independent flips show as modalities flipped differently in one row; shared
flips flip all or none. Each row label gives the step's image size (cells
are scaled to one display size). ``--seed`` fixes the random augmentations.
"""
import argparse
import os.path as osp
from typing import List, Tuple

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmcv
import numpy as np
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmengine.utils import ProgressBar

from mmieee.datasets.transforms import ApplyToModalities
from mmieee.registry import DATASETS
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_dir, exit_on_user_error,
                          load_tool_config, parse_tool_args, write_rgb_image)
from mmieee.visualization import ReIDVisualizer
from mmieee.visualization.sample_images import pipeline_channel_order

PHASES = ('train', 'val', 'test')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the pipeline output of dataset samples, the M '
        'modalities side by side.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('--out-dir', required=True, help='folder of PNGs')
    parser.add_argument(
        '--phase',
        choices=PHASES,
        default='train',
        help='dataloader whose dataset and pipeline are shown')
    parser.add_argument('--num', type=int, default=20, help='samples shown')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the augmentations')
    add_common_arguments(
        parser, cfg_options_example='train_dataloader.dataset.data_root=DIR')
    return parse_tool_args(parser, argv)


def step_label(transform) -> str:
    """Row label of a pipeline step."""
    name = type(transform).__name__
    if isinstance(transform, ApplyToModalities):
        inner = ', '.join(type(t).__name__ for t in transform.transforms)
        draws = 'shared' if transform.share_random_params else 'independent'
        return f'{name}\n[{inner}]\n{draws} draws'
    return name


def pipeline_steps(dataset, index: int,
                   channel_order: str = 'rgb') -> List[Tuple[str, list]]:
    """Run the pipeline on one sample, keeping the images after each step.

    Args:
        dataset: The dataset (its ``pipeline.transforms`` are run one by
            one on ``get_data_info(index)``).
        index (int): Sample index.
        channel_order (str): The pipeline's channel order; ``'bgr'``
            images are shown in RGB.

    Returns:
        list[tuple[str, list]]: ``(label, M images (H, W, 3))`` of every
        step that has images (``results['img']`` or the packed
        ``inputs``).
    """
    results = dataset.get_data_info(index)
    steps = []
    for transform in dataset.pipeline.transforms:
        results = transform(results)
        if results is None:
            raise ConfigError(
                f'{step_label(transform)} dropped sample {index} (returned '
                'None); browse_dataset shows samples that pass the pipeline')
        if 'inputs' in results:  # packed: (M, C, H, W)
            imgs = [
                img.permute(1, 2, 0).numpy() for img in results['inputs']
            ]
            label = f'{type(transform).__name__}\n(model input)'
        elif isinstance(results.get('img'), (list, tuple)):
            imgs = [np.array(img) for img in results['img']]
            label = step_label(transform)
        else:
            continue
        if channel_order == 'bgr':
            imgs = [mmcv.bgr2rgb(img) for img in imgs]
        h, w = imgs[0].shape[:2]
        steps.append((f'{label}\n{h} x {w}', imgs))
    return steps


def main(argv=None) -> list:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.num < 1:
            raise ConfigError(f'--num must be >= 1, got {args.num}')
        check_output_dir(args.out_dir, '--out-dir')
        key = f'{args.phase}_dataloader'
        cfg = load_tool_config(args.config, args.cfg_options, data_keys=(key,),
                               required=())
        if not cfg.get(key) or 'dataset' not in cfg[key]:
            raise ConfigError(f'the config has no {key}.dataset')
        init_default_scope(cfg.get('default_scope', 'mmieee'))
        dataset = DATASETS.build(cfg[key]['dataset'])
        set_random_seed(args.seed)
        files = draw_samples(args, dataset)
    print(f'\nWrote {len(files)} pictures to {args.out_dir}')
    return files


def draw_samples(args: argparse.Namespace, dataset) -> list:
    """One picture per chosen sample; returns the files written."""
    modalities = dataset.metainfo['modalities']
    channel_order = pipeline_channel_order(dataset)
    indices = np.unique(
        np.linspace(0, len(dataset) - 1, min(args.num, len(dataset))).round()
        .astype(int))
    visualizer = ReIDVisualizer.get_instance('browse_dataset')
    files = []
    bar = ProgressBar(len(indices))
    for idx in indices.tolist():
        steps = pipeline_steps(dataset, idx, channel_order)
        info = dataset.get_data_info(idx)
        title = f'{args.phase} sample {idx}: id {info["pid"]}'
        if 'camid' in info:
            title += f', camid {info["camid"]}'
        canvas = visualizer.draw_image_grid(
            [imgs for _, imgs in steps],
            row_labels=[label for label, _ in steps],
            column_labels=list(modalities),
            title=title)
        path = osp.join(args.out_dir,
                        f'{args.phase}_{idx:05d}_id{info["pid"]}.png')
        files.append(write_rgb_image(path, canvas))
        bar.update()
    return files


if __name__ == '__main__':
    main()
