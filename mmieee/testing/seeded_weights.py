# Copyright (c) mmieee contributors.
"""Weights generated from a seed per key: how the equality tests rebuild an
official model's state dict without shipping it.

An equality test against an official implementation stores only the
official keys and shapes (small data) and the outputs the official code gave
for a state dict made by :func:`seeded_state_dict`; the test regenerates the
same state dict, converts it with mmieee's converter and compares mmieee's
outputs. Every tensor depends only on its key and shape (the seed is the
CRC-32 of the key), so the official script and the test agree whatever
order or subset of keys they generate.

The rule, by key suffix and shape (chosen so that a 12-layer transformer
keeps activations of order 1 and every BatchNorm is well conditioned):

* ``num_batches_tracked``: 0 (int64);
* ``running_var``: uniform in [0.5, 1.5);
* ``running_mean``: normal, std 0.1;
* any other 1-D ``weight`` (norm layers): 1 + normal, std 0.1;
* everything else (biases, matrices, tokens, embeddings): normal, std 0.02.
"""
import zlib
from typing import Dict, Iterable, Mapping, Sequence, Tuple

import torch

KeyShapes = Iterable[Tuple[str, Sequence[int]]]


def seeded_tensor(key: str, shape: Sequence[int]) -> torch.Tensor:
    """The tensor of ``key`` (rule in the module docstring).

    Args:
        key (str): State-dict key; its CRC-32 seeds the generator.
        shape (Sequence[int]): Shape of the tensor.

    Returns:
        Tensor: float32 (int64 for ``num_batches_tracked``).
    """
    shape = tuple(int(s) for s in shape)
    if key.endswith('num_batches_tracked'):
        return torch.zeros(shape, dtype=torch.long)
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
    if key.endswith('running_var'):
        return torch.rand(shape, generator=gen) + 0.5
    if key.endswith('running_mean'):
        return torch.randn(shape, generator=gen) * 0.1
    if key.endswith('weight') and len(shape) == 1:
        return 1 + torch.randn(shape, generator=gen) * 0.1
    return torch.randn(shape, generator=gen) * 0.02


def seeded_state_dict(key_shapes: KeyShapes) -> Dict[str, torch.Tensor]:
    """A state dict of :func:`seeded_tensor` values.

    Args:
        key_shapes (Iterable[tuple[str, Sequence[int]]]): ``(key, shape)``
            pairs, e.g. the items of a stored key list.

    Returns:
        dict[str, Tensor]: In the given order.
    """
    if isinstance(key_shapes, Mapping):
        key_shapes = key_shapes.items()
    return {key: seeded_tensor(key, shape) for key, shape in key_shapes}


#: Values kept per row by :func:`summarize`.
NUM_PICKS = 32


def summarize(values: torch.Tensor) -> Dict[str, list]:
    """A small, strong fingerprint of a (B, D) output for a stored fixture.

    Per row: the values at ``NUM_PICKS`` positions drawn with seed 0, the sum,
    the L2 norm and the dot product with a standard normal vector drawn with
    seed 1 (a random projection catches a change anywhere in the row).

    Args:
        values (Tensor): (B, D) or (D,) (a scalar loss: shape ()).

    Returns:
        dict: ``shape`` and the lists ``picks`` (B x NUM_PICKS), ``sums``,
        ``norms``, ``projections`` (B each); for a scalar, ``value``.
    """
    values = values.detach().double().cpu()
    if values.dim() == 0:
        return dict(shape=[], value=float(values))
    rows = values.reshape(-1, values.shape[-1])
    dim = rows.shape[1]
    gen = torch.Generator().manual_seed(0)
    picks = torch.randint(0, dim, (NUM_PICKS, ), generator=gen)
    gen = torch.Generator().manual_seed(1)
    direction = torch.randn(dim, generator=gen, dtype=torch.float64)
    return dict(
        shape=list(values.shape),
        picks=rows[:, picks].tolist(),
        sums=rows.sum(1).tolist(),
        norms=rows.norm(dim=1).tolist(),
        projections=(rows @ direction).tolist())


def relative_difference(ours: Dict[str, list], ref: Dict[str, list]) -> float:
    """Largest relative difference between two :func:`summarize` outputs.

    Each field is compared as ``max |ours - ref| / max |ref|`` over the
    field (so a value near zero is measured against the field's scale).

    Raises:
        ValueError: The shapes differ.
    """
    if list(ours['shape']) != list(ref['shape']):
        raise ValueError(f'shape {ours["shape"]} differs from the '
                         f'reference {ref["shape"]}')
    worst = 0.0
    for field in ('value', 'picks', 'sums', 'norms', 'projections'):
        if field not in ref:
            continue
        a = torch.as_tensor(ours[field], dtype=torch.float64)
        b = torch.as_tensor(ref[field], dtype=torch.float64)
        scale = b.abs().max().clamp(min=1e-12)
        worst = max(worst, float((a - b).abs().max() / scale))
    return worst
