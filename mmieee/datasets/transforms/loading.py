# Copyright (c) mmieee contributors.
"""Loading of the M aligned images of one multi-modal sample.

Every ``data_info`` carries ``img_path`` = one path per modality, in the
order of ``metainfo['modalities']``. RGBNT100 stores the three modalities of a
sample side by side in one file (RGB | NI | TI at x 0–256 / 256–512 /
512–768); its dataset adds ``modality_slices`` = one ``(x0, x1)`` per
modality and the file is read once and cut along x.

Channel order: images are returned in **RGB** order by default
(``channel_order='rgb'``), so ``MultiModalDataPreprocessor(to_rgb=False)`` and
RGB-ordered ImageNet mean/std are consistent. Loading in OpenMMLab's usual BGR
order (``channel_order='bgr'``) needs ``to_rgb=True`` in the preprocessor.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from mmieee.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadMultiModalImages(BaseTransform):
    """Load the M modality images of one sample.

    Required keys:

    - img_path (list[str] | str): one path per modality; a single path (or M
      equal paths) when ``modality_slices`` is given.
    - modality_slices (list[tuple[int, int]], optional): ``(x0, x1)`` column
      range of each modality inside the one shared file (RGBNT100).
    - img_width (int, optional): The width that shared file must have; a
      file of another width is an error (its tiles would be cut at the
      wrong places).

    Added keys:

    - img (list[np.ndarray]): M arrays of shape (H, W, C) (uint8 unless
      ``to_float32``), one per modality, in ``img_path`` order.
    - img_shape (tuple[int, int]): (H, W) of the first modality.
    - ori_shape (tuple[int, int]): (H, W) of the first modality.

    Args:
        to_float32 (bool): Convert the images to float32. Defaults to False
            (the data preprocessor converts on the device).
        color_type (str): ``flag`` of :func:`mmcv.imfrombytes`. ``'color'``
            (default) decodes 1-channel NI/TI files to 3 channels too.
        channel_order (str): ``'rgb'`` (default) or ``'bgr'``. See the module
            docstring for the matching preprocessor setting.
        imdecode_backend (str): Decoding backend of :func:`mmcv.imfrombytes`.
            Defaults to ``'cv2'``.
        backend_args (dict, optional): Arguments of the
            :mod:`mmengine.fileio` backend (e.g. for remote storage).
            Defaults to None (local files).

    Raises:
        FileNotFoundError: A file does not exist.
        ValueError: A file cannot be decoded as an image, or a
            ``modality_slices`` entry does not fit in the image.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 channel_order: str = 'rgb',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError("channel_order must be 'rgb' or 'bgr', got "
                             f'{channel_order!r}')
        self.to_float32 = to_float32
        self.color_type = color_type
        self.channel_order = channel_order
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def _read(self, filename: str) -> np.ndarray:
        """Read and decode one file; raise an error naming it on failure."""
        try:
            img_bytes = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'LoadMultiModalImages: image file not found: {filename}'
            ) from e
        except Exception as e:  # any backend error: name the file
            raise OSError(f'LoadMultiModalImages: cannot read {filename}: '
                          f'{type(e).__name__}: {e}') from e
        img = None
        try:
            img = mmcv.imfrombytes(
                img_bytes,
                flag=self.color_type,
                channel_order=self.channel_order,
                backend=self.imdecode_backend)
            error = ''
        except Exception as e:  # some backends raise instead of None
            error = f': {type(e).__name__}: {e}'
        # cv2 returns None for bytes it cannot decode; never hand on a black
        # or empty image in its place.
        if img is None or img.size == 0:
            raise ValueError(
                f'LoadMultiModalImages: {filename} is not a readable image '
                f'(corrupt or unsupported, {len(img_bytes)} bytes){error}')
        if self.to_float32:
            img = img.astype(np.float32)
        return img

    @staticmethod
    def _check_slices(slices: Sequence, width: int,
                      filename: str) -> List[Tuple[int, int]]:
        checked = []
        for i, s in enumerate(slices):
            if len(s) != 2:
                raise ValueError(
                    'LoadMultiModalImages: modality_slices entries must be '
                    f'(x0, x1) pairs, got {s!r} at index {i} for {filename}')
            x0, x1 = int(s[0]), int(s[1])
            if not 0 <= x0 < x1 <= width:
                raise ValueError(
                    f'LoadMultiModalImages: modality slice {i} = ({x0}, {x1}) '
                    f'does not fit in {filename}, whose width is {width}')
            checked.append((x0, x1))
        return checked

    def transform(self, results: Dict) -> Dict:
        """Load the images of ``results['img_path']``.

        Args:
            results (dict): One ``data_info`` of a multi-modal dataset.

        Returns:
            dict: ``results`` with ``img`` (list of M (H, W, C) arrays),
            ``img_shape`` and ``ori_shape`` added.
        """
        if 'img_path' not in results:
            raise KeyError('LoadMultiModalImages needs the key "img_path" '
                           f'(got keys {sorted(results)})')
        paths: Union[str, Sequence[str]] = results['img_path']
        slices = results.get('modality_slices')
        if slices is not None:
            # One file holds all modalities side by side (RGBNT100).
            if isinstance(paths, str):
                paths = [paths] * len(slices)
            if len(paths) != len(slices):
                raise ValueError(
                    f'LoadMultiModalImages: {len(paths)} img_path entries but '
                    f'{len(slices)} modality_slices for {paths[0]}')
            cache: Dict[str, np.ndarray] = {}
            imgs = []
            width = results.get('img_width')
            for path, s in zip(paths, slices):
                if path not in cache:  # each file is read once
                    cache[path] = self._read(path)
                    if width is not None and cache[path].shape[1] != width:
                        raise ValueError(
                            f'LoadMultiModalImages: {path} is '
                            f'{cache[path].shape[1]} pixels wide, but it '
                            f'must hold its modalities side by side in '
                            f'exactly {width} pixels ({len(slices)} of '
                            f'them selected, tiles of {s[1] - s[0]}); cutting'
                            ' it would give the wrong tiles')
                full = cache[path]
                (x0, x1), = self._check_slices([s], full.shape[1], path)
                # copy: in-place transforms (RandomErasing) must not write
                # through a view into a neighbouring modality.
                imgs.append(full[:, x0:x1].copy())
        else:
            if isinstance(paths, str):
                paths = [paths]
            if len(paths) == 0:
                raise ValueError('LoadMultiModalImages: empty img_path')
            imgs = [self._read(path) for path in paths]

        results['img'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"color_type='{self.color_type}', "
                f"channel_order='{self.channel_order}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
