# Copyright (c) mmieee contributors.
"""Query / gallery samples given by users: the checks where they enter."""
import os.path as osp

import numpy as np
import pytest

from mmieee.apis.sample_inputs import (check_sample, folder_dataset_cfg,
                                       parse_ids, parse_samples)
from mmieee.registry import DATASETS

MODS = ('RGB', 'NI', 'TI')


def _write(path, value=0):
    import cv2
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 4, 3), value, np.uint8))
    return str(path)


@pytest.fixture
def split(tmp_path):
    """<tmp>/test/{RGB,NI,TI}/ with two RGBNT201-named triplets."""
    for name in ('000003_cam1_0_00.jpg', '000004_cam2_0_01.jpg'):
        for m in MODS:
            _write(tmp_path / 'test' / m / name)
    return tmp_path / 'test'


def test_triplet_is_checked_and_ids_are_read(split):
    paths = [str(split / m / '000004_cam2_0_01.jpg') for m in MODS]
    sample = check_sample(paths, MODS, 0)
    assert sample.img_paths == paths
    assert (sample.pid, sample.camid, sample.sceneid) == (4, 1, None)
    # the same as a mapping in the model's order
    named = check_sample(dict(zip(MODS, paths)), MODS, 0)
    assert named.images == paths


def test_missing_file_is_named(split):
    paths = [str(split / m / '000004_cam2_0_01.jpg') for m in MODS]
    good = list(paths)
    paths[1] = str(split / 'NI' / 'nope.jpg')
    with pytest.raises(FileNotFoundError,
                       match=r"query 2 \(NI\): image file '.*nope.jpg' does"):
        parse_samples([good, good, paths], MODS)


def test_wrong_number_of_images_is_named(split):
    paths = [str(split / m / '000004_cam2_0_01.jpg') for m in MODS]
    with pytest.raises(ValueError,
                       match=r"query 0 has 2 image\(s\), the model expects "
                       r"3, one per modality \('RGB', 'NI', 'TI'\)"):
        parse_samples(paths[:2], MODS)
    with pytest.raises(ValueError, match='is one file, but a sample of this '
                       'model is 3 images'):
        parse_samples(paths[0], MODS)


def test_modality_order_is_checked(split):
    paths = [str(split / m / '000004_cam2_0_01.jpg') for m in MODS]
    swapped = [paths[2], paths[0], paths[1]]
    with pytest.raises(ValueError,
                       match=r"query 0: the images come from the modality "
                       r"folders \('TI', 'RGB', 'NI'\) = \('TI', 'RGB', "
                       r"'NI'\), but the model takes \('RGB', 'NI', 'TI'\)"):
        check_sample(swapped, MODS, 0)
    with pytest.raises(ValueError,
                       match=r"query 1 names the modalities \('TI', 'RGB', "
                       r"'NI'\), but the model takes \('RGB', 'NI', 'TI'\)"):
        check_sample(dict(TI=paths[2], RGB=paths[0], NI=paths[1]), MODS, 1)
    # a two-modality model given the NI folder instead of TI
    with pytest.raises(ValueError, match=r"= \('RGB', 'NI'\), but the model "
                       r"takes \('RGB', 'TI'\)"):
        check_sample(paths[:2], ('RGB', 'TI'), 0)
    # images outside modality folders cannot be checked: taken as given
    other = [_write(split.parent / 'mine' / f'{m}.png') for m in MODS]
    assert check_sample(other, MODS, 0).images == other


def test_arrays_are_checked():
    img = np.zeros((8, 4, 3), np.uint8)
    assert parse_samples([img, img, img], MODS)[0].img_paths is None
    with pytest.raises(ValueError, match=r'query 0 \(NI\): an image array '
                       r'must be \(H, W, 3\) or \(H, W\) uint8 RGB, got '
                       r'shape \(8, 4, 3\) dtype float32'):
        parse_samples([img, img.astype(np.float32), img], MODS)


def _folder(folder, modalities):
    """The samples of a folder, read as the dataset it stands for."""
    dataset = DATASETS.build(folder_dataset_cfg(str(folder), modalities))
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_folder_is_read_as_a_dataset(split):
    infos = _folder(split, MODS)
    assert [(i['pid'], i['camid']) for i in infos] == [(3, 0), (4, 1)]
    assert infos[1]['img_path'] == [
        str(split / m / '000004_cam2_0_01.jpg') for m in MODS
    ]
    assert all(i['is_query'] and i['is_gallery'] for i in infos)
    # two-modality model: its folders only, in its order
    two = _folder(split, ('TI', 'RGB'))
    assert two[0]['img_path'] == [
        str(split / m / '000003_cam1_0_00.jpg') for m in ('TI', 'RGB')
    ]
    (split / 'TI' / '000003_cam1_0_00.jpg').unlink()
    with pytest.raises(FileNotFoundError,
                       match=r"1 file\(s\) missing.*TI/000003_cam1_0_00.jpg"):
        _folder(split, MODS)
    with pytest.raises(ValueError, match='is a folder'):
        parse_samples(str(split), MODS)


def test_folder_without_ids(tmp_path):
    for name in ('holiday.jpg', 'beach.png'):
        for m in MODS:
            _write(tmp_path / 'mine' / m / name)
    infos = _folder(tmp_path / 'mine', MODS)
    assert [osp.basename(i['img_path'][0]) for i in infos] == [
        'beach.png', 'holiday.jpg']
    assert all('pid' not in i and 'camid' not in i for i in infos)


def test_folder_with_a_modality_folder_missing(tmp_path):
    for m in ('RGB', 'NI'):
        _write(tmp_path / 'two' / m / '1_c1.jpg')
    with pytest.raises(FileNotFoundError, match=r"has the modality folders "
                       r"\['NI', 'RGB'\] but none for \['TI'\]"):
        folder_dataset_cfg(str(tmp_path / 'two'), MODS)


def test_ids_from_each_dataset_rule():
    assert parse_ids('000287_cam1_0_05.jpg')[1] == dict(pid=287, camid=0)
    assert parse_ids('0002_c3s1_000451_03.jpg')[1] == dict(pid=2, camid=2)
    assert parse_ids('0019_s012_v0_000.jpg')[1] == dict(
        pid=19, camid=0, sceneid=12)
    assert parse_ids('holiday.jpg') is None
