# Copyright (c) mmieee contributors.
"""Synthetic multi-modal Re-ID data in the layouts of mmieee's datasets:
what the README demo and the tests train on.

Each identity is a cartoon person with an identity-specific body shape,
garment colours, garment textures (stripes / checks), hair, shoes and an
optional bag. The three modalities render the *same* figure:

* RGB: the garment colours;
* NI: a grey rendering whose intensity per body part mixes the colour's
  luminance with an identity-specific near-infrared reflectance (so NI
  carries information RGB does not);
* TI: a heat map (skin hottest, garments cooler by an identity-specific
  insulation, cold background) blurred and shown through a heat colormap.

Cameras differ in background, illumination gain / colour cast, ambient
temperature and viewing side (the bag changes side); every image adds a
random translation, scale, brightness jitter and noise. Re-identification
is therefore learnable (appearance is consistent per identity across
cameras and modalities) but not trivial (ids share a small palette, cameras
change the look). Everything is drawn from ``numpy.random.default_rng``
seeded with ``(seed, ...)``, so the same seed writes byte-identical files.

Files are written where and as the dataset classes read them: folders,
modality folders, file names, identity folders and side-by-side tiles all
come from each class's :class:`~mmieee.datasets.DatasetLayout`.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from mmieee.datasets import (MSVR310, RGBNT100, RGBNT201, WMVEID863,
                             Market1501MM)

#: Layout name (``--layout``) → the dataset class whose layout is written.
LAYOUTS = {
    'rgbnt201': RGBNT201,
    'market1501mm': Market1501MM,
    'rgbnt100': RGBNT100,
    'msvr310': MSVR310,
    'wmveid863': WMVEID863,
}

_GARMENT_PALETTE = np.array(
    [[200, 30, 30], [30, 60, 190], [30, 150, 50], [230, 210, 40],
     [240, 240, 240], [25, 25, 25], [130, 130, 130], [120, 60, 160],
     [240, 130, 30], [110, 70, 40], [40, 180, 200], [230, 120, 170]],
    dtype=np.float32)
_SKIN_PALETTE = np.array(
    [[235, 200, 170], [200, 150, 110], [150, 100, 70], [100, 65, 45]],
    dtype=np.float32)
_HAIR_PALETTE = np.array(
    [[20, 15, 10], [90, 55, 25], [200, 170, 90], [140, 140, 140],
     [150, 60, 20]],
    dtype=np.float32)

# Region codes of the label map.
_BG, _SKIN, _HAIR, _UPPER, _LOWER, _SHOES, _BAG = range(7)
_NUM_REGIONS = 7


def _identity(seed: int, pid: int) -> dict:
    """Appearance parameters of one identity (same in every camera)."""
    rng = np.random.default_rng([seed, 1, pid])
    # Per region and per pattern phase (0 = main, 1 = secondary colour).
    rgb = np.zeros((_NUM_REGIONS, 2, 3), np.float32)
    rgb[_SKIN] = _SKIN_PALETTE[rng.integers(len(_SKIN_PALETTE))]
    rgb[_HAIR] = _HAIR_PALETTE[rng.integers(len(_HAIR_PALETTE))]
    for region in (_UPPER, _LOWER, _SHOES, _BAG):
        main, second = rng.choice(len(_GARMENT_PALETTE), 2, replace=False)
        rgb[region, 0] = _GARMENT_PALETTE[main]
        rgb[region, 1] = _GARMENT_PALETTE[second]
    rgb += rng.normal(0, 8, rgb.shape).astype(np.float32)
    # NI: luminance mixed with an id-specific reflectance per region.
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    ni = 0.4 * lum + 0.6 * rng.uniform(40, 230, (_NUM_REGIONS, 2))
    # TI: skin hottest; garments cooler by an id-specific insulation.
    body = rng.uniform(205, 235)
    ti = np.zeros((_NUM_REGIONS, 2), np.float32)
    ti[_SKIN] = body
    ti[_HAIR] = body - rng.uniform(25, 55)
    for region in (_UPPER, _LOWER):
        insulation = rng.uniform(20, 90)
        ti[region, 0] = body - insulation
        ti[region, 1] = body - insulation + rng.uniform(-15, 15)
    ti[_SHOES] = rng.uniform(90, 130)
    ti[_BAG] = rng.uniform(70, 120)
    return dict(
        rgb=rgb,
        ni=ni.astype(np.float32),
        ti=ti,
        height=rng.uniform(0.82, 0.94),
        torso_hw=rng.uniform(0.09, 0.14),
        leg_hw=rng.uniform(0.07, 0.10),
        torso_end=rng.uniform(0.46, 0.54),
        head_r=rng.uniform(0.055, 0.075),
        hair_len=rng.uniform(-0.02, 0.05),
        long_sleeves=bool(rng.integers(2)),
        shorts=bool(rng.random() < 0.3),
        bag=bool(rng.random() < 0.5),
        # pattern: 0 solid, 1 horizontal stripes, 2 vertical, 3 checks
        patterns=rng.integers(0, 4, 2),
        pattern_freq=rng.uniform(12, 28, 2),
    )


def _camera(seed: int, cam: int) -> dict:
    """Appearance parameters of one camera (same for every identity)."""
    rng = np.random.default_rng([seed, 2, cam])
    return dict(
        bg_top=rng.uniform(40, 200, 3),
        bg_bottom=rng.uniform(40, 200, 3),
        gain=rng.uniform(0.55, 1.15),
        cast=rng.uniform(0.85, 1.15, 3),
        ni_gain=rng.uniform(0.7, 1.2),
        ni_bg=rng.uniform(30, 120),
        ambient=rng.uniform(20, 90),
        mirror=bool(cam % 2),
        shift=rng.uniform(-0.04, 0.04),
    )


def _label_map(ident: dict, cam: dict, rng: np.random.Generator,
               height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Region label map (H, W) int and pattern phase map (H, W) int."""
    scale = rng.uniform(0.9, 1.05)
    fig_h = height * ident['height'] * scale
    top = (height - fig_h) / 2 + rng.uniform(-0.04, 0.04) * height
    cx = width / 2 + (cam['shift'] + rng.uniform(-0.06, 0.06)) * width
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    fy = (y + 0.5 - top) / fig_h
    fx = (x + 0.5 - cx) / fig_h
    if cam['mirror']:
        fx = -fx
    ax = np.abs(fx)
    labels = np.full((height, width), _BG, np.int64)

    tw, lw, te = ident['torso_hw'], ident['leg_hw'], ident['torso_end']
    legs = (fy >= te) & (fy < 1.0) & (ax < lw) & (ax > 0.012)
    labels[legs] = _SKIN if ident['shorts'] else _LOWER
    if ident['shorts']:
        labels[legs & (fy < te + 0.18)] = _LOWER
    labels[(fy >= te - 0.02) & (fy < te + 0.04) & (ax < lw)] = _LOWER
    labels[legs & (fy >= 0.94)] = _SHOES
    arms = (fy >= 0.17) & (fy < te + 0.02) & (ax >= tw) & (ax < tw + 0.04)
    labels[arms] = _SKIN
    if ident['long_sleeves']:
        labels[arms & (fy < te - 0.04)] = _UPPER
    else:
        labels[arms & (fy < 0.27)] = _UPPER
    labels[(fy >= 0.15) & (fy < te) & (ax < tw)] = _UPPER
    r = ident['head_r']
    head = ((fy - 0.08) / r)**2 + (fx / (0.75 * r))**2 <= 1.0
    labels[head] = _SKIN
    labels[head & (fy < 0.08 - r + 0.05 + ident['hair_len'])] = _HAIR
    if ident['bag']:
        labels[(fx >= tw + 0.04) & (fx < tw + 0.11) & (fy >= 0.3)
               & (fy < 0.46)] = _BAG

    phase = np.zeros((height, width), np.int64)
    for i, region in enumerate((_UPPER, _LOWER)):
        kind, freq = ident['patterns'][i], ident['pattern_freq'][i]
        if kind == 1:
            mask = np.sin(2 * np.pi * freq * fy) > 0
        elif kind == 2:
            mask = np.sin(2 * np.pi * freq * fx) > 0
        elif kind == 3:
            mask = (np.sin(2 * np.pi * freq * fy) *
                    np.sin(2 * np.pi * freq * fx)) > 0
        else:
            continue
        phase[(labels == region) & mask] = 1
    return labels, phase


