"""GCDAccuracy on packed data samples: the functional accuracies x100, through mmengine's Evaluator."""
import math

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement

from visiondiv.evaluation import GCDAccuracy
from visiondiv.evaluation.functional import split_cluster_acc_v1, split_cluster_acc_v2, split_cluster_acc_v2_balanced
from visiondiv.registry import METRICS


def samples(y_true, y_pred, old):
    """Data samples as the model's predict() returns them (the contract's layout)."""
    return [BaseDataElement(gt_label=torch.tensor(t), pred_label=torch.tensor(p),
                            metainfo=dict(old=bool(o), labelled=False, sample_idx=i))
            for i, (t, p, o) in enumerate(zip(y_true, y_pred, old))]


def run(metric_cfg, data_samples, batch=4):
    evaluator = Evaluator(metric_cfg)
    for i in range(0, len(data_samples), batch):
        evaluator.process(data_samples[i:i + batch], data_batch=None)
    return evaluator.evaluate(len(data_samples))


def test_registered():
    assert METRICS.get('GCDAccuracy') is GCDAccuracy


def test_hand_case_in_percent():
    # old classes 0, 1 in clusters 0, 1; new classes 2, 3 share those clusters (see test_gcd_accuracy)
    y_true = [0] * 4 + [1] * 4 + [2] * 3 + [3] * 3
    y_pred = [0] * 4 + [1] * 4 + [0] * 3 + [1] * 3
    out = run(dict(type='GCDAccuracy'), samples(y_true, y_pred, [t < 2 for t in y_true]))
    assert out == {'All': round(800 / 14, 2), 'Old': 100.0, 'New': 0.0,
                   'v2b/All': 50.0, 'v2b/Old': 100.0, 'v2b/New': 0.0,
                   'v1/All': 100.0, 'v1/Old': 100.0, 'v1/New': 100.0}


def test_equals_the_functional_values_times_100():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 6, 50)
    y_pred = np.where(rng.random(50) < 0.7, (y_true * 5 + 2) % 7, rng.integers(0, 7, 50))
    old = y_true < 3
    out = run(dict(type='GCDAccuracy', eval_funcs=('v2b', 'v1', 'v2')), samples(y_true, y_pred, old), batch=7)
    for prefix, f in (('', split_cluster_acc_v2_balanced), ('v1/', split_cluster_acc_v1),
                      ('v2/', split_cluster_acc_v2)):
        for kind, acc in zip(('All', 'Old', 'New'), f(y_true, y_pred, old)):
            assert out[prefix + kind] == round(100 * acc, 2)
    assert len(out) == 9


def test_padding_of_distributed_sampler_is_dropped():
    y_true, y_pred, old = [0, 1, 2, 2], [1, 0, 2, 0], [True, True, False, False]
    data = samples(y_true, y_pred, old)
    out = run(dict(type='GCDAccuracy', eval_funcs='v2'), data + data[:1])     # evaluate(size=5): 1 padded
    evaluator = Evaluator(dict(type='GCDAccuracy', eval_funcs='v2'))
    evaluator.process(data + data[:1])
    assert evaluator.evaluate(4) == {'All': 75.0, 'Old': 100.0, 'New': 50.0}
    # with size 5 the copy of sample 0 counts: 4 of 5 matched (cluster 1 -> class 0 twice)
    assert out == {'All': 80.0, 'Old': 100.0, 'New': 50.0}


def test_dicts_and_one_element_tensors_are_read():
    metric = GCDAccuracy(eval_funcs=['v2'])
    metric.process(None, [dict(gt_label=torch.tensor([1]), pred_label=np.int64(3), old=torch.tensor(True)),
                          dict(gt_label=2, pred_label=torch.tensor([5]), old=np.bool_(False))])
    assert metric.compute_metrics(metric.results) == {'All': 100.0, 'Old': 100.0, 'New': 100.0}


def test_no_new_sample_gives_nan():
    metric = GCDAccuracy(eval_funcs='v2')
    metric.process(None, samples([0, 1], [1, 1], [True, True]))
    out = metric.compute_metrics(metric.results)
    assert out['All'] == out['Old'] == 50.0 and math.isnan(out['New'])


@pytest.mark.parametrize('sample, error, match', [
    (dict(gt_label=0, pred_label=1), KeyError, "data sample 0 has no 'old'"),
    (dict(gt_label=0, old=True), KeyError, "data sample 0 has no 'pred_label'"),
    (dict(gt_label=torch.tensor(float('nan')), pred_label=1, old=True), ValueError,
     "'gt_label' must be a non-negative integer"),
    (dict(gt_label=0, pred_label=1.5, old=True), ValueError, "'pred_label' must be a non-negative integer"),
    (dict(gt_label=torch.tensor([0, 1]), pred_label=1, old=True), ValueError, "'gt_label' must be one number"),
    (dict(gt_label=0, pred_label=1, old=2), ValueError, "'old' must be a bool"),
    ([0, 1], TypeError, 'must be a dict or a BaseDataElement'),
])
def test_bad_samples_name_the_field(sample, error, match):
    with pytest.raises(error, match=match):
        GCDAccuracy().process(None, [sample])


def test_errors_at_compute_and_build():
    metric = GCDAccuracy()
    with pytest.raises(ValueError, match='no data samples'):
        metric.compute_metrics([])
    metric.process(None, samples([0, 0], [0, 1], [True, False]))       # class 0 marked old and new
    with pytest.raises(ValueError, match="'old' .*mask must mark whole classes"):
        metric.compute_metrics(metric.results)
    for bad in ((), ('v3',), ('v2', 'v2')):
        with pytest.raises(ValueError, match='eval_funcs must be distinct names among'):
            GCDAccuracy(eval_funcs=bad)
