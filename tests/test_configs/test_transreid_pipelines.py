# Copyright (c) mmieee contributors.
"""The TransReID augmentation that TOP-ReID and DeMo inherit
(data/datasets/make_dataloader.py of github.com/924973292/TOP-ReID and
github.com/924973292/DeMo) is defined once per input size in
configs/_base_/pipelines/transreid_*.py, every TOP-ReID and DeMo config
trains and tests with the base of its size, and the pipeline gives the
official pixels and erasing parameters."""
import math
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from PIL import Image

import mmieee  # noqa: F401
from mmieee.registry import TRANSFORMS
from mmieee.utils import register_all_modules

REPO = Path(__file__).resolve().parents[2]
PIPELINES = REPO / 'configs' / '_base_' / 'pipelines'
#: pipeline base -> (h, w) of SIZE_TRAIN = SIZE_TEST, Pad
SIZES = {
    'transreid_256x128.py': ((256, 128), 10),
    'transreid_128x256.py': ((128, 256), 10),
    'transreid_64x32.py': ((64, 32), 3),  # the synthetic demos
}
#: config -> the pipeline base it must use
CONFIGS = {
    'topreid/topreid_vit-b16_1xb128-120e_rgbnt201.py': 'transreid_256x128.py',
    'topreid/topreid_vit-b16_1xb128-120e_rgbnt100.py': 'transreid_256x128.py',
    'topreid/topreid_vit-b16_1xb128-1000e_msvr310.py': 'transreid_256x128.py',
    'topreid/topreid_vit-tiny_1xb32-30e_synthetic-demo.py':
    'transreid_64x32.py',
    'demo/demo_vit-b16-clip_1xb64-50e_rgbnt201.py': 'transreid_256x128.py',
    'demo/demo_vit-b16-clip_1xb128-30e_rgbnt100.py': 'transreid_128x256.py',
    'demo/demo_vit-b16-clip_1xb64-50e_msvr310.py': 'transreid_128x256.py',
    'demo/demo_vit-tiny_1xb32-20e_synthetic-demo.py': 'transreid_64x32.py',
}


def _base(name):
    return Config.fromfile(str(PIPELINES / name))


def test_every_topreid_and_demo_config_is_listed():
    found = {
        str(p.relative_to(REPO / 'configs'))
        for folder in ('topreid', 'demo')
        for p in (REPO / 'configs' / folder).glob('*.py')
    }
    assert found == set(CONFIGS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_uses_the_pipeline_base_of_its_size(name):
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    base = _base(CONFIGS[name])
    train = base.transreid_train_pipeline
    test = base.transreid_test_pipeline
    assert cfg.train_dataloader.dataset.pipeline == train
    assert cfg.val_dataloader.dataset.pipeline == test
    assert cfg.test_dataloader.dataset.pipeline == test
    # the config's own train_pipeline / test_pipeline (what a dumped config
    # shows) are the ones its dataloaders use
    assert cfg.train_pipeline == train and cfg.test_pipeline == test
    (size, _), = [SIZES[CONFIGS[name]]]
    assert tuple(cfg.model.backbone.backbone.img_size) == size
    # the erasing fill is N(0, 1) after the model's normalisation
    erase = train[1].transforms[3]
    assert list(cfg.model.data_preprocessor.mean) == [erase.fill_mean] * 3
    assert list(cfg.model.data_preprocessor.std) == [erase.fill_std] * 3


@pytest.mark.parametrize('name', sorted(SIZES))
def test_official_values(name):
    (h, w), pad = SIZES[name]
    base = _base(name)
    load, per_modality, pack = base.transreid_train_pipeline
    assert load == dict(type='LoadMultiModalImages', imdecode_backend='pillow')
    assert pack == dict(type='PackMultiModalReIDInputs')
    assert per_modality.type == 'ApplyToModalities'
    assert per_modality.share_random_params is False
    resize, flip, crop, erase = per_modality.transforms
    # T.Resize(SIZE_TRAIN, interpolation=3), RandomHorizontalFlip(0.5),
    # Pad(PADDING), RandomCrop(SIZE_TRAIN)
    assert resize == dict(type='Resize', scale=(w, h), interpolation='bicubic',
                          backend='pillow')
    assert flip == dict(type='RandomFlip', prob=0.5, direction='horizontal')
    assert crop == dict(type='RandomCrop', crop_size=(h, w), padding=pad,
                        pad_val=0)
    # RandomErasing(probability=0.5, mode='pixel', max_count=1) with timm's
    # defaults: area 0.02 - 1/3, aspect 0.3 - 1/0.3, 10 attempts
    register_all_modules()
    built = TRANSFORMS.build(erase)
    assert (built.prob, built.min_area, built.max_area, built.max_attempts,
            built.mode) == (0.5, 0.02, 1 / 3, 10, 'pixel')
    assert built.log_aspect == (math.log(0.3), math.log(1 / 0.3))
    # T.Resize(SIZE_TEST): bilinear, nothing else
    assert base.transreid_test_pipeline == [
        load,
        dict(type='ApplyToModalities', transforms=[
            dict(type='Resize', scale=(w, h), interpolation='bilinear',
                 backend='pillow')
        ]), pack
    ]


def test_decode_and_resize_give_the_official_pixels(tmp_path):
    """PIL.Image.open(path).convert('RGB') and torchvision's Resize on a PIL
    image (PIL's resize with the bilinear / bicubic filter) give exactly
    the pixels of the pipelines' load and resize steps."""
    register_all_modules()
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'img.jpg')
    Image.fromarray(rng.integers(0, 256, (300, 140, 3), np.uint8)).save(
        path, quality=90)
    base = _base('transreid_256x128.py')
    results = Compose(base.transreid_test_pipeline[:2])(
        dict(img_path=[path]))
    official = Image.open(path).convert('RGB')
    want = np.asarray(official.resize((128, 256), Image.BILINEAR))
    np.testing.assert_array_equal(results['img'][0], want)
    load, per_modality, _ = base.transreid_train_pipeline
    resize_only = dict(per_modality, transforms=per_modality.transforms[:1])
    results = Compose([load, resize_only])(dict(img_path=[path]))
    want = np.asarray(official.resize((128, 256), Image.BICUBIC))
    np.testing.assert_array_equal(results['img'][0], want)