def render_sample(seed: int, pid: int, cam: int, index: int, height: int,
                  width: int) -> Dict[str, np.ndarray]:
    """Render one aligned triplet.

    Args:
        seed (int): Global seed.
        pid (int): Identity.
        cam (int): 0-based camera.
        index (int): Image index (distinct images of one id and camera).
        height (int): Image height.
        width (int): Image width.

    Returns:
        dict[str, np.ndarray]: ``'RGB'``, ``'NI'``, ``'TI'`` → uint8
        (H, W, 3) arrays in RGB channel order.
    """
    ident = _identity(seed, pid)
    camera = _camera(seed, cam)
    rng = np.random.default_rng([seed, 3, pid, cam, index])
    labels, phase = _label_map(ident, camera, rng, height, width)
    fg = labels != _BG
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]

    # RGB.
    bg = camera['bg_top'] * (1 - ramp) + camera['bg_bottom'] * ramp
    bg = bg + rng.normal(0, 10, (1, 1, 3))
    bg = np.broadcast_to(bg, (height, width, 3)).astype(np.float32)
    colour = ident['rgb'][labels, phase]
    rgb = np.where(fg[..., None], colour, bg)
    gain = camera['gain'] * rng.uniform(0.9, 1.1)
    rgb = rgb * gain * camera['cast'] + rng.normal(0, 6, rgb.shape)

    # NI: grey, 3 identical channels.
    ni_bg = camera['ni_bg'] * (0.8 + 0.4 * ramp[..., 0]) + rng.normal(0, 8)
    ni = np.where(fg, ident['ni'][labels, phase], ni_bg)
    ni = ni * camera['ni_gain'] * rng.uniform(0.9, 1.1)
    ni = ni + rng.normal(0, 5, ni.shape)
    ni = np.repeat(ni[..., None], 3, axis=2)

    # TI: temperature → blur → heat colormap.
    ti_bg = camera['ambient'] + 20 * ramp[..., 0] + rng.normal(0, 5)
    temp = np.where(fg, ident['ti'][labels, phase], ti_bg).astype(np.float32)
    temp = cv2.GaussianBlur(temp, (5, 5), 1.2)
    temp = temp + rng.normal(0, 4, temp.shape)
    temp_u8 = np.clip(temp, 0, 255).astype(np.uint8)
    ti = cv2.applyColorMap(temp_u8, cv2.COLORMAP_INFERNO)[..., ::-1]

    def to_u8(img):
        return np.ascontiguousarray(np.clip(np.rint(img), 0, 255),
                                    dtype=np.uint8)

    return dict(RGB=to_u8(rgb), NI=to_u8(ni), TI=to_u8(ti))


