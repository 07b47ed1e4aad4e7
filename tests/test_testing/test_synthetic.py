# Copyright (c) mmieee contributors.
import filecmp
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmieee.datasets import RGBNT201, Market1501MM
from mmieee.testing import LAYOUTS, generate_synthetic_dataset
from mmieee.testing.synthetic import render_sample

SMALL = dict(num_train_ids=3, num_test_ids=2, num_cameras=2,
             images_per_id_per_camera=2, height=16, width=8)
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tree(root):
    return sorted(
        osp.relpath(osp.join(d, f), root)
        for d, _, files in os.walk(root) for f in files)


def test_same_seed_byte_identical_other_seed_differs(tmp_path):
    a = generate_synthetic_dataset(str(tmp_path / 'a'), seed=7, **SMALL)
    b = generate_synthetic_dataset(str(tmp_path / 'b'), seed=7, **SMALL)
    c = generate_synthetic_dataset(str(tmp_path / 'c'), seed=8, **SMALL)
    files = _tree(a['root'])
    assert files == _tree(b['root']) == _tree(c['root'])
    assert len(files) == a['num_files'] == (3 + 2) * 2 * 2 * 3
    _, mismatch, errors = filecmp.cmpfiles(a['root'], b['root'], files,
                                           shallow=False)
    assert not mismatch and not errors
    _, mismatch, _ = filecmp.cmpfiles(a['root'], c['root'], files,
                                      shallow=False)
    assert len(mismatch) == len(files)


def test_rgbnt201_layout_and_names(tmp_path):
    info = generate_synthetic_dataset(str(tmp_path), ext='png', **SMALL)
    assert info['root'] == osp.join(str(tmp_path), 'RGBNT201')
    assert info['samples'] == {'train_171': 12, 'test': 8}
    names = sorted(os.listdir(osp.join(info['root'], 'train_171', 'NI')))
    assert names[0] == '000001_cam1_0_00.png'
    assert names[-1] == '000003_cam2_0_01.png'
    img = cv2.imread(osp.join(info['root'], 'test', 'TI',
                              '000004_cam2_0_01.png'))
    assert img.shape == (16, 8, 3)
    ds = RGBNT201(info['root'], split='test')
    assert sorted(set(ds.get_pids().tolist())) == [4, 5]


def test_modalities_render_the_same_figure():
    imgs = render_sample(0, pid=3, cam=1, index=0, height=64, width=32)
    assert set(imgs) == {'RGB', 'NI', 'TI'}
    for img in imgs.values():
        assert img.shape == (64, 32, 3) and img.dtype == np.uint8
    ni = imgs['NI'].astype(int)
    assert np.abs(ni[..., 0] - ni[..., 1]).max() == 0  # grey NI
    # The person silhouette is aligned in RGB / NI / TI: edges coincide.
    edges = [cv2.Canny(cv2.GaussianBlur(imgs[m], (3, 3), 0), 30, 90) > 0
             for m in ('RGB', 'NI', 'TI')]
    cols = [e.any(axis=0) for e in edges]
    assert (cols[0] & cols[2]).sum() >= 0.5 * cols[2].sum()


def _descriptor(img):
    small = cv2.resize(img, (4, 8), interpolation=cv2.INTER_AREA)
    d = small.astype(np.float32).ravel()
    return d - d.mean()


def test_identities_are_learnable_but_not_trivial():
    """Cross-camera nearest neighbour on raw pixels beats chance by far,
    and the best modality alone is not perfect (cameras change the look)."""
    ids, cams = range(1, 21), range(4)
    feats = {m: {} for m in ('RGB', 'NI', 'TI')}
    for pid in ids:
        for cam in cams:
            imgs = render_sample(0, pid, cam, 0, 64, 32)
            for m in feats:
                feats[m][pid, cam] = _descriptor(imgs[m])

    def rank1(mods):
        hits = total = 0
        for (pid, cam) in feats['RGB']:
            q = np.concatenate([feats[m][pid, cam] for m in mods])
            best, best_d = None, np.inf
            for (gpid, gcam) in feats['RGB']:
                if gcam == cam:
                    continue
                g = np.concatenate([feats[m][gpid, gcam] for m in mods])
                d = np.linalg.norm(q - g)
                if d < best_d:
                    best, best_d = gpid, d
            hits += best == pid
            total += 1
        return hits / total

    fused = rank1(('RGB', 'NI', 'TI'))
    assert fused > 5 * (1 / 20)  # chance is 5 %
    assert min(rank1((m, )) for m in ('RGB', 'NI', 'TI')) < 1.0


