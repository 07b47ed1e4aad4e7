# Copyright (c) mmieee contributors.
"""Where each modality stream looks: activation maps over the test images.

    python tools/visualization/vis_actmap.py CONFIG CHECKPOINT --out-dir DIR
        [--num-samples 8] [--seed 0] [--grad-cam] [--alpha 0.5]
        [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

One PNG per test sample (``--num-samples`` drawn with ``--seed``), one row
per modality: the image the model sees (after the test pipeline), then its
stream's activation map (torchreid's method: the channel mean of the
squared last-stage activations; for ViT streams, e.g. TOP-ReID, the last
layer's class-token attention over the patches) overlaid on it, and with
``--grad-cam`` the Grad-CAM of the stream for the identity the part
classifiers score highest (CNN streams only; needs ``pip install
grad-cam``). Missing modalities set with
``--cfg-options "model.test_cfg.blank_modalities=[NI]"`` are blanked as in
testing.
"""
import argparse
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmcv
import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmieee.apis import build_test_dataset, init_model
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_dir, exit_on_user_error,
                          load_tool_config, parse_tool_args, write_rgb_image)
from mmieee.utils.optional_packages import require_package
from mmieee.visualization import (ReIDVisualizer, activation_map_name,
                                  grad_cam_maps, is_vit_backbone, preprocess,
                                  stream_activation_maps)
from mmieee.visualization.sample_images import pipeline_channel_order


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-stream activation maps of a multi-modal Re-ID '
        'model on test images.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument('--out-dir', required=True, help='folder of PNGs')
    parser.add_argument(
        '--num-samples', type=int, default=8, help='test samples drawn')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the sample choice')
    parser.add_argument(
        '--grad-cam',
        action='store_true',
        help='add Grad-CAM maps (CNN streams; needs `pip install --no-deps '
        'grad-cam ttach tqdm`)')
    parser.add_argument(
        '--alpha', type=float, default=0.5, help='weight of the heat map')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device of the model (default: cuda when available)')
    add_common_arguments(
        parser, cfg_options_example='"model.test_cfg.blank_modalities=[NI]"')
    return parse_tool_args(parser, argv)


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
        if not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        check_output_dir(args.out_dir, '--out-dir')
        cfg = load_tool_config(
            args.config, args.cfg_options, data_keys=('test_dataloader', ),
            required=('model', 'test_dataloader'))
        model = init_model(cfg, args.checkpoint, device=args.device)
        if args.grad_cam and is_vit_backbone(model.backbone):
            raise ConfigError(
                '--grad-cam explains the last stage of CNN streams (IEEE\'s '
                'ResNets); this model\'s streams are ViTs '
                f'({type(model.backbone.streams[0]).__name__}): run without '
                '--grad-cam for their class-token attention maps')
        if args.grad_cam:
            require_package('pytorch_grad_cam')
        dataset = build_test_dataset(cfg)
        files = draw_all(args, model, dataset)
    print(f'\nWrote {len(files)} activation-map pictures to {args.out_dir}')
    return files


def draw_all(args: argparse.Namespace, model, dataset) -> list:
    """One picture per sampled test sample; returns the files written."""
    modalities = dataset.metainfo['modalities']
    channel_order = pipeline_channel_order(dataset)
    num = min(args.num_samples, len(dataset))
    indices = np.sort(
        np.random.default_rng(args.seed).choice(len(dataset), num, False))
    visualizer = ReIDVisualizer.get_instance('vis_actmap')
    files = []
    bar = ProgressBar(num)
    for idx in indices.tolist():
        packed = dataset[idx]
        inputs, samples = preprocess(model, [packed])
        act = stream_activation_maps(model, inputs, samples)
        columns = [(activation_map_name(model),
                    [a[0].cpu().numpy() for a in act])]
        title = f'test sample {idx}: id {samples[0].pid}'
        if 'camid' in samples[0]:
            title += f', camid {samples[0].camid}'
        if args.grad_cam:
            cams, classes = grad_cam_maps(model, inputs)
            # test ids are not training classes: Grad-CAM explains the
            # training class the model scores highest (named in the title)
            columns.append(('Grad-CAM', list(cams[0])))
            title += (f'\nGrad-CAM of training class {int(classes[0])}, '
                      'the one the model scores highest')
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
        write_rgb_image(path, canvas)
        files.append(path)
        bar.update()
    return files


if __name__ == '__main__':
    main()
