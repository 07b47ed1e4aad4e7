# Copyright (c) mmieee contributors.
"""Write a synthetic multi-modal Re-ID dataset in the layout of one of
mmieee's dataset classes.

Example::

    python tools/dataset_converters/generate_synthetic.py data \\
        --layout rgbnt201 --num-train-ids 40 --num-test-ids 20
    # -> data/RGBNT201/{train_171,test}/{RGB,NI,TI}/*.jpg
"""
import argparse
import sys
import time
from typing import List, Optional

import mmieee  # noqa: F401  (environment shims before mmpretrain imports)
from mmieee.testing.synthetic import LAYOUTS, generate_synthetic_dataset


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a synthetic RGB/NI/TI Re-ID dataset whose '
        'identities look consistent across modalities and vary by camera.')
    parser.add_argument(
        'out_dir',
        help='parent folder; the dataset is written to OUT_DIR/<dataset '
        'name> (' +
        ', '.join(c.LAYOUT.dataset_name for c in LAYOUTS.values()) + ')')
    parser.add_argument(
        '--layout', default='rgbnt201', choices=sorted(LAYOUTS))
    parser.add_argument('--num-train-ids', type=int, default=40)
    parser.add_argument('--num-test-ids', type=int, default=20)
    parser.add_argument('--num-cameras', type=int, default=4)
    parser.add_argument('--images-per-id-per-camera', type=int, default=3)
    parser.add_argument('--height', type=int, default=128)
    parser.add_argument(
        '--width', type=int,
        help='width of one modality image (default: the layout\'s tile '
        'width for side-by-side layouts, i.e. 256 for rgbnt100, so that its '
        'config reads the files; else 64)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ext', default='jpg', choices=['jpg', 'png'])
    parser.add_argument(
        '--num-junk', type=int, default=0,
        help='pid -1 gallery images (market1501mm only)')
    parser.add_argument(
        '--num-distractors', type=int, default=0,
        help='pid 0 gallery images (market1501mm only)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        info = generate_synthetic_dataset(
            args.out_dir,
            num_train_ids=args.num_train_ids,
            num_test_ids=args.num_test_ids,
            num_cameras=args.num_cameras,
            images_per_id_per_camera=args.images_per_id_per_camera,
            height=args.height,
            width=args.width,
            seed=args.seed,
            layout=args.layout,
            ext=args.ext,
            num_junk=args.num_junk,
            num_distractors=args.num_distractors)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f'Wrote {info["num_files"]} image files ({args.layout} layout, '
          f'seed {args.seed}) to {info["root"]} in {elapsed:.1f} s:')
    for folder, n in info['samples'].items():
        print(f'  {folder}: {n} samples')
    return 0


if __name__ == '__main__':
    sys.exit(main())