def test_market_layout_query_gallery(tmp_path):
    info = generate_synthetic_dataset(
        str(tmp_path), layout='market1501mm', num_junk=1, num_distractors=2,
        **SMALL)
    # query: image 0 of each camera of the 2 test ids; gallery: the rest
    assert info['samples'] == {'train': 12, 'query': 4, 'gallery': 4 + 3}
    gal = sorted(os.listdir(osp.join(info['root'], 'gallery', 'RGB')))
    pids = [int(Market1501MM.LAYOUT.regex.fullmatch(n).group('pid'))
            for n in gal]
    assert pids.count(-1) == 1 and pids.count(0) == 2


def test_single_image_per_camera_still_has_gallery(tmp_path):
    kw = dict(SMALL, images_per_id_per_camera=1)
    info = generate_synthetic_dataset(str(tmp_path), layout='market1501mm',
                                      **kw)
    assert info['samples'] == {'train': 6, 'query': 2, 'gallery': 2}


@pytest.mark.parametrize('kwargs,match', [
    (dict(layout='coco'), 'layout'),
    (dict(ext='gif'), 'ext'),
    (dict(num_train_ids=0), 'num_train_ids'),
    (dict(num_junk=1), 'market1501mm'),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_synthetic_dataset(str(tmp_path), **kwargs)


@pytest.mark.parametrize('cls', list(LAYOUTS.values()))
def test_every_layout_is_written_as_its_dataset_reads_it(tmp_path, cls):
    """The generator takes folders and names from the dataset class's
    LAYOUT: the class reads back every id and camera, with 10 cameras."""
    layout = [k for k, v in LAYOUTS.items() if v is cls][0]
    info = generate_synthetic_dataset(
        str(tmp_path), layout=layout, num_train_ids=3, num_test_ids=2,
        num_cameras=10, images_per_id_per_camera=2, height=16, width=8)
    assert info['root'] == osp.join(str(tmp_path), cls.LAYOUT.dataset_name)
    extra = dict(tile_width=8) if cls.LAYOUT.tile_width else {}
    train = cls(info['root'], split='train', **extra)
    assert sorted({train.get_data_info(i)['pid'] for i in range(len(train))
                   }) == [1, 2, 3]
    assert sorted({train.get_data_info(i)['camid']
                   for i in range(len(train))}) == list(range(10))
    test = cls(info['root'], split='test', **extra)
    assert len(test) == 2 * 10 * 2


def _load_cli():
    import importlib.util
    script = osp.join(REPO, 'tools', 'dataset_converters',
                      'generate_synthetic.py')
    spec = importlib.util.spec_from_file_location('generate_synthetic',
                                                  script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli(tmp_path, capsys):
    cli = _load_cli()
    rc = cli.main([
        str(tmp_path), '--layout', 'market1501mm', '--num-train-ids', '2',
        '--num-test-ids', '1', '--num-cameras', '2',
        '--images-per-id-per-camera', '2', '--height', '16', '--width', '8',
        '--seed', '3'
    ])
    out = capsys.readouterr().out
    assert rc == 0
    assert 'Wrote 36 image files (market1501mm layout, seed 3)' in out
    assert osp.join(str(tmp_path), 'Market1501-MM') in out
    assert 'query: 2 samples' in out
    assert osp.isdir(osp.join(str(tmp_path), 'Market1501-MM', 'gallery',
                              'TI'))
    assert cli.main([str(tmp_path), '--num-train-ids', '0']) == 2
    assert 'num_train_ids' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path), '--layout', 'coco'])


def test_cli_runs_as_a_script(tmp_path):
    script = osp.join(REPO, 'tools', 'dataset_converters',
                      'generate_synthetic.py')
    out = subprocess.run(
        [sys.executable, script, str(tmp_path), '--num-train-ids', '1',
         '--num-test-ids', '1', '--num-cameras', '1',
         '--images-per-id-per-camera', '1', '--height', '16', '--width', '8'],
        capture_output=True, text=True, check=True)
    assert 'Wrote 6 image files (rgbnt201 layout, seed 0)' in out.stdout


def test_default_sizes_are_what_each_layout_config_reads(tmp_path):
    """Without --width, the side-by-side layout gets its dataset's tile
    width, so the RGBNT100 class (and config) reads the files as written."""
    from mmieee.datasets import RGBNT100
    from mmieee.datasets.transforms import LoadMultiModalImages
    generate_synthetic_dataset(
        str(tmp_path), num_train_ids=1, num_test_ids=1, num_cameras=1,
        images_per_id_per_camera=2, height=16, layout='rgbnt100')
    dataset = RGBNT100(str(tmp_path / 'RGBNT100'), split='test',
                       pipeline=[LoadMultiModalImages()])
    imgs = dataset[0]['img']
    assert [img.shape for img in imgs] == [(16, 256, 3)] * 3
