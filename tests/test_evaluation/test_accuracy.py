"""Accuracy: mmpretrain's top-k keys and values, checked against hand counts (thresholds and ties included)."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement

from visiondiv.registry import METRICS
from visiondiv.structures import ClsDataSample

# 6 classes; the true class's rank (1 = best) and score in each row, counted by hand
SCORES = torch.tensor([
    [0.50, 0.20, 0.10, 0.10, 0.05, 0.05],  # gt 0: rank 1
    [0.10, 0.40, 0.30, 0.10, 0.06, 0.04],  # gt 2: rank 2
    [0.30, 0.25, 0.20, 0.15, 0.06, 0.04],  # gt 4: rank 5
    [0.30, 0.25, 0.20, 0.15, 0.06, 0.04],  # gt 5: rank 6
    [1.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # gt 3: scores 0, tied in ranks 2..6: never counts with thr 0
    [0.60, 0.10, 0.10, 0.10, 0.10, 0.00],  # gt 3: tied in ranks 2..5: always in the top 5, top 2 by tie order
])
LABELS = [0, 2, 4, 5, 3, 3]


def evaluate(samples, **kwargs):
    evaluator = Evaluator(METRICS.build(dict(type='Accuracy', **kwargs)))
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def scored():
    return [ClsDataSample().set_gt_label(g).set_pred_score(s) for g, s in zip(LABELS, SCORES)]


def test_by_hand():
    metrics = evaluate(scored())
    # top1: row 0 -> 1/6; top5: rows 0, 1, 2, 5 -> 4/6 (row 4's class 3 scores 0, not > thr 0, wherever it ranks)
    assert metrics == pytest.approx({'accuracy/top1': 100 / 6, 'accuracy/top5': 400 / 6})
    assert list(metrics) == ['accuracy/top1', 'accuracy/top5']


def test_thresholds_and_ties():
    metrics = evaluate(scored(), topk=(1, 2, 5), thrs=(None, 0.35))
    # ties straddling the k-th place count when torch.topk (over the whole batch, as mmpretrain calls it) ranks
    # the true class inside: its order among equal scores is unspecified, so read it from topk itself
    ranked = SCORES.topk(5, dim=1).indices
    row4_top2, row4_top5 = (3 in ranked[4, :2].tolist()), (3 in ranked[4].tolist())
    row5_top2 = 3 in ranked[5, :2].tolist()
    assert metrics['accuracy/top1_no-thr'] == pytest.approx(100 / 6)
    assert metrics['accuracy/top2_no-thr'] == pytest.approx((2 + row4_top2 + row5_top2) * 100 / 6)
    assert metrics['accuracy/top5_no-thr'] == pytest.approx((4 + row4_top5) * 100 / 6)
    # thr 0.35: the true class must also score above 0.35: only row 0 (0.50)
    assert metrics['accuracy/top1_thr-0.35'] == pytest.approx(100 / 6)
    assert metrics['accuracy/top2_thr-0.35'] == pytest.approx(100 / 6)
    assert metrics['accuracy/top5_thr-0.35'] == pytest.approx(100 / 6)


def test_labels_only_give_top1_and_dict_samples():
    samples = [BaseDataElement(gt_label=torch.tensor(g), pred_label=torch.tensor(p))
               for g, p in zip([0, 1, 2, 3], [0, 1, 0, 0])]
    assert evaluate(samples) == {'accuracy/top1': 50.0}
    metric = METRICS.build(dict(type='Accuracy', topk=1, prefix='val'))
    metric.process({}, [dict(gt_label=torch.tensor([1]), pred_score=torch.tensor([0.2, 0.8]))])
    assert metric.evaluate(1) == {'val/top1': 100.0}


def test_matches_linear_cls_head_predictions():
    from visiondiv.registry import MODELS
    head = MODELS.build(dict(type='LinearClsHead', num_classes=6, in_channels=4))
    feats = torch.randn(8, 4)
    samples = head.predict(feats, [ClsDataSample().set_gt_label(i % 6) for i in range(8)])
    expected_top1 = (head(feats).argmax(1) == torch.arange(8) % 6).float().mean().item() * 100
    assert evaluate(samples, topk=(1, ))['accuracy/top1'] == pytest.approx(expected_top1)


def test_errors():
    with pytest.raises(ValueError, match='topk must be positive ints'):
        METRICS.build(dict(type='Accuracy', topk=(0, )))
    with pytest.raises(ValueError, match='top-5 accuracy is unavailable with 3 classes'):
        evaluate([ClsDataSample().set_gt_label(0).set_pred_score(torch.ones(3))])
    with pytest.raises(KeyError, match="data sample 0 has no 'gt_label'"):
        evaluate([ClsDataSample().set_pred_label(0)])
    with pytest.raises(ValueError, match="'gt_label' must be one integer"):
        evaluate([BaseDataElement(gt_label=torch.tensor(0.5), pred_label=torch.tensor(0))])
