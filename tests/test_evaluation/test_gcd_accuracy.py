"""GCD clustering accuracies against hand-computed cases and a brute force over all assignments."""
import itertools
import math

import numpy as np
import pytest
import torch

from visiondiv.evaluation.functional import (EVAL_FUNCS, cluster_acc, split_cluster_acc_v1, split_cluster_acc_v2,
                                             split_cluster_acc_v2_balanced)

SPLITS = (split_cluster_acc_v1, split_cluster_acc_v2, split_cluster_acc_v2_balanced)


def test_eval_funcs_names():
    assert EVAL_FUNCS == {'v1': split_cluster_acc_v1, 'v2': split_cluster_acc_v2, 'v2b': split_cluster_acc_v2_balanced}


@pytest.mark.parametrize('to', [list, np.asarray, torch.tensor])
def test_perfect_clustering_with_permuted_ids_is_one(to):
    y_true = [0, 0, 1, 1, 1, 2, 3, 3]
    ids = {0: 7, 1: 2, 2: 0, 3: 5}          # more ids than classes: unused ids 1, 3, 4, 6
    y_pred = [ids[c] for c in y_true]
    mask = [c < 2 for c in y_true]
    assert cluster_acc(to(y_true), to(y_pred)) == 1.0
    for f in SPLITS:
        assert f(to(y_true), to(y_pred), to(mask)) == (1.0, 1.0, 1.0)


def test_one_assignment_over_all_classes_differs_from_separate_ones():
    # old classes 0, 1 (4 samples each) in clusters 0, 1; new classes 2, 3 (3 each) in the same clusters 0, 1
    y_true = np.array([0] * 4 + [1] * 4 + [2] * 3 + [3] * 3)
    y_pred = np.array([0] * 4 + [1] * 4 + [0] * 3 + [1] * 3)
    mask = y_true < 2
    # v1: each subset has its own assignment: both subsets are clustered perfectly
    assert split_cluster_acc_v1(y_true, y_pred, mask) == (1.0, 1.0, 1.0)
    # v2: clusters 0, 1 go to the larger old classes, new classes get the empty clusters 2, 3
    assert split_cluster_acc_v2(y_true, y_pred, mask) == pytest.approx((8 / 14, 1.0, 0.0), abs=1e-15)
    assert cluster_acc(y_true, y_pred) == pytest.approx(8 / 14, abs=1e-15)


def test_balanced_variant_averages_class_recalls():
    # class 0 (old, 10): 9 in cluster 2, 1 in 0; class 1 (old, 2): 1 in 1, 1 in 2; class 2 (new, 4): 3 in 0, 1 in 1
    y_true = np.array([0] * 10 + [1] * 2 + [2] * 4)
    y_pred = np.array([2] * 9 + [0] + [1, 2] + [0] * 3 + [1])
    mask = y_true < 2
    # the only best assignment (13 matches of 16): cluster 2 -> class 0, 1 -> 1, 0 -> 2
    assert split_cluster_acc_v2(y_true, y_pred, mask) == pytest.approx((13 / 16, 10 / 12, 3 / 4), abs=1e-15)
    recalls = (9 / 10, 1 / 2, 3 / 4)
    assert split_cluster_acc_v2_balanced(y_true, y_pred, mask) == pytest.approx(
        (sum(recalls) / 3, (recalls[0] + recalls[1]) / 2, recalls[2]), abs=1e-15)


def _reference(y_true, y_pred, mask):
    """float64 brute force: every assignment of clusters to classes; the (v2, v2b) triples of the best ones."""
    d = max(max(y_true), max(y_pred)) + 1
    w = np.zeros((d, d), np.float64)
    for p, t in zip(y_pred, y_true):
        w[p, t] += 1
    classes = sorted(set(y_true))
    old = sorted(set(t for t, m in zip(y_true, mask) if m))
    new = [c for c in classes if c not in old]
    n, n_old = len(y_true), sum(mask)
    scores = {perm: sum(w[perm[c], c] for c in range(d)) for perm in itertools.permutations(range(d))}
    best = max(scores.values())
    v2, v2b = [], []
    for perm, s in scores.items():
        if s == best:
            recall = {c: w[perm[c], c] / w[:, c].sum() for c in classes}
            v2.append((s / n, sum(w[perm[c], c] for c in old) / n_old, sum(w[perm[c], c] for c in new) / (n - n_old)))
            v2b.append((np.mean([recall[c] for c in classes]), np.mean([recall[c] for c in old]),
                        np.mean([recall[c] for c in new])))
    return best / n, v2, v2b


def _brute_acc(y_true, y_pred):
    d = max(max(y_true), max(y_pred)) + 1
    return max(sum(p == perm[t] for t, p in zip(y_true, y_pred)) for perm in itertools.permutations(range(d))) \
        / len(y_true)