def _write(path: str, img_rgb: np.ndarray, ext: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == 'jpg' else []
    ok, buf = cv2.imencode('.' + ext, img_rgb[..., ::-1], params)
    if not ok:
        raise RuntimeError(f'could not encode {path!r}')
    with open(path, 'wb') as f:
        f.write(buf.tobytes())


def generate_synthetic_dataset(out_dir: str,
                               num_train_ids: int = 40,
                               num_test_ids: int = 20,
                               num_cameras: int = 4,
                               images_per_id_per_camera: int = 3,
                               height: int = 128,
                               width: Optional[int] = None,
                               seed: int = 0,
                               layout: str = 'rgbnt201',
                               ext: str = 'jpg',
                               num_junk: int = 0,
                               num_distractors: int = 0) -> dict:
    """Write a synthetic multi-modal Re-ID dataset under ``out_dir``.

    The dataset is written to ``out_dir/<dataset name>`` exactly as the
    dataset class of ``layout`` reads it (folders, file names, identity
    folders, side-by-side tiles: see its ``LAYOUT``). Test samples: where the
    layout's query and gallery folder are one (RGBNT201), every test sample
    is written there; otherwise image 0 of each camera of each test id is a
    query (camera 1's only, when there is one image per id and camera) and
    the rest is gallery, and ``num_junk`` pid -1 and ``num_distractors``
    pid 0 images are added to the gallery. Side-by-side files are
    ``3 * width`` wide; by default ``width`` is the layout's ``tile_width``
    (RGBNT100: 256, the 768 x 128 files its config reads), otherwise read
    them with ``RGBNT100(tile_width=width)``. The views of one capture share
    a scene (scene = image index + 1).

    Train ids are 1..num_train_ids, test ids follow.

    Args:
        out_dir (str): Parent folder; created if needed.
        num_train_ids (int): Training identities. Defaults to 40.
        num_test_ids (int): Test identities. Defaults to 20.
        num_cameras (int): Cameras (each id is seen by all). Defaults to 4.
        images_per_id_per_camera (int): Defaults to 3.
        height (int): Image height. Defaults to 128.
        width (int, optional): Image width of one modality. Defaults to the
            layout's ``tile_width`` for side-by-side layouts (what their
            configs read), else 64.
        seed (int): Seed; same seed → byte-identical files. Defaults to 0.
        layout (str): One of :data:`LAYOUTS`. Defaults to ``'rgbnt201'``.
        ext (str): ``'jpg'`` or ``'png'``. Defaults to ``'jpg'``.
        num_junk (int): pid -1 gallery images (market1501mm only).
        num_distractors (int): pid 0 gallery images (market1501mm only).

    Returns:
        dict: ``root`` (the dataset folder), ``layout``, ``num_files``
        (image files written) and ``samples`` (split folder → samples).
    """
    if layout not in LAYOUTS:
        raise ValueError(f'layout={layout!r} is not one of {sorted(LAYOUTS)}')
    if width is None:
        width = LAYOUTS[layout].LAYOUT.tile_width or 64
    ext = ext.lower().lstrip('.')
    if ext not in ('jpg', 'png'):
        raise ValueError(f'ext={ext!r} must be "jpg" or "png"')
    for name, value, low in (('num_train_ids', num_train_ids, 1),
                             ('num_test_ids', num_test_ids, 1),
                             ('num_cameras', num_cameras, 1),
                             ('images_per_id_per_camera',
                              images_per_id_per_camera, 1),
                             ('height', height, 8), ('width', width, 4),
                             ('num_junk', num_junk, 0),
                             ('num_distractors', num_distractors, 0)):
        if int(value) < low:
            raise ValueError(f'{name} must be >= {low}, got {value!r}')
    if layout != 'market1501mm' and (num_junk or num_distractors):
        raise ValueError('num_junk / num_distractors exist only in the '
                         'market1501mm layout (the one with junk ids)')
    max_pid = num_train_ids + num_test_ids
    spec = LAYOUTS[layout].LAYOUT
    extremes = [(max_pid, num_cameras - 1)] + [(-1, 0)] * bool(num_junk)
    for pid, cam in extremes:
        name = spec.file_name(pid, cam, 0, ext)
        ids = spec.parse_ids(name)
        if ids is not None and not spec.pid_in_names:
            ids['pid'] = pid  # the identity folder gives it
        if ids is None or (ids['pid'], ids['camid']) != (pid, cam):
            raise ValueError(
                f'{spec.dataset_name} file names cannot hold pid {pid} and '
                f'camera {cam + spec.camid_base} ({name!r}); use fewer ids '
                'or cameras')
    root = osp.join(out_dir, spec.dataset_name)
    train_ids = list(range(1, num_train_ids + 1))
    test_ids = list(range(num_train_ids + 1, max_pid + 1))
    n_img = images_per_id_per_camera
    folders = spec.split_folders
    shared_test = folders['query'] == folders['gallery']

    # (split folder, pid, cam, index) of every sample.
    plan: List[Tuple[str, int, int, int]] = []
    for pid in train_ids:
        for cam in range(num_cameras):
            for k in range(n_img):
                plan.append((folders['train'], pid, cam, k))
    for pid in test_ids:
        for cam in range(num_cameras):
            for k in range(n_img):
                if shared_test:
                    is_query = True
                elif n_img >= 2:
                    is_query = k == 0
                else:
                    is_query = cam == 0
                plan.append((folders['query'] if is_query else
                             folders['gallery'], pid, cam, k))
    extra_pid = max_pid + 1  # appearance source of junk / distractors
    for i in range(num_junk):
        plan.append((folders['gallery'], -1, i % num_cameras, i))
    for i in range(num_distractors):
        plan.append((folders['gallery'], 0, i % num_cameras, i))

    counts: Dict[str, int] = {}
    num_files = 0
    for frame, (folder, pid, cam, k) in enumerate(plan):
        # Junk / distractor images look like ids outside the dataset.
        look = pid if pid > 0 else extra_pid + (1000 if pid < 0 else 0) + k
        imgs = render_sample(seed, look, cam, k, height, width)
        counts[folder] = counts.get(folder, 0) + 1
        # The views of one capture share a scene (layouts with scenes).
        name = spec.file_name(pid, cam, k, ext, scene=k + 1, frame=frame)
        split_dir = osp.join(root, folder)
        if spec.tile_width is not None:
            tiles = np.concatenate([imgs[m] for m in spec.modalities], axis=1)
            _write(osp.join(split_dir, name), tiles, ext)
            num_files += 1
            continue
        if spec.id_folder_format is not None:
            split_dir = osp.join(split_dir,
                                 spec.id_folder_format.format(pid=pid))
        for m, sub in spec.modality_folders.items():
            _write(osp.join(split_dir, sub, name), imgs[m], ext)
            num_files += 1
    return dict(root=root, layout=layout, num_files=num_files,
                samples=counts)
