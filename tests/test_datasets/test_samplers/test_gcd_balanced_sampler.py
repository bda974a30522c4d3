import math

import numpy as np
import pytest
import torch
from torch.utils.data import WeightedRandomSampler

from visiondiv.datasets.samplers import gcd_balanced_sampler as module
from visiondiv.datasets.samplers import GCDBalancedSampler
from visiondiv.registry import DATA_SAMPLERS


class Flags:
    """The sampler's view of a GCDDataset: a length and ``labelled_flags`` (labelled first, as GCDDataset)."""

    def __init__(self, num_lab, num_unlab):
        self.labelled_flags = np.arange(num_lab + num_unlab) < num_lab

    def __len__(self):
        return len(self.labelled_flags)


def test_weights_and_draws_are_simgcds_weighted_sampler():
    data = Flags(30, 170)
    sampler = DATA_SAMPLERS.build(dict(type='GCDBalancedSampler'), default_args=dict(dataset=data, seed=7))
    np.testing.assert_allclose(sampler.weights.numpy(), [1.0] * 30 + [30 / 170] * 170)
    assert len(sampler) == 200
    sampler.set_epoch(3)
    g = torch.Generator()
    g.manual_seed(7 + 3)
    # SimGCD's sampler: WeightedRandomSampler(weights, num_samples=len(dataset)), weights 1 and n_lab / n_unlab
    ref = WeightedRandomSampler(torch.tensor([1.0] * 30 + [30 / 170] * 170, dtype=torch.double), 200, generator=g)
    assert list(sampler) == list(ref)


def test_labelled_fraction_is_one_half_within_a_binomial_bound():
    n_lab, n_unlab = 2000, 18000
    sampler = GCDBalancedSampler(Flags(n_lab, n_unlab), seed=0)
    draws = np.array(list(sampler))
    p = n_lab / (n_lab + n_unlab * n_lab / n_unlab)          # = 1/2
    assert p == 0.5
    frac = np.mean(draws < n_lab)
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / len(draws))     # 5 sigma: 0.0177
    # with replacement: about 1 - exp(-n/m) of the labelled samples are drawn at least once in an epoch
    seen = len(np.unique(draws[draws < n_lab])) / n_lab
    assert abs(seen - (1 - math.exp(-len(draws) * p / n_lab))) < 0.02


def test_deterministic_in_seed_and_epoch():
    data = Flags(10, 40)

    def draw(seed, epoch):
        s = GCDBalancedSampler(data, seed=seed)
        s.set_epoch(epoch)
        return list(s)
    assert draw(1, 0) == draw(1, 0)
    assert draw(1, 0) != draw(1, 1)
    assert draw(1, 0) != draw(2, 0)


def test_default_seed_is_mmengines_synced_seed(monkeypatch):
    monkeypatch.setattr(module, 'sync_random_seed', lambda: 1234)
    assert GCDBalancedSampler(Flags(3, 5)).seed == 1234


def test_ranks_draw_from_disjoint_shards(monkeypatch):
    n_lab, n_unlab, world = 301, 1700, 3
    shards = []
    for rank in range(world):
        monkeypatch.setattr(module, 'get_dist_info', lambda rank=rank: (rank, world))
        sampler = GCDBalancedSampler(Flags(n_lab, n_unlab), seed=5)
        draws = np.array(list(sampler))
        assert len(draws) == len(sampler) == math.ceil((n_lab + n_unlab) / world)
        assert (draws % world == rank).all()
        # the shard's own ratio: each rank's draws are labelled with probability 1/2
        shard_lab = len(range(rank, n_lab, world))
        shard_unlab = len(range(rank, n_lab + n_unlab, world)) - shard_lab
        np.testing.assert_allclose(sampler.weights.numpy(), [1.0] * shard_lab + [shard_lab / shard_unlab] * shard_unlab)
        shards.append(set(draws.tolist()))
    assert not (shards[0] & shards[1]) and not (shards[0] & shards[2]) and not (shards[1] & shards[2])


def test_uniform_without_unlabelled_samples_and_errors(monkeypatch):
    np.testing.assert_array_equal(GCDBalancedSampler(Flags(4, 0), seed=0).weights.numpy(), np.ones(4))
    with pytest.raises(TypeError, match=r'the dataset \(list\) has no labelled_flags'):
        GCDBalancedSampler([1, 2, 3], seed=0)
    monkeypatch.setattr(module, 'get_dist_info', lambda: (0, 8))
    with pytest.raises(ValueError, match='Flags has 4 samples, fewer than the 8 ranks'):
        GCDBalancedSampler(Flags(2, 2), seed=0)
