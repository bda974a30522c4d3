import numpy as np
import pytest
import torch

from visiondiv.evaluation import eval_rbbox_map
from visiondiv.structures.bbox import rbox2qbox

A = [50, 50, 20, 10, 0.0]
B = [150, 50, 20, 10, 0.5]
C = [50, 50, 30, 10, 0.2]
D = [150, 150, 20, 20, 0.0]   # ignored ground truth
FAR = [300, 300, 10, 10, 0.0]


def scenario():
    """Hand-checked: class 0 AP = 0.5 (both VOC07 and area), class 1 has no GT, class 2 AP = 0.

    Score order (ignored match dropped): TP .9, FP(dup) .8, FP .7, TP .6 with 3 GT ->
    recall [1/3, 1/3, 1/3, 2/3], precision [1, 1/2, 1/3, 1/2].
    11-point: 4 points at 1 and 3 at 1/2 -> 5.5 / 11 = 0.5; area: 1/3 * 1 + 1/3 * 1/2 = 0.5.
    """
    def dets(*rows):
        return np.array(rows, dtype=np.float64).reshape(-1, 6)
    det_results = [
        [dets(A + [0.9], A + [0.8], FAR + [0.7]), dets(FAR + [0.5]), dets()],
        [dets(C + [0.6], D + [0.95]), dets(), dets()],
    ]
    annotations = [
        dict(bboxes=np.array([A, B, FAR[:2] + [1, 1, 0]]), labels=np.array([0, 0, 2]),
             bboxes_ignore=np.zeros((0, 5)), labels_ignore=np.zeros(0)),
        dict(bboxes=np.array([C]), labels=np.array([0]), bboxes_ignore=np.array([D]),
             labels_ignore=np.array([0])),
    ]
    return det_results, annotations


@pytest.mark.parametrize('use_07', [True, False])
def test_hand_checked_map(use_07):
    det_results, annotations = scenario()
    mean_ap, results = eval_rbbox_map(det_results, annotations, iou_thr=0.5, use_07_metric=use_07,
                                      logger='silent')
    assert results[0]['ap'] == pytest.approx(0.5, abs=1e-6)
    assert results[0]['num_gts'] == 3 and results[0]['num_dets'] == 5
    np.testing.assert_allclose(results[0]['recall'], [0, 1 / 3, 1 / 3, 1 / 3, 2 / 3], atol=1e-6)
    np.testing.assert_allclose(results[0]['precision'], [0, 1, 1 / 2, 1 / 3, 1 / 2], atol=1e-6)
    assert results[1]['num_gts'] == 0           # excluded from the mean
    assert results[2]['ap'] == pytest.approx(0.0)
    assert mean_ap == pytest.approx(0.25, abs=1e-6)


def test_qbox_gives_same_result():
    det_results, annotations = scenario()
    def to_q(a):
        a = np.asarray(a, np.float64)
        return rbox2qbox(torch.from_numpy(a[:, :5])).numpy() if len(a) else np.zeros((0, 8))
    q_dets = [[np.hstack([to_q(d), d[:, 5:]]) for d in img] for img in det_results]
    q_anns = [dict(bboxes=to_q(a['bboxes']), labels=a['labels'], bboxes_ignore=to_q(a['bboxes_ignore']),
                   labels_ignore=a['labels_ignore']) for a in annotations]
    mean_ap, _ = eval_rbbox_map(q_dets, q_anns, box_type='qbox', logger='silent')
    assert mean_ap == pytest.approx(0.25, abs=1e-6)


def test_iou_threshold_and_scale_ranges():
    gt = [0, 0, 10, 10, 0.0]
    shifted = [3, 0, 10, 10, 0.0]   # IoU = 70 / 130 = 0.538
    anns = [dict(bboxes=np.array([gt]), labels=np.array([0]))]
    dets = [[np.array([shifted + [0.9]])]]
    assert eval_rbbox_map(dets, anns, iou_thr=0.5, logger='silent')[0] == pytest.approx(1.0)
    assert eval_rbbox_map(dets, anns, iou_thr=0.55, logger='silent')[0] == pytest.approx(0.0)
    # scale ranges: the GT (area 100) lies only in the second range
    mean_ap, _ = eval_rbbox_map(dets, anns, scale_ranges=[(0, 50), (50, 1e5)], iou_thr=0.5, logger='silent')
    assert mean_ap == pytest.approx([0.0, 1.0])


def test_no_detections_and_no_gt():
    anns = [dict(bboxes=np.zeros((0, 5)), labels=np.zeros(0))]
    mean_ap, results = eval_rbbox_map([[np.zeros((0, 6))]], anns, logger='silent')
    assert mean_ap == 0.0 and results[0]['num_gts'] == 0
    with pytest.raises(ValueError, match='annotations'):
        eval_rbbox_map([[np.zeros((0, 6))]], anns * 2, logger='silent')