def _close_to_one_of(triple, candidates):
    return any(np.allclose(triple, c, rtol=0, atol=1e-12) for c in candidates)


def test_against_brute_force_over_all_assignments():
    rng = np.random.default_rng(0)
    ties = 0
    for _ in range(25):
        k = int(rng.integers(2, 5))
        k_old = int(rng.integers(1, k))
        n = int(rng.integers(6, 30))
        y_true = rng.integers(0, k, n)
        y_true[:2] = (0, k - 1)                             # an old and a new class are always present
        y_pred = np.where(rng.random(n) < 0.5, (y_true + 1) % k, rng.integers(0, k + 2, n))
        mask = y_true < k_old
        yt, yp, m = y_true.tolist(), y_pred.tolist(), mask.tolist()
        acc, v2, v2b = _reference(yt, yp, m)
        ties += len(v2) > 1
        assert cluster_acc(y_true, y_pred) == pytest.approx(acc, abs=1e-12)
        ours = split_cluster_acc_v2(y_true, y_pred, mask)
        assert ours[0] == pytest.approx(acc, abs=1e-12)
        assert _close_to_one_of(ours, v2)                  # Old / New: those of one of the best assignments
        assert _close_to_one_of(split_cluster_acc_v2_balanced(y_true, y_pred, mask), v2b)
        old = _brute_acc(y_true[mask].tolist(), y_pred[mask].tolist())
        new = _brute_acc(y_true[~mask].tolist(), y_pred[~mask].tolist())
        assert split_cluster_acc_v1(y_true, y_pred, mask) == pytest.approx(
            (old * mask.mean() + new * (1 - mask.mean()), old, new), abs=1e-12)
    assert ties                 # the cases include ties among best assignments, where only one triple is right


def test_empty_subset_gives_nan_explicitly():
    y_true = np.array([2, 2, 3, 3, 3])          # new classes only
    y_pred = np.array([0, 0, 0, 1, 1])
    mask = np.zeros(5, bool)
    all_, old, new = split_cluster_acc_v2(y_true, y_pred, mask)
    assert math.isnan(old) and all_ == new == pytest.approx(4 / 5, abs=1e-15)
    all_, old, new = split_cluster_acc_v2_balanced(y_true, y_pred, mask)
    assert math.isnan(old) and all_ == new == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)
    all_, old, new = split_cluster_acc_v1(y_true, y_pred, mask)
    assert math.isnan(old) and all_ == new == pytest.approx(4 / 5, abs=1e-15)
    all_, old, new = split_cluster_acc_v2(y_true, y_pred, ~mask)    # old classes only
    assert math.isnan(new) and all_ == old == pytest.approx(4 / 5, abs=1e-15)


def test_integral_floats_and_0_1_masks_are_accepted():
    y_true, y_pred, mask = [0, 1, 2, 2], [1, 0, 2, 0], [1, 1, 0, 0]
    expected = split_cluster_acc_v2(np.array(y_true), np.array(y_pred), np.array(mask, bool))
    assert expected == pytest.approx((3 / 4, 1.0, 1 / 2), abs=1e-15)
    assert split_cluster_acc_v2(torch.tensor(y_true, dtype=torch.float32), np.array(y_pred, np.float64),
                                torch.tensor(mask)) == expected


@pytest.mark.parametrize('y_true, y_pred, mask, match', [
    ([0, 1, 1], [0, 1], [True, False, False], 'y_pred has 2 values, but y_true has 3'),
    ([0, 1.5], [0, 1], [True, False], 'y_true: labels must be integers'),
    ([0, float('nan')], [0, 1], [True, False], r'y_true: 1 of 2 labels are not finite \(1 NaN'),
    ([0, 1], [0, float('inf')], [True, False], r'y_pred: 1 of 2 labels are not finite \(0 NaN, 1 inf'),
    ([0, -1], [0, 1], [True, False], 'y_true must hold non-negative labels'),
    ([], [], [], 'y_true is empty'),
    ([[0, 1]], [[0, 1]], [[True, False]], r'y_true must be 1-D, got shape \(1, 2\)'),
    (['a', 'b'], [0, 1], [True, False], 'y_true must hold integer labels'),
    ([True, False], [0, 1], [True, False], 'y_true must hold integer labels, got dtype bool'),
    ([0, 1], [0, 1], [True], 'mask has 1 values, but y_true has 2'),
    ([0, 1], [0, 1], [2, 0], r'mask must be boolean \(or 0/1\)'),
    ([0, 0, 1], [0, 0, 1], [True, False, False], r'mask must mark whole classes .* classes \[0\]'),
])
def test_bad_input_names_the_argument(y_true, y_pred, mask, match):
    for f in SPLITS:
        with pytest.raises(ValueError, match=match):
            f(y_true, y_pred, mask)
    if 'mask' not in match:
        with pytest.raises(ValueError, match=match):
            cluster_acc(y_true, y_pred)
