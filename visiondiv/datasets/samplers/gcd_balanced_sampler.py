"""SimGCD's labelled/unlabelled-balanced sampler as an mmengine data sampler."""
import math
from typing import Iterator, Optional, Sized

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from visiondiv.registry import DATA_SAMPLERS

__all__ = ['GCDBalancedSampler']


@DATA_SAMPLERS.register_module()
class GCDBalancedSampler(Sampler):
    """Draw with replacement so that labelled and unlabelled samples are equally likely (SimGCD).

    SimGCD's ``WeightedRandomSampler``: weight 1 for a labelled sample and ``n_lab / n_unlab`` for an unlabelled
    one, so a draw is labelled with probability ``n_lab / (n_lab + n_unlab * n_lab / n_unlab) = 1/2``; an epoch
    draws ``len(dataset)`` indices. With one process the indices are exactly those of
    ``torch.utils.data.WeightedRandomSampler(weights, len(dataset), generator=g)`` with ``g`` seeded by
    ``seed + epoch`` (mmengine's ``DefaultSampler`` seeding).

    In a distributed run (mmengine's ``get_dist_info``) rank ``r`` of ``W`` owns the samples ``r, r + W, ...``,
    as SimGCD's ``DistributedWeightedSampler``, and draws ``ceil(len(dataset) / W)`` of them with the weights
    computed on its own shard (so each rank's draws are balanced too; SimGCD uses the global ratio, which
    differs by a rounding). If a shard has no labelled or no unlabelled sample, its draws are uniform.

    Args:
        dataset (Sized): a dataset with ``labelled_flags`` (a bool array of length ``len(dataset)``), e.g.
            :class:`~visiondiv.datasets.GCDDataset` (not wrapped in another dataset).
        seed (int, optional): random seed; None: a seed shared by all ranks (mmengine's
            ``sync_random_seed``). Defaults to None.

    Raises:
        TypeError: ``dataset`` has no ``labelled_flags``.
        ValueError: ``labelled_flags`` is not a bool array of length ``len(dataset)``, or the dataset has
            fewer samples than there are ranks.
    """

    def __init__(self, dataset: Sized, seed: Optional[int] = None) -> None:
        flags = getattr(dataset, 'labelled_flags', None)
        if flags is None:
            raise TypeError(f'GCDBalancedSampler: the dataset ({type(dataset).__name__}) has no labelled_flags; '
                            'use a GCDDataset (not wrapped in another dataset)')
        flags = np.asarray(flags)
        if flags.dtype != bool or flags.shape != (len(dataset),):
            raise ValueError(f'GCDBalancedSampler: labelled_flags of {type(dataset).__name__} must be a bool array '
                             f'of length {len(dataset)}, got {flags.dtype} {flags.shape}')
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        if len(dataset) < self.world_size:
            raise ValueError(f'GCDBalancedSampler: {type(dataset).__name__} has {len(dataset)} samples, fewer than '
                             f'the {self.world_size} ranks')
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.num_samples = math.ceil(len(dataset) / self.world_size)
        self.shard = np.arange(self.rank, len(dataset), self.world_size)
        shard_flags = flags[self.shard]
        num_lab, num_unlab = int(shard_flags.sum()), int((~shard_flags).sum())
        self.num_labelled, self.num_unlabelled = num_lab, num_unlab
        unlab_weight = num_lab / num_unlab if num_lab and num_unlab else 1.0
        self.weights = torch.as_tensor(np.where(shard_flags, 1.0, unlab_weight), dtype=torch.double)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        draws = torch.multinomial(self.weights, self.num_samples, replacement=True, generator=g)
        return iter(self.shard[draws.numpy()].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: the draws are a function of ``seed + epoch``."""
        self.epoch = epoch
