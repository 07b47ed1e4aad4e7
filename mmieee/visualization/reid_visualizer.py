# Copyright (c) mmieee contributors.
"""``ReIDVisualizer``: mmengine's :class:`~mmengine.visualization.Visualizer`
with the pictures a multi-modal Re-ID user debugs a model with.

* :meth:`ReIDVisualizer.draw_rank_list`: one query and its top-k gallery
  samples, one row per modality (query column first, then rank 1..k), a
  green / red / grey frame for a correct / wrong / unknown match and the
  distance under each item (fast-reid's and torchreid's rank lists, for M
  modalities).
* :meth:`ReIDVisualizer.draw_activation_maps`: each modality image next to
  heat maps of where its stream looks (rows = modalities).
* :meth:`ReIDVisualizer.draw_image_grid`: the labelled grid of image cells
  the two above (and ``tools/visualization/browse_dataset.py``) are made of.

Every ``draw_*`` method returns the drawn canvas, (H', W', 3) uint8 RGB, and
leaves it as the visualizer's image, so that ``get_image``, ``show`` and
``add_image`` (to the configured vis backends) work the mmengine way.

Why the grid is composed with NumPy: mmengine draws texts and shapes on one
image but has no layout of many images; the cells, gaps and frames are
plain array slices (pixel-exact colours, which the tests check), and the
texts go through mmengine's ``draw_texts``.
"""
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.visualization import Visualizer
from mmengine.visualization.utils import convert_overlay_heatmap

from mmieee.registry import VISUALIZERS

Color = Tuple[int, int, int]

#: Widest (and, inverted, tallest) cell a grid gives an image: vehicles are
#: about 2:1, persons 1:2; a 20 x 3000 image would otherwise make a canvas
#: of 128 x 19 200 pixels per cell.
MAX_CELL_ASPECT = 4.0


@VISUALIZERS.register_module()
class ReIDVisualizer(Visualizer):
    """Visualizer of multi-modal Re-ID results.

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        image (np.ndarray, optional): Initial image. Defaults to None.
        vis_backends (list[dict], optional): mmengine vis backends
            (``LocalVisBackend``, ``TensorboardVisBackend``,
            ``WandbVisBackend``). Defaults to None.
        save_dir (str, optional): Root of the backends' files.
        cell_height (int): Height in pixels of one image cell; the width
            follows the first image's aspect ratio. Defaults to 128.
        frame_width (int): Thickness of the coloured frames. Defaults to 4.
        font_size (int): Text size in points. Defaults to 10.
        **kwargs: Passed to :class:`mmengine.visualization.Visualizer`.
    """

    #: Frame of a gallery item with the query's identity.
    MATCH_COLOR: Color = (0, 190, 0)
    #: Frame of a gallery item with another identity.
    MISMATCH_COLOR: Color = (225, 0, 0)
    #: Frame of a gallery item whose identity is unknown.
    UNKNOWN_COLOR: Color = (150, 150, 150)
    #: Frame of the query.
    QUERY_COLOR: Color = (30, 100, 235)
    BACKGROUND: Color = (255, 255, 255)
    TEXT_COLOR: Color = (0, 0, 0)

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 cell_height: int = 128,
                 frame_width: int = 4,
                 font_size: int = 10,
                 **kwargs) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            **kwargs)
        if int(cell_height) < 8:
            raise ValueError(
                f'ReIDVisualizer: cell_height must be >= 8, got {cell_height}')
        if int(frame_width) < 1:
            raise ValueError('ReIDVisualizer: frame_width must be >= 1, got '
                             f'{frame_width}')
        self.cell_height = int(cell_height)
        self.frame_width = int(frame_width)
        self.font_size = int(font_size)

    # ------------------------------------------------------------------
    # The grid every picture is made of.
    # ------------------------------------------------------------------
    @staticmethod
    def _as_rgb(img: np.ndarray, where: str) -> np.ndarray:
        """(H, W) / (H, W, 1) / (H, W, 3) array -> (H, W, 3) uint8."""
        if isinstance(img, torch.Tensor):
            img = img.detach().cpu().numpy()
        img = np.asarray(img)
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3) or img.size == 0:
            raise ValueError(f'ReIDVisualizer: {where} must be an (H, W, 3) '
                             f'RGB image, got shape {img.shape}')
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        if img.dtype != np.uint8:
            img = np.clip(img, 0, 255).astype(np.uint8)
        return img

    def _line_height(self) -> int:
        """Pixels of one text line (points -> pixels at the figure dpi)."""
        return int(np.ceil(self.font_size * self.dpi / 72 * 1.45))

    def _text_width(self, text: str) -> int:
        """Generous width estimate of ``text`` (longest line), in pixels."""
        longest = max((len(s) for s in text.split('\n')), default=0)
        return int(np.ceil(longest * self.font_size * self.dpi / 72 * 0.58))

    def draw_image_grid(self,
                        cells: Sequence[Sequence[np.ndarray]],
                        row_labels: Optional[Sequence[str]] = None,
                        column_labels: Optional[Sequence[str]] = None,
                        frame_colors: Optional[Sequence[
                            Optional[Color]]] = None,
                        captions: Optional[Sequence[str]] = None,
                        title: str = '',
                        separate_after: Sequence[int] = (),
                        cell_size: Optional[Tuple[int, int]] = None
                        ) -> np.ndarray:
        """Draw a grid of images, ``cells[row][column]``.

        Layout, top to bottom: the title, the column labels, the rows (each
        labelled on the left), the captions under each column. Each column
        is one block: its frame (when it has a colour) surrounds every cell
        of the column and runs between the rows.

        Args:
            cells (Sequence[Sequence[np.ndarray]]): R rows of C images, each
                (H, W, 3) uint8 RGB (or (H, W) grey); resized to the cell
                size.
            row_labels (Sequence[str], optional): R labels.
            column_labels (Sequence[str], optional): C labels.
            frame_colors (Sequence[tuple | None], optional): C RGB colours
                of the column frames; None: no frame.
            captions (Sequence[str], optional): C texts under the columns
                (may hold newlines).
            title (str): Text at the top (may hold newlines).
            separate_after (Sequence[int]): Columns followed by a wider gap
                (e.g. 0: the query column of a rank list).
            cell_size (tuple[int, int], optional): (h, w) of a cell; default
                ``cell_height`` and the first image's aspect ratio, kept
                within 1 / :data:`MAX_CELL_ASPECT` and
                :data:`MAX_CELL_ASPECT` (wider or taller images are
                squeezed into that cell).

        Returns:
            np.ndarray: The canvas, (H', W', 3) uint8 RGB, also set as the
            visualizer's image.
        """
        if len(cells) == 0 or any(len(r) != len(cells[0]) for r in cells) \
                or len(cells[0]) == 0:
            raise ValueError('ReIDVisualizer.draw_image_grid: cells must be '
                             'a non-empty list of rows of equal length, got '
                             f'row lengths {[len(r) for r in cells]}')
        num_rows, num_cols = len(cells), len(cells[0])
        for name, seq, n in (('row_labels', row_labels, num_rows),
                             ('column_labels', column_labels, num_cols),
                             ('frame_colors', frame_colors, num_cols),
                             ('captions', captions, num_cols)):
            if seq is not None and len(seq) != n:
                raise ValueError(f'ReIDVisualizer.draw_image_grid: {name} '
                                 f'has {len(seq)} entries for {n}')
        images = [[
            self._as_rgb(img, f'cell (row {r}, column {c})')
            for c, img in enumerate(row)
        ] for r, row in enumerate(cells)]
        if cell_size is None:
            h0, w0 = images[0][0].shape[:2]
            # a 20 x 3000 image must not make a 96 000-pixel-wide canvas
            aspect = min(max(w0 / h0, 1 / MAX_CELL_ASPECT), MAX_CELL_ASPECT)
            cell_size = (self.cell_height,
                         max(1, int(round(self.cell_height * aspect))))
        ch, cw = (int(v) for v in cell_size)
        f = self.frame_width
        gap = max(6, cw // 8)
        line = self._line_height()

        def lines(text: Optional[str]) -> int:
            return 0 if not text else text.count('\n') + 1

        left = gap + (max(self._text_width(t) for t in row_labels) + gap
                      if row_labels else 0)
        title_h = lines(title) * line + (gap if title else 0)
        header_h = max(lines(t) for t in column_labels) * line \
            if column_labels else 0
        caption_h = max(lines(t) for t in captions) * line + gap // 2 \
            if captions else 0
        block_w, block_h = cw + 2 * f, num_rows * ch + (num_rows + 1) * f
        # Each column gets the width of its block or of its longest text.
        xs, x = [], left
        for c in range(num_cols):
            texts_c = [t for t in (column_labels[c] if column_labels else '',
                                   captions[c] if captions else '') if t]
            slot = max([block_w] + [self._text_width(t) for t in texts_c])
            xs.append(x + (slot - block_w) // 2)
            x += slot + gap * (3 if c in separate_after else 1)
        width = x
        # Titles longer than the grid widen the canvas.
        if title:
            width = max(width, self._text_width(title) + 2 * gap)
        top = gap // 2 + title_h + header_h
        height = top + block_h + caption_h + gap

        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:] = self.BACKGROUND
        for c in range(num_cols):
            x0 = xs[c]
            color = frame_colors[c] if frame_colors is not None else None
            if color is not None:
                canvas[top:top + block_h, x0:x0 + block_w] = color
            for r in range(num_rows):
                y = top + f + r * (ch + f)
                canvas[y:y + ch, x0 + f:x0 + f + cw] = mmcv.imresize(
                    images[r][c], (cw, ch), interpolation='bilinear')
        self.set_image(canvas)

        texts, positions, aligns, valigns = [], [], [], []

        def put(text, x, y, ha='center', va='top'):
            texts.append(text)
            positions.append((x, y))
            aligns.append(ha)
            valigns.append(va)

        if title:
            put(title, width / 2, gap // 2)
        for c in range(num_cols):
            cx = xs[c] + block_w / 2
            if column_labels and column_labels[c]:
                put(column_labels[c], cx, top - 1, va='bottom')
            if captions and captions[c]:
                put(captions[c], cx, top + block_h + 2)
        if row_labels:
            for r, label in enumerate(row_labels):
                y = top + f + r * (ch + f) + ch / 2
                put(label, left - gap, y, ha='right', va='center')
        if texts:
            self.draw_texts(
                texts,
                np.asarray(positions, dtype=np.float64),
                font_sizes=self.font_size,
                colors=[self.TEXT_COLOR] * len(texts),
                horizontal_alignments=aligns,
                vertical_alignments=valigns)
        return self.get_image()

    # ------------------------------------------------------------------
    # Rank list.
    # ------------------------------------------------------------------
    def draw_rank_list(self,
                       query_images: Sequence[np.ndarray],
                       gallery_images: Sequence[Sequence[np.ndarray]],
                       distances: Sequence[float],
                       matches: Optional[Sequence[Optional[bool]]] = None,
                       modalities: Sequence[str] = ('RGB', 'NI', 'TI'),
                       title: str = '',
                       query_caption: str = '',
                       gallery_captions: Optional[Sequence[str]] = None
                       ) -> np.ndarray:
        """Draw one query and its ranked gallery items.

        One row per modality; column 1 is the query (blue frame), columns
        2..k+1 the gallery items at ranks 1..k with a frame that is green
        for a match (``True``), red for a wrong identity (``False``) and grey
        when the identity is unknown (``None``), and the distance under each
        item. Pass the items the evaluation protocol keeps (e.g. from
        :func:`mmieee.visualization.rank_rows`), in rank order.

        Args:
            query_images (Sequence[np.ndarray]): M images (H, W, 3) uint8 RGB
                in the model's modality order.
            gallery_images (Sequence[Sequence[np.ndarray]]): k items, each M
                images.
            distances (Sequence[float]): k distances to the query.
            matches (Sequence[bool | None], optional): k flags; None: all
                unknown.
            modalities (Sequence[str]): The M modality names (row labels).
            title (str): Text above the grid, e.g. the query's AP and
                pid / camera.
            query_caption (str): Text under the query column.
            gallery_captions (Sequence[str], optional): k texts added under
                the distances (e.g. each item's pid / camera).

        Returns:
            np.ndarray: The canvas, (H', W', 3) uint8 RGB, also set as the
            visualizer's image.
        """
        num_mod = len(modalities)
        if len(query_images) != num_mod:
            raise ValueError(
                f'ReIDVisualizer.draw_rank_list: {len(query_images)} query '
                f'images for {num_mod} modalities {tuple(modalities)}')
        k = len(gallery_images)
        for i, item in enumerate(gallery_images):
            if len(item) != num_mod:
                raise ValueError(
                    f'ReIDVisualizer.draw_rank_list: gallery item {i} (rank '
                    f'{i + 1}) has {len(item)} images for {num_mod} '
                    f'modalities {tuple(modalities)}')
        if len(distances) != k:
            raise ValueError(
                f'ReIDVisualizer.draw_rank_list: {len(distances)} distances '
                f'for {k} gallery items')
        if matches is None:
            matches = [None] * k
        if len(matches) != k:
            raise ValueError(f'ReIDVisualizer.draw_rank_list: {len(matches)} '
                             f'matches for {k} gallery items')
        if gallery_captions is not None and len(gallery_captions) != k:
            raise ValueError(
                f'ReIDVisualizer.draw_rank_list: {len(gallery_captions)} '
                f'gallery_captions for {k} gallery items')
        colors = [self.QUERY_COLOR]
        for i, match in enumerate(matches):
            if match is None:
                colors.append(self.UNKNOWN_COLOR)
            elif isinstance(match, (bool, np.bool_)):
                colors.append(
                    self.MATCH_COLOR if match else self.MISMATCH_COLOR)
            else:
                raise TypeError(
                    'ReIDVisualizer.draw_rank_list: matches must hold '
                    f'True, False or None; got {match!r} at rank {i + 1}')
        captions = [query_caption]
        for i, d in enumerate(distances):
            text = 'd = n/a' if d is None or not np.isfinite(d) \
                else f'd = {float(d):.4g}'
            if gallery_captions is not None and gallery_captions[i]:
                text += '\n' + gallery_captions[i]
            captions.append(text)
        cells = [[query_images[m]] + [item[m] for item in gallery_images]
                 for m in range(num_mod)]
        return self.draw_image_grid(
            cells,
            row_labels=list(modalities),
            column_labels=['query'] + [f'#{i + 1}' for i in range(k)],
            frame_colors=colors,
            captions=captions,
            title=title,
            separate_after=(0, ))

    # ------------------------------------------------------------------
    # Activation maps.
    # ------------------------------------------------------------------
    def draw_activation_maps(self,
                             images: Sequence[np.ndarray],
                             maps: Sequence[Tuple[str, Sequence]],
                             modalities: Sequence[str] = ('RGB', 'NI', 'TI'),
                             title: str = '',
                             alpha: float = 0.5) -> np.ndarray:
        """Draw each modality image and its heat maps, one row per modality.

        Each map is resized (bilinear) to its image and overlaid with
        mmengine's :meth:`~mmengine.visualization.Visualizer.draw_featmap`
        (min-max normalised per map, JET colours); a last column is the
        colour scale (the map's maximum at the top, its minimum at the
        bottom).

        Args:
            images (Sequence[np.ndarray]): M images (H, W, 3) uint8 RGB.
            maps (Sequence[tuple[str, Sequence]]): Columns of heat maps:
                ``(name, M maps of shape (h, w))``, e.g.
                ``[('activation', maps)]``.
            modalities (Sequence[str]): The M modality names.
            title (str): Text above the grid.
            alpha (float): Weight of the heat map in the overlay.

        Returns:
            np.ndarray: The canvas, (H', W', 3) uint8 RGB.
        """
        num_mod = len(modalities)
        if len(images) != num_mod:
            raise ValueError(
                f'ReIDVisualizer.draw_activation_maps: {len(images)} images '
                f'for {num_mod} modalities {tuple(modalities)}')
        rows = []
        for m in range(num_mod):
            img = self._as_rgb(images[m], f'image of modality {m}')
            row = [img]
            for name, per_mod in maps:
                if len(per_mod) != num_mod:
                    raise ValueError(
                        f'ReIDVisualizer.draw_activation_maps: {name!r} has '
                        f'{len(per_mod)} maps for {num_mod} modalities')
                heat = torch.as_tensor(np.asarray(per_mod[m]),
                                       dtype=torch.float32)
                if heat.dim() != 2:
                    raise ValueError(
                        f'ReIDVisualizer.draw_activation_maps: {name!r} map '
                        f'of modality {m} must be (h, w), got '
                        f'{tuple(heat.shape)}')
                heat = F.interpolate(
                    heat[None, None],
                    img.shape[:2],
                    mode='bilinear',
                    align_corners=False)[0]
                row.append(
                    self.draw_featmap(
                        heat,
                        overlaid_image=img,
                        channel_reduction=None,
                        topk=0,
                        alpha=alpha))
            row.append(self.colour_scale(img.shape[0]))
            rows.append(row)
        num_cols = len(rows[0])
        return self.draw_image_grid(
            rows,
            row_labels=list(modalities),
            column_labels=['image'] + [name for name, _ in maps] + ['scale'],
            captions=[''] * (num_cols - 1) + ['top: max\nbottom: min\n'
                                              '(each map)'],
            title=title)

    @staticmethod
    def colour_scale(height: int, width: int = 8) -> np.ndarray:
        """The heat maps' colour scale as an image: the JET colours of
        mmengine's ``convert_overlay_heatmap`` from 1 (top) to 0 (bottom).

        Returns:
            np.ndarray: (height, width, 3) uint8 RGB.
        """
        values = np.linspace(1.0, 0.0, max(int(height), 2), dtype=np.float32)
        bar = convert_overlay_heatmap(np.repeat(values[:, None], width, 1))
        return np.ascontiguousarray(bar)
