# Copyright (c) mmieee contributors.
import pytest
import torch
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401  (environment shims first)
from mmieee.models.data_preprocessors import MultiModalDataPreprocessor
from mmieee.registry import MODELS

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def _batch(b=2, m=3, c=3, h=4, w=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (b, m, c, h, w), generator=g,
                           dtype=torch.uint8)
    samples = [DataSample().set_gt_label(i) for i in range(b)]
    return dict(inputs=inputs, data_samples=samples)


def _hand(x, mean_rows, std_rows):
    """Element by element: out[b, m, c, y, x] = (x - mean[m][c]) / std[m][c].

    A row list of length 1 is shared by every modality.
    """
    b, m, c, h, w = x.shape
    out = torch.empty(b, m, c, h, w, dtype=torch.float32)
    for bi in range(b):
        for mi in range(m):
            mean = mean_rows[mi if len(mean_rows) > 1 else 0]
            std = std_rows[mi if len(std_rows) > 1 else 0]
            for ci in range(c):
                for yi in range(h):
                    for xi in range(w):
                        v = float(x[bi, mi, ci, yi, xi])
                        out[bi, mi, ci, yi, xi] = (v - mean[ci]) / std[ci]
    return out


def test_shared_mean_std_against_hand_computation():
    pre = MultiModalDataPreprocessor(mean=IMAGENET_MEAN, std=IMAGENET_STD)
    data = _batch()
    out = pre(data)
    assert out['inputs'].dtype == torch.float32
    assert out['inputs'].shape == (2, 3, 3, 4, 2)
    expected = _hand(data['inputs'], [IMAGENET_MEAN], [IMAGENET_STD])
    torch.testing.assert_close(out['inputs'], expected)
    assert out['data_samples'] is not None
    assert [d.gt_label.item() for d in out['data_samples']] == [0, 1]


def test_per_modality_mean_std_against_hand_computation():
    mean = [[10., 20., 30.], [1., 2., 3.], [100., 50., 0.]]
    std = [[2., 4., 8.], [1., 1., 1.], [0.5, 10., 3.]]
    pre = MultiModalDataPreprocessor(mean=mean, std=std)
    data = _batch()
    out = pre(data)
    torch.testing.assert_close(out['inputs'],
                               _hand(data['inputs'], mean, std))
    # one pixel fully by hand: modality 2, channel 1
    v = float(data['inputs'][1, 2, 1, 3, 0])
    assert out['inputs'][1, 2, 1, 3, 0].item() == pytest.approx(
        (v - 50.) / 10.)
    # per-modality mean with a shared std
    pre = MultiModalDataPreprocessor(mean=mean, std=IMAGENET_STD)
    torch.testing.assert_close(
        pre(data)['inputs'], _hand(data['inputs'], mean, [IMAGENET_STD]))


def test_to_rgb_flips_channels_before_normalising():
    mean = [[10., 20., 30.], [1., 2., 3.]]
    std = [[2., 4., 8.], [1., 1., 1.]]
    data = _batch(m=2)
    out = MultiModalDataPreprocessor(mean=mean, std=std, to_rgb=True)(data)
    flipped = data['inputs'].flip(2)
    torch.testing.assert_close(out['inputs'], _hand(flipped, mean, std))


def test_no_normalisation_only_float():
    data = _batch()
    out = MultiModalDataPreprocessor()(data)
    assert out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'], data['inputs'].float())


def test_list_input_and_two_modalities():
    data = _batch(m=2)
    as_list = dict(inputs=list(data['inputs']), data_samples=None)
    pre = MultiModalDataPreprocessor(mean=IMAGENET_MEAN, std=IMAGENET_STD)
    out = pre(as_list)
    torch.testing.assert_close(out['inputs'], pre(data)['inputs'])
    assert out['data_samples'] is None


def test_output_on_model_device_and_built_from_registry():
    pre = MODELS.build(
        dict(type='MultiModalDataPreprocessor', mean=IMAGENET_MEAN,
             std=IMAGENET_STD))
    assert isinstance(pre, MultiModalDataPreprocessor)
    pre.to('cpu')
    out = pre(_batch())
    assert out['inputs'].device == pre.device == torch.device('cpu')
    # buffers are not persistent: configs own mean/std, not checkpoints
    assert 'mean' not in pre.state_dict()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_moves_to_cuda():
    pre = MultiModalDataPreprocessor(
        mean=IMAGENET_MEAN, std=IMAGENET_STD).cuda()
    out = pre(_batch())
    assert out['inputs'].is_cuda
    assert out['data_samples'][0].gt_label.is_cuda


def test_bad_mean_std():
    with pytest.raises(ValueError, match=r'mean=\[1\.0, \[2\.0\]\]'):
        MultiModalDataPreprocessor(mean=[1.0, [2.0]], std=[1.0, 1.0])
    with pytest.raises(ValueError, match='same number C.*mean='):
        MultiModalDataPreprocessor(
            mean=[[1., 2., 3.], [1., 2.]], std=IMAGENET_STD)
    with pytest.raises(ValueError, match='different channel counts'):
        MultiModalDataPreprocessor(mean=[1., 2.], std=IMAGENET_STD)
    with pytest.raises(ValueError, match='different numbers of modalities'):
        MultiModalDataPreprocessor(
            mean=[IMAGENET_MEAN] * 3, std=[IMAGENET_STD] * 2)
    with pytest.raises(ValueError, match='together'):
        MultiModalDataPreprocessor(mean=IMAGENET_MEAN)
    with pytest.raises(ValueError, match='positive'):
        MultiModalDataPreprocessor(mean=IMAGENET_MEAN, std=[1., 0., 1.])
    with pytest.raises(ValueError, match='std=5'):
        MultiModalDataPreprocessor(mean=IMAGENET_MEAN, std=5)


def test_input_shape_errors():
    pre = MultiModalDataPreprocessor(
        mean=[IMAGENET_MEAN] * 3, std=[IMAGENET_STD] * 3)
    with pytest.raises(ValueError, match=r'\(B, M, C, H, W\).*\(3, 3, 4, 2\)'):
        pre(dict(inputs=torch.zeros(3, 3, 4, 2, dtype=torch.uint8)))
    with pytest.raises(ValueError, match='3 modalities.*M=2'):
        pre(_batch(m=2))
    with pytest.raises(ValueError, match='3 channels.*C=1'):
        pre(_batch(c=1))
    with pytest.raises(ValueError, match='to_rgb=True needs C=3'):
        MultiModalDataPreprocessor(to_rgb=True)(_batch(c=1))
    with pytest.raises(ValueError, match=r'\(M, C, H, W\) of one shape'):
        pre(dict(inputs=[torch.zeros(3, 3, 4, 2), torch.zeros(3, 3, 5, 2)]))
    with pytest.raises(TypeError, match='"inputs"'):
        pre(torch.zeros(1, 3, 3, 4, 2))
