# Copyright (c) mmieee contributors.
from collections import Counter

import pytest
from mmengine.dataset import BaseDataset
from torch.utils.data import DataLoader

import mmieee  # noqa: F401  (environment shims first)
from mmieee.datasets.samplers import IdentityBalancedSampler
from mmieee.registry import DATA_SAMPLERS


class FakeDataset:
    """The smallest thing the sampler reads: data_list + get_data_info."""

    def __init__(self, counts):
        # counts[label] = number of images of that identity; labels are
        # interleaved so that grouping by position would be wrong.
        self.data_list = []
        remaining = dict(enumerate(counts))
        while remaining:
            for label in list(remaining):
                self.data_list.append(dict(gt_label=label, pid=100 + label))
                remaining[label] -= 1
                if remaining[label] == 0:
                    del remaining[label]

    def __len__(self):
        return len(self.data_list)

    def get_data_info(self, idx):
        return dict(self.data_list[idx])

    def __getitem__(self, idx):
        return idx


class LazyDataset(BaseDataset):
    """mmengine BaseDataset, lazily initialised and serialised."""

    def __init__(self, labels, **kwargs):
        self._labels = labels
        super().__init__(lazy_init=True, serialize_data=True, **kwargs)

    def load_data_list(self):
        return [dict(gt_label=lb) for lb in self._labels]


def _labels(ds, idxs):
    return [ds.get_data_info(i)['gt_label'] for i in idxs]


def _check_pk(ds, idxs, p, k):
    assert len(idxs) % (p * k) == 0
    for b in range(0, len(idxs), p * k):
        counts = Counter(_labels(ds, idxs[b:b + p * k]))
        assert len(counts) == p, counts  # P distinct identities ...
        assert set(counts.values()) == {k}, counts  # ... K images each


def test_pk_structure_and_exact_len():
    counts = [9, 4, 7, 12, 5, 8, 4, 6]
    ds = FakeDataset(counts)
    s = IdentityBalancedSampler(ds, num_instances=4, batch_size=8, seed=0,
                                rank=0, world_size=1)
    # chunks of K per id: 2+1+1+3+1+2+1+1 = 12 -> 12 // P(2) = 6 batches
    assert len(s) == 6 * 8
    for epoch in range(5):
        s.set_epoch(epoch)
        idxs = list(s)
        assert len(idxs) == len(s)
        _check_pk(ds, idxs, p=2, k=4)


@pytest.mark.parametrize('counts', [[8, 8, 8], [8, 12, 4, 4, 8],
                                    [4, 4, 4, 4, 4, 4], [16, 4, 4, 4, 4]])
