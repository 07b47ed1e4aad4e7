# Copyright (c) mmieee contributors.
"""Where each modality stream looks: activation maps over the test images.

    python tools/visualization/vis_actmap.py CONFIG CHECKPOINT --out-dir DIR
        [--num-samples 8] [--seed 0] [--grad-cam] [--alpha 0.5]
        [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

One PNG per test sample (``--num-samples`` drawn with ``--seed``), one row
per modality: the image the model sees (after the test pipeline), then its
stream's activation map (torchreid's method: the channel mean of the
squared last-stage activations) overlaid on it, and with ``--grad-cam`` the
Grad-CAM of the stream for the identity the part classifiers score highest
(needs ``pip install grad-cam``). Missing modalities set with
``--cfg-options "model.test_cfg.blank_modalities=[NI]"`` are blanked as in
testing.
"""
import argparse
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmcv
import mmengine
import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.utils import ProgressBar

from mmieee.apis import build_test_dataset, init_model
from mmieee.utils import ConfigError, exit_on_user_error, load_tool_config
from mmieee.visualization import (ReIDVisualizer, grad_cam_maps, preprocess,
                                  stream_activation_maps)
from mmieee.visualization.sample_images import pipeline_channel_order


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-stream activation maps of a multi-modal Re-ID '
        'model on test images.')
    parser.add_argument('config', help='path of the config file')
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument('--out-dir', required=True, help='folder of PNGs')
    parser.add_argument(
        '--num-samples', type=int, default=8, help='test samples drawn')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the sample choice')
    parser.add_argument(
        '--grad-cam',
        action='store_true',
        help='add Grad-CAM maps (needs `pip install grad-cam`)')
    parser.add_argument(
        '--alpha', type=float, default=0.5, help='weight of the heat map')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device of the model (default: cuda when available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, KEY=VALUE with dotted keys')
    return parser.parse_args(argv)


def display_images(packed_inputs: torch.Tensor, channel_order: str) -> list:
    """The M packed (M, C, H, W) uint8 images as RGB (H, W, 3) arrays."""
    images = []
    for img in packed_inputs:
        img = img.permute(1, 2, 0).cpu().numpy().astype(np.uint8)
        images.append(mmcv.bgr2rgb(img) if channel_order == 'bgr' else img)
    return images


def main(argv=None) -> list:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.num_samples < 1:
            raise ConfigError(
                f'--num-samples must be >= 1, got {args.num_samples}')
        if not 0 <= args.alpha <= 1:
            raise ConfigError(f'--alpha must be in [0, 1], got {args.alpha}')
        if args.grad_cam:
            try:
                import pytorch_grad_cam  # noqa: F401
            except ImportError:
                raise ConfigError(
                    '--grad-cam needs the optional "grad-cam" package: '
                    '`pip install grad-cam` (see docs/visualization.md)')
        if not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        cfg = load_tool_config(
            args.config, args.cfg_options, data_keys=('test_dataloader', ))
    model = init_model(cfg, args.checkpoint, device=args.device)
    dataset = build_test_dataset(cfg)
    modalities = dataset.metainfo['modalities']
    channel_order = pipeline_channel_order(dataset)
    num = min(args.num_samples, len(dataset))
    indices = np.sort(
        np.random.default_rng(args.seed).choice(len(dataset), num, False))
    visualizer = ReIDVisualizer.get_instance('vis_actmap')
    mmengine.mkdir_or_exist(args.out_dir)
    files = []
    bar = ProgressBar(num)
    for idx in indices.tolist():
        packed = dataset[idx]
        inputs, samples = preprocess(model, [packed])
        act = stream_activation_maps(model, inputs, samples)
        columns = [('activation', [a[0].cpu().numpy() for a in act])]
        title = f'test sample {idx}: id {samples[0].pid}'
        if 'camid' in samples[0]:
            title += f', camid {samples[0].camid}'
        if args.grad_cam:
            cams, classes = grad_cam_maps(model, inputs)
            columns.append((f'Grad-CAM\n(class {int(classes[0])})',
                            list(cams[0])))
        blank = model.test_cfg.get('blank_modalities')
        if blank:
            title += f'\nblanked: {", ".join(blank)}'
        canvas = visualizer.draw_activation_maps(
            display_images(packed['inputs'], channel_order),
            columns,
            modalities=modalities,
            title=title,
            alpha=args.alpha)
        path = osp.join(args.out_dir,
                        f'actmap_{idx:05d}_id{int(samples[0].pid)}.png')
        mmcv.imwrite(canvas[..., ::-1], path)
        files.append(path)
        bar.update()
    print(f'\nWrote {len(files)} activation-map pictures to {args.out_dir}')
    return files


if __name__ == '__main__':
    main()
