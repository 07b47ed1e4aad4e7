# Copyright (c) mmieee contributors.
"""mmieee.apis: init_model and extract_features (collect_features and the
DumpReIDFeatures pseudo-metric: tests/test_evaluation/test_metrics)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmieee.apis import extract_features, init_model
from mmieee.testing.synthetic import generate_synthetic_dataset

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'ieee' / \
    'ieee_r18_1xb16-8e_synthetic-demo.py'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A tiny model config on a tiny synthetic set, and a checkpoint."""
    base = tmp_path_factory.mktemp('apis')
    root = generate_synthetic_dataset(
        str(base), num_train_ids=4, num_test_ids=2, num_cameras=2,
        images_per_id_per_camera=1, height=64, width=32)['root']
    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict({
        'model.backbone.backbone.base_channels': 8,
        'model.backbone.backbone.stem_channels': 8,
        'model.neck.in_channels': 64,
        'model.neck.reduce_channels': 16,
        'model.neck.out_channels': 8,
        'model.head.in_channels': 8,
        'model.head.num_classes': 4,
        'test_dataloader.dataset.data_root': root,
        'test_dataloader.batch_size': 3,
        'test_dataloader.num_workers': 0,
    })
    model = init_model(cfg)
    ckpt = base / 'model.pth'
    with torch.no_grad():  # make the weights differ from a fresh init
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return cfg, ckpt, root


def test_init_model_loads_checkpoint_in_eval_mode(setup):
    cfg, ckpt, _ = setup
    model = init_model(cfg, str(ckpt))
    assert not model.training
    saved = torch.load(ckpt, weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert model.cfg.model.head.num_classes == 4
    blanked = init_model(
        cfg, str(ckpt),
        cfg_options={'model.test_cfg.blank_modalities': ['TI']})
    assert blanked.blank_indices == [2]


def test_dataloader_and_triplets_give_the_same_features(setup):
    cfg, ckpt, root = setup
    model = init_model(cfg, str(ckpt))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    from_loader = extract_features(model, loader)
    n = 2 * 2  # test ids x cameras
    assert from_loader.feats.shape == (n, 3 * 4 * 8)
    assert from_loader.pids.shape == (n, )
    assert from_loader.is_query.all()

    paths = from_loader.img_paths
    from_paths = extract_features(model, paths, batch_size=2)
    np.testing.assert_allclose(from_paths.feats, from_loader.feats,
                               rtol=1e-5, atol=1e-6)
    # bare images have no ids; their paths are kept
    assert from_paths.pids is None and from_paths.camids is None
    assert from_paths.is_query is None
    assert from_paths.img_paths == paths

    arrays = [[cv2.imread(p)[..., ::-1].copy() for p in triplet]
              for triplet in paths]
    from_arrays = extract_features(model, arrays)
    np.testing.assert_allclose(from_arrays.feats, from_loader.feats,
                               rtol=1e-5, atol=1e-6)


def test_extract_features_checks_the_number_of_images(setup):
    cfg, ckpt, root = setup
    model = init_model(cfg, str(ckpt))
    with pytest.raises(ValueError, match='item 0 has 2 images, the model '
                       'expects 3'):
        extract_features(model, [['a.jpg', 'b.jpg']])
    with pytest.raises(ValueError, match='no images'):
        extract_features(model, [])


def test_progress_bar_only_when_asked_or_on_a_terminal(setup, capsys,
                                                       monkeypatch):
    cfg, ckpt, root = setup
    model = init_model(cfg, str(ckpt))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    extract_features(model, loader)  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ''
    extract_features(model, loader, progress=True)
    err = capsys.readouterr().err
    assert '4/4' in err and 'task/s' in err
    paths = extract_features(model, loader).img_paths
    monkeypatch.setattr('sys.stderr.isatty', lambda: True, raising=False)
    extract_features(model, paths, batch_size=3)
    assert '4/4' in capsys.readouterr().err