def test_every_image_at_most_once_when_possible(counts):
    # K=4, P=2. [8, 12, 4, 4, 8]: chunks 2+3+1+1+2 = 9 -> 4 batches, one
    # chunk left over. No id has more chunks than the epoch has batches, so
    # no image may repeat within an epoch, whatever the random draws.
    ds = FakeDataset(counts)
    s = IdentityBalancedSampler(ds, num_instances=4, batch_size=8, seed=3)
    n_chunks = sum(c // 4 for c in counts)
    assert len(s) == n_chunks // 2 * 8
    for epoch in range(20):
        s.set_epoch(epoch)
        idxs = list(s)
        _check_pk(ds, idxs, p=2, k=4)
        assert len(set(idxs)) == len(idxs)
        if n_chunks % 2 == 0:
            assert sorted(idxs) == list(range(len(ds)))


def test_dominant_identity_reuses_small_ones():
    # id 0 has 6 chunks, the epoch has (6 + 2) // 2 = 4 batches: id 0 can
    # appear in at most 4 of them, so ids 1 and 2 are reused.
    ds = FakeDataset([24, 4, 4])
    s = IdentityBalancedSampler(ds, num_instances=4, batch_size=8, seed=0)
    idxs = list(s)
    assert len(idxs) == len(s) == 32
    _check_pk(ds, idxs, p=2, k=4)
    assert Counter(_labels(ds, idxs))[0] == 16


def test_few_images_sampled_with_replacement():
    ds = FakeDataset([1, 2, 3])  # every id has fewer than K = 4 images
    s = IdentityBalancedSampler(ds, num_instances=4, batch_size=12, seed=1)
    idxs = list(s)
    assert len(idxs) == len(s) == 12  # 3 ids -> one chunk each -> 1 batch
    _check_pk(ds, idxs, p=3, k=4)
    by_label = {}
    for i in idxs:
        by_label.setdefault(ds.get_data_info(i)['gt_label'], set()).add(i)
    # the K draws come from the id's own images
    for label, got in by_label.items():
        own = {i for i in range(len(ds)) if _labels(ds, [i])[0] == label}
        assert got <= own
    assert by_label[0] == {i for i in range(len(ds))
                           if _labels(ds, [i])[0] == 0}


def test_set_epoch_reproducible():
    ds = FakeDataset([8, 5, 6, 9, 4, 7, 12, 4])
    a = IdentityBalancedSampler(ds, num_instances=2, batch_size=6, seed=42)
    b = IdentityBalancedSampler(ds, num_instances=2, batch_size=6, seed=42)
    epochs = []
    for epoch in range(3):
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        ia = list(a)
        assert ia == list(b)
        assert ia == list(a)  # iterating twice in one epoch: same order
        epochs.append(ia)
    assert epochs[0] != epochs[1] != epochs[2]
    c = IdentityBalancedSampler(ds, num_instances=2, batch_size=6, seed=7)
    assert list(c) != epochs[0]


@pytest.mark.parametrize('round_up', [True, False])
def test_ddp_sharding(round_up):
    # 10 ids x 4 images, K=4 -> 10 chunks, P=2 -> 5 batches: odd, so the two
    # ranks need padding (round_up) or dropping one batch.
    ds = FakeDataset([4] * 10)
    kw = dict(num_instances=4, batch_size=8, seed=5, round_up=round_up)
    full = IdentityBalancedSampler(ds, rank=0, world_size=1, **kw)
    ranks = [
        IdentityBalancedSampler(ds, rank=r, world_size=2, **kw)
        for r in range(2)
    ]
    n_batches = 3 if round_up else 2
    assert all(len(r) == n_batches * 8 for r in ranks)
    for epoch in range(3):
        for s in (full, *ranks):
            s.set_epoch(epoch)
        glob = list(full)
        shares = [list(r) for r in ranks]
        assert len(shares[0]) == len(shares[1]) == n_batches * 8
        for share in shares:
            _check_pk(ds, share, p=2, k=4)
        # whole batches dealt round-robin from the one global epoch
        glob_batches = [glob[i:i + 8] for i in range(0, len(glob), 8)]
        for r in range(2):
            got = [shares[r][i:i + 8] for i in range(0, len(shares[r]), 8)]
            expected = (glob_batches * 2)[r::2][:n_batches]
            assert got == expected
        if round_up:
            # 5 real batches + 1 padding batch (a repeat of batch 0)
            assert set(shares[0]) | set(shares[1]) == set(range(len(ds)))
            assert shares[1][-8:] == glob_batches[0]
        else:
            # disjoint, equally long, one batch dropped
            assert not set(shares[0]) & set(shares[1])
            assert len(set(shares[0]) | set(shares[1])) == 32


def test_ddp_sharding_disjoint_every_epoch(monkeypatch):
    # 12 ids x 4 images -> 6 batches, 3 per rank, no index repeated.
    import mmieee.datasets.samplers.identity_sampler as mod

    # seed=None: the seed comes from sync_random_seed (rank 0's, broadcast)
    monkeypatch.setattr(mod, 'sync_random_seed', lambda: 1234)
    ds = FakeDataset([4] * 12)
    ranks = [
        IdentityBalancedSampler(ds, num_instances=4, batch_size=8, seed=None,
                                rank=r, world_size=2) for r in range(2)
    ]
    assert ranks[0].seed == ranks[1].seed == 1234
    for epoch in range(4):
        for s in ranks:
            s.set_epoch(epoch)
        a, b = list(ranks[0]), list(ranks[1])
        assert len(a) == len(b) == 24
        assert not set(a) & set(b)
        assert sorted(a + b) == list(range(len(ds)))


def test_ddp_from_dist_info(monkeypatch):
    import mmieee.datasets.samplers.identity_sampler as mod
    monkeypatch.setattr(mod, 'get_dist_info', lambda: (1, 2))
    s = IdentityBalancedSampler(FakeDataset([4] * 4), batch_size=8, seed=0)
    assert (s.rank, s.world_size) == (1, 2) and len(s) == 8


def test_lazy_serialised_mmengine_dataset_and_dataloader():
    ds = LazyDataset([0, 0, 1, 1, 2, 2, 3, 3] * 2)
    s = DATA_SAMPLERS.build(
        dict(type='IdentityBalancedSampler', num_instances=2, batch_size=4),
        default_args=dict(dataset=ds, seed=0))
    assert isinstance(s, IdentityBalancedSampler)
    loader = DataLoader(list(range(len(ds))), batch_size=4, sampler=s)
    batches = [b.tolist() for b in loader]
    assert len(batches) == len(s) // 4 == 4
    for batch in batches:
        counts = Counter(_labels(ds, batch))
        assert len(counts) == 2 and set(counts.values()) == {2}


def test_no_shuffle_is_deterministic():
    ds = FakeDataset([4, 4, 4, 4])
    s = IdentityBalancedSampler(ds, num_instances=4, batch_size=8,
                                shuffle=False)
    first = list(s)
    s.set_epoch(3)
    assert list(s) == first
    _check_pk(ds, first, p=2, k=4)


def test_bad_arguments():
    ds = FakeDataset([4, 4])
    with pytest.raises(ValueError, match='batch_size=6.*num_instances=4'):
        IdentityBalancedSampler(ds, num_instances=4, batch_size=6)
    with pytest.raises(ValueError, match='P = .* 3 distinct.*has 2'):
        IdentityBalancedSampler(ds, num_instances=2, batch_size=6)
    with pytest.raises(ValueError, match='rank=2'):
        IdentityBalancedSampler(ds, batch_size=8, rank=2, world_size=2)

    class NoLabel(FakeDataset):

        def get_data_info(self, idx):
            return dict(pid=1)

    with pytest.raises(ValueError, match='gt_label'):
        IdentityBalancedSampler(NoLabel([4, 4]), batch_size=8)


def test_missing_batch_size_says_where_it_comes_from():
    ds = FakeDataset([2, 2])
    with pytest.raises(ValueError, match='needs batch_size.*'
                       'train_dataloader.batch_size'):
        IdentityBalancedSampler(ds, num_instances=2, seed=0)
