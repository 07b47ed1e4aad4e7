# Copyright (c) mmieee contributors.
"""P × K identity-balanced sampling (the official recipe: P × K = 2 × 4,
batch 8).

Every batch holds P distinct identities with K images each, as the
margin losses (3M, triplet, center) need several images of an id per batch.
The per-id chunking follows torchreid's ``RandomIdentitySampler``: the images
of an id are shuffled and cut into chunks of K (an id with fewer than K
images is sampled with replacement up to K; a remainder shorter than K is
dropped). Written by hand because neither mmengine nor mmpretrain ships a P×K
sampler, and torchreid's has no exact length and no DDP support; differences
from torchreid (for an exact ``__len__`` and equal shares per rank):

* an epoch has exactly ``num_chunks // P`` batches (``num_chunks`` = the sum
  over ids of ``max(1, n_id // K)``);
* the P ids of a batch are drawn without replacement with probability
  proportional to their remaining chunks (torchreid: uniformly), except that
  an id with as many chunks left as there are batches left is always taken:
  so whenever no id has more chunks than the epoch has batches, every chunk
  (every image) is used at most once per epoch. Otherwise, when fewer than P
  ids have chunks left, the exhausted ids are re-chunked and reused
  (torchreid would end the epoch early);
* under DDP all ranks build the same epoch (same seed and epoch), pad it (or
  drop its tail, ``round_up=False``) to a multiple of ``world_size`` whole
  batches, and rank r takes batches r, r + world_size, ...: the ranks'
  shares are disjoint positions of the epoch, equally long, and every
  per-rank batch of ``batch_size`` consecutive indices is one P × K batch.

``batch_size`` must equal the dataloader's (per-GPU) ``batch_size``: configs
state it once, as the dataloader's, and the tools fill the sampler's from it
(:func:`mmieee.utils.check_config`; a different value is an error there).
"""
from typing import Dict, Iterator, List, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmieee.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class IdentityBalancedSampler(Sampler):
    """Yield dataset indices forming batches of P identities × K instances.

    Args:
        dataset (Dataset): Dataset whose ``get_data_info(i)`` (mmengine
            ``BaseDataset``) or ``data_list[i]`` holds ``gt_label`` (int).
        num_instances (int): K, images per identity in a batch. Defaults
            to 4.
        batch_size (int): Per-rank batch size, P × K; must equal the
            dataloader's ``batch_size`` (the tools fill it in from there).
        shuffle (bool): Shuffle images and identities. With False the epoch
            is deterministic (ids and images in dataset order) and the same
            for every epoch. Defaults to True.
        seed (int, optional): Random seed shared by all ranks. None: a
            random seed synchronised across ranks
            (:func:`mmengine.dist.sync_random_seed`).
        round_up (bool): Pad the epoch with its first batches to a multiple
            of ``world_size`` batches (True) or drop the last batches
            (False). Defaults to True.
        rank (int, optional): This process' rank; None: from
            :func:`mmengine.dist.get_dist_info`.
        world_size (int, optional): Number of ranks; None: from
            :func:`mmengine.dist.get_dist_info`.

    Raises:
        ValueError: ``batch_size`` is not a multiple of ``num_instances``,
            the dataset has fewer than P identities, or a label is missing.
    """

    def __init__(self,
                 dataset,
                 num_instances: int = 4,
                 batch_size: Optional[int] = None,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        if num_instances < 1:
            raise ValueError('IdentityBalancedSampler: num_instances must be '
                             f'>= 1, got {num_instances}')
        if batch_size is None:
            raise ValueError(
                'IdentityBalancedSampler needs batch_size (the dataloader\'s '
                'batch size). tools/train.py fills it in from '
                'train_dataloader.batch_size; a script that builds the '
                'Runner itself can call mmieee.utils.check_config(cfg) '
                'first, or set train_dataloader.sampler.batch_size.')
        if batch_size < num_instances or batch_size % num_instances != 0:
            raise ValueError(
                f'IdentityBalancedSampler: batch_size={batch_size} must be a '
                f'positive multiple of num_instances={num_instances} '
                '(batch = P identities x K instances)')
        dist_rank, dist_world_size = get_dist_info()
        self.rank = dist_rank if rank is None else rank
        self.world_size = (
            dist_world_size if world_size is None else world_size)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'IdentityBalancedSampler: rank={self.rank} is '
                             f'not in [0, world_size={self.world_size})')

        self.dataset = dataset
        self.num_instances = num_instances
        self.batch_size = batch_size
        self.num_pids_per_batch = batch_size // num_instances
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0

        # Labels are read once; iterating never touches the dataset again.
        self.index_dic: Dict[int, List[int]] = {}
        for idx, label in enumerate(self._read_labels(dataset)):
            self.index_dic.setdefault(label, []).append(idx)
        self.pids = sorted(self.index_dic)
        if len(self.pids) < self.num_pids_per_batch:
            raise ValueError(
                f'IdentityBalancedSampler: a batch needs P = batch_size / '
                f'num_instances = {self.num_pids_per_batch} distinct '
                f'identities but the dataset has {len(self.pids)}')

        num_chunks = sum(
            max(1,
                len(v) // num_instances) for v in self.index_dic.values())
        self.num_batches_total = num_chunks // self.num_pids_per_batch
        if self.round_up:
            self.num_batches = -(-self.num_batches_total // self.world_size)
        else:
            self.num_batches = self.num_batches_total // self.world_size
        self.num_samples = self.num_batches * self.batch_size

    @staticmethod
    def _read_labels(dataset) -> List[int]:
        """Read ``gt_label`` of every sample, initialising lazy datasets."""
        if hasattr(dataset, 'full_init'):
            dataset.full_init()  # no-op when already initialised
        if hasattr(dataset, 'get_data_info'):
            get = dataset.get_data_info
        elif hasattr(dataset, 'data_list'):
            get = dataset.data_list.__getitem__
        else:
            raise TypeError(
                'IdentityBalancedSampler needs a dataset with get_data_info() '
                f'or data_list, got {type(dataset).__name__}')
        labels = []
        for i in range(len(dataset)):
            info = get(i)
            if 'gt_label' not in info:
                raise ValueError(
                    'IdentityBalancedSampler: data_info of sample '
                    f'{i} has no "gt_label" (keys: {sorted(info)})')
            labels.append(int(info['gt_label']))
        if not labels:
            raise ValueError('IdentityBalancedSampler: the dataset is empty')
        return labels

    def _chunks(self, pid: int, rng: Optional[np.random.Generator]) -> list:
        """Shuffle the indices of ``pid`` and cut them into chunks of K."""
        idxs = np.asarray(self.index_dic[pid])
        k = self.num_instances
        if len(idxs) < k:
            # torchreid: too few images -> sample K with replacement
            idxs = (
                rng.choice(idxs, size=k, replace=True)
                if rng is not None else np.resize(idxs, k))
        elif rng is not None:
            idxs = rng.permutation(idxs)
        n = len(idxs) // k
        return [idxs[i * k:(i + 1) * k].tolist() for i in range(n)]

    @staticmethod
    def _draw(pids: List[int], n: int, chunks: Dict[int, list],
              rng: Optional[np.random.Generator]) -> List[int]:
        """Draw ``n`` of ``pids`` without replacement, with probability
        proportional to their remaining chunks (the first ``n`` if no rng)."""
        if n == 0:
            return []
        if rng is None:
            return list(pids[:n])
        weights = np.array([len(chunks[pid]) for pid in pids],
                           dtype=np.float64)
        pos = rng.choice(
            len(pids), size=n, replace=False, p=weights / weights.sum())
        return [pids[i] for i in pos]

    def _epoch_batches(self) -> List[List[int]]:
        """All P × K batches of the current epoch (identical on all ranks)."""
        rng = (
            np.random.default_rng([self.seed, self.epoch])
            if self.shuffle else None)
        p = self.num_pids_per_batch
        chunks = {pid: self._chunks(pid, rng) for pid in self.pids}
        batches = []
        while len(batches) < self.num_batches_total:
            avail = [pid for pid in self.pids if chunks[pid]]
            if len(avail) < p:
                # Fewer than P ids left: re-chunk the exhausted ones.
                for pid in self.pids:
                    if not chunks[pid]:
                        chunks[pid] = self._chunks(pid, rng)
                avail = list(self.pids)
            # An id with as many chunks left as there are batches left must
            # be in this batch, or some of its chunks would go unused and
            # others be repeated; the rest is drawn at random.
            left = self.num_batches_total - len(batches)
            forced = [pid for pid in avail if len(chunks[pid]) >= left]
            if len(forced) >= p:  # cannot all fit: no exact cover exists
                chosen = self._draw(forced, p, chunks, rng)
            else:
                rest = [pid for pid in avail if len(chunks[pid]) < left]
                chosen = forced + self._draw(rest, p - len(forced), chunks,
                                             rng)
            batch = []
            for pid in chosen:
                batch.extend(chunks[pid].pop(0))
            batches.append(batch)
        return batches

    def __iter__(self) -> Iterator[int]:
        batches = self._epoch_batches()
        needed = self.num_batches * self.world_size
        if len(batches) < needed:  # round_up: pad with the first batches
            batches = (batches * (-(-needed // len(batches))))[:needed]
        batches = batches[:needed]
        for batch in batches[self.rank::self.world_size]:
            yield from batch

    def __len__(self) -> int:
        """Number of indices this rank yields per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; with ``shuffle`` every epoch has its own order.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch
