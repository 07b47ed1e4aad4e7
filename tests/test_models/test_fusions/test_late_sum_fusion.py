# Copyright (c) mmieee contributors.
"""LateSumFusion: the M maps added into one."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.fusions import LateSumFusion


def test_maps_valued_1_2_3_sum_to_6():
    fusion = LateSumFusion(num_modalities=3, in_channels=4)
    maps = [torch.full((2, 4, 3, 2), v) for v in (1.0, 2.0, 3.0)]
    (out, ) = fusion(maps)
    assert fusion.num_branches == 1
    assert torch.equal(out, torch.full((2, 4, 3, 2), 6.0))
    assert not list(fusion.parameters())


def test_sum_of_random_maps():
    maps = [torch.randn(2, 4, 3, 2) for _ in range(2)]
    (out, ) = LateSumFusion(num_modalities=2, in_channels=4)(maps)
    torch.testing.assert_close(out, maps[0] + maps[1])


def test_errors():
    with pytest.raises(ValueError, match='num_modalities >= 2'):
        LateSumFusion(num_modalities=1)
