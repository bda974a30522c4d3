import numpy as np
import pytest
import torch

from visiondiv.evaluation import eval_rbbox_map
from visiondiv.evaluation.functional import tpfp_rbox
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


# --- an independent reference: mmrotate's algorithm written plainly ------------------------------------------
# per image and class: dense IoU by mmcv's op, greedy loop over detections in (stable) score order; AP in float64.

def _area(box):
    if len(box) == 5:
        return box[2] * box[3]
    x, y = box[0::2], box[1::2]
    return 0.5 * abs(sum(x[i] * y[(i + 1) % 4] - x[(i + 1) % 4] * y[i] for i in range(4)))


def _reference_ap(recall, precision, use_07):
    if use_07:
        # mmdet's thresholds (np.arange, so 0.3 is 0.30000000000000004), as mmrotate uses them
        return sum(max([p for r, p in zip(recall, precision) if r >= t], default=0.0)
                   for t in np.arange(0, 1 + 1e-3, 0.1)) / 11
    mrec, mpre = [0.0, *recall, 1.0], [0.0, *precision, 0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i])


def reference_map(det_results, annotations, iou_thr=0.5, use_07=True, area_ranges=None, box_type='rbox'):
    from mmcv.ops import box_iou_quadri, box_iou_rotated
    op, dim = (box_iou_rotated, 5) if box_type == 'rbox' else (box_iou_quadri, 8)
    ranges = area_ranges or [(None, None)]
    out = []
    for c in range(len(det_results[0])):
        num_gts = [0] * len(ranges)
        flags = []   # (score, image, index, tp per range, fp per range)
        for img, (img_dets, ann) in enumerate(zip(det_results, annotations)):
            dets = np.asarray(img_dets[c], np.float64).reshape(-1, dim + 1)
            valid = np.asarray(ann['bboxes']).reshape(-1, dim)[np.asarray(ann['labels']) == c]
            # mmrotate: an image without any valid box keeps none of its ignored boxes either
            ignored = (np.asarray(ann['bboxes_ignore']).reshape(-1, dim)[np.asarray(ann['labels_ignore']) == c]
                       if len(ann['bboxes']) else np.zeros((0, dim)))
            gts = np.vstack([valid, ignored])
            for k, (lo, hi) in enumerate(ranges):
                num_gts[k] += sum(lo is None or lo <= _area(g) < hi for g in valid)
            ious = op(torch.tensor(dets[:, :dim]).float(), torch.tensor(gts).float()).numpy() if len(gts) else None
            tp, fp = np.zeros((len(ranges), len(dets))), np.zeros((len(ranges), len(dets)))
            for k, (lo, hi) in enumerate(ranges):
                covered = set()
                for i in sorted(range(len(dets)), key=lambda i: -dets[i, -1]):
                    if ious is not None and ious[i].max() >= iou_thr:
                        g = int(ious[i].argmax())
                        if g >= len(valid) or not (lo is None or lo <= _area(gts[g]) < hi):
                            continue
                        tp[k, i], fp[k, i] = (0, 1) if g in covered else (1, 0)
                        covered.add(g)
                    elif lo is None or lo <= _area(dets[i, :dim]) < hi:
                        fp[k, i] = 1
            flags += [(-dets[i, -1], img, i, tp[:, i], fp[:, i]) for i in range(len(dets))]
        flags.sort(key=lambda f: f[:3])
        aps = []
        for k in range(len(ranges)):
            tp = np.cumsum([f[3][k] for f in flags])
            fp = np.cumsum([f[4][k] for f in flags])
            recall = tp / max(num_gts[k], 1e-12)
            precision = tp / np.maximum(tp + fp, 1e-12)
            aps.append(_reference_ap(recall, precision, use_07))
        out.append((num_gts, len(flags), aps))
    return out


def random_scenario(seed=0, num_images=6, num_classes=4):
    """Images with ignored GT, an image whose only GT is ignored, duplicate GT (IoU ties), tied scores,
    class 2 without detections and class 3 without ground truth."""
    rng = np.random.default_rng(seed)

    def boxes(n):
        return np.column_stack([rng.uniform(0, 200, (n, 2)), rng.uniform(8, 50, (n, 2)), rng.uniform(-1.5, 1.5, n)])
    det_results, annotations = [], []
    for img in range(num_images):
        n = 0 if img == 1 else int(rng.integers(2, 9))
        gts, labels = boxes(n), rng.integers(0, 3, n)
        if n > 2:
            gts[1], labels[1] = gts[0], labels[0]
        n_ign = 2 if img in (1, 2) else int(rng.integers(0, 2))
        ign, ign_labels = boxes(n_ign), rng.integers(0, 3, n_ign)
        annotations.append(dict(bboxes=gts, labels=labels, bboxes_ignore=ign, labels_ignore=ign_labels))
        per_class = []
        for c in range(num_classes):
            src = np.vstack([gts[labels == c], ign[ign_labels == c]])
            if c == 2:
                per_class.append(np.zeros((0, 6)))
                continue
            k = int(rng.integers(0, 2 * len(src) + 1)) if len(src) else 0
            hits = src[rng.integers(0, len(src), k)] + rng.normal(0, 1, (k, 5)) * [2, 2, 2, 2, 0.05] if k else \
                np.zeros((0, 5))
            found = np.vstack([hits, boxes(int(rng.integers(0, 4)))])
            scores = rng.integers(1, 6, len(found)) / 5   # coarse: tied scores inside and across images
            per_class.append(np.column_stack([found, scores]))
        det_results.append(per_class)
    return det_results, annotations


def _assert_matches_reference(det_results, annotations, box_type='rbox', area_ranges=None, **kwargs):
    mean_ap, results = eval_rbbox_map(det_results, annotations, scale_ranges=area_ranges, box_type=box_type,
                                      logger='silent', use_07_metric=kwargs['use_07'], iou_thr=kwargs['iou_thr'])
    ref = reference_map(det_results, annotations, area_ranges=area_ranges, box_type=box_type, **kwargs)
    for res, (num_gts, num_dets, aps) in zip(results, ref):
        np.testing.assert_array_equal(np.atleast_1d(res['num_gts']), num_gts)
        assert res['num_dets'] == num_dets
        np.testing.assert_allclose(np.atleast_1d(res['ap']), aps, atol=1e-6)
    ref_aps = np.array([aps for _, _, aps in ref])
    has_gt = np.array([num_gts for num_gts, _, _ in ref]) > 0
    expected = [ref_aps[has_gt[:, k], k].mean() if has_gt[:, k].any() else 0.0 for k in range(ref_aps.shape[1])]
    np.testing.assert_allclose(np.atleast_1d(mean_ap), expected, atol=1e-6)


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('use_07', [True, False])
@pytest.mark.parametrize('iou_thr', [0.0, 0.3, 0.5])
def test_matches_reference(seed, use_07, iou_thr):
    det_results, annotations = random_scenario(seed)
    _assert_matches_reference(det_results, annotations, use_07=use_07, iou_thr=iou_thr)


@pytest.mark.parametrize('use_07', [True, False])
def test_matches_reference_with_area_ranges(use_07):
    det_results, annotations = random_scenario(3)
    _assert_matches_reference(det_results, annotations, area_ranges=[(0, 400), (400, 1200), (1200, 1e5)],
                              use_07=use_07, iou_thr=0.5)


def test_matches_reference_qbox():
    det_results, annotations = random_scenario(4)

    def to_q(a):
        a = np.asarray(a, np.float64).reshape(-1, 5)
        return rbox2qbox(torch.from_numpy(a)).numpy()
    q_dets = [[np.hstack([to_q(d[:, :5]), d[:, 5:]]) for d in img] for img in det_results]
    q_anns = [dict(a, bboxes=to_q(a['bboxes']), bboxes_ignore=to_q(a['bboxes_ignore'])) for a in annotations]
    _assert_matches_reference(q_dets, q_anns, box_type='qbox', use_07=False, iou_thr=0.5)


def test_ignored_gt_of_an_image_without_valid_gt_is_dropped():
    """mmrotate's rule: an image with no valid box keeps none of its ignored boxes, so a detection on one is an FP.

    Scores: FP .95 (on the dropped ignored box), TP .9 -> recall [0, 1], precision [0, 1/2]: AP 0.5 both ways.
    """
    det_results = [[np.array([A + [0.9]])], [np.array([D + [0.95]])]]
    annotations = [dict(bboxes=np.array([A]), labels=np.array([0]), bboxes_ignore=np.zeros((0, 5)),
                        labels_ignore=np.zeros(0)),
                   dict(bboxes=np.zeros((0, 5)), labels=np.zeros(0), bboxes_ignore=np.array([D]),
                        labels_ignore=np.array([0]))]
    for use_07 in (True, False):
        mean_ap, results = eval_rbbox_map(det_results, annotations, use_07_metric=use_07, logger='silent')
        np.testing.assert_allclose(results[0]['precision'], [0, 1 / 2], atol=1e-6)
        assert mean_ap == pytest.approx(0.5, abs=1e-6)


def test_tied_overlaps_match_the_first_ground_truth():
    """Two identical GT boxes: the first det matches the first (argmax takes the first of ties), the second
    det also picks the first and is a duplicate FP -> recall [1/2, 1/2], precision [1, 1/2]; VOC07 AP 6/11."""
    det_results = [[np.array([A + [0.9], A + [0.8]])]]
    annotations = [dict(bboxes=np.array([A, A]), labels=np.array([0, 0]))]
    mean_ap, results = eval_rbbox_map(det_results, annotations, logger='silent')
    np.testing.assert_allclose(results[0]['recall'], [1 / 2, 1 / 2], atol=1e-6)
    np.testing.assert_allclose(results[0]['precision'], [1, 1 / 2], atol=1e-6)
    assert mean_ap == pytest.approx(6 / 11, abs=1e-6)


def test_tpfp_rbox_matches_reference():
    det_results, annotations = random_scenario(5, num_images=1, num_classes=1)
    dets, ann = det_results[0][0], annotations[0]
    valid, ignored = ann['bboxes'][ann['labels'] == 0], ann['bboxes_ignore'][ann['labels_ignore'] == 0]
    tp, fp = tpfp_rbox(dets, valid, ignored, iou_thr=0.3)
    ref = reference_map(det_results, annotations, iou_thr=0.3)[0]
    assert tp.shape == fp.shape == (1, len(dets))
    assert tp.sum() + fp.sum() <= len(dets) and ref[1] == len(dets)
    # AP from our flags, in stable score order, against the reference
    order = np.argsort(-dets[:, -1], kind='stable')
    ctp, cfp = np.cumsum(tp[0, order]), np.cumsum(fp[0, order])
    ap = _reference_ap(ctp / max(len(valid), 1e-12), ctp / np.maximum(ctp + cfp, 1e-12), True)
    assert ap == pytest.approx(ref[2][0], abs=1e-6)


def test_area_ap_equals_mmdet():
    from mmdet.evaluation.functional import average_precision

    from visiondiv.evaluation.functional.mean_ap import _average_precision
    rng = np.random.default_rng(0)
    for shape in [(0,), (1,), (50,), (3, 40)]:
        recalls = np.sort(rng.random(shape), axis=-1)
        precisions = rng.random(shape).astype(np.float32)
        for use_07, mode in [(False, 'area'), (True, '11points')]:
            np.testing.assert_array_equal(_average_precision(recalls, precisions, use_07),
                                          average_precision(recalls, precisions, mode))


def test_bad_input_names_the_entry():
    anns = [dict(bboxes=np.zeros((1, 5)), labels=np.zeros(1))]
    with pytest.raises(ValueError, match=r'det_results\[0\]\[0\].*\(n, 6\)'):
        eval_rbbox_map([[np.zeros((2, 5))]], anns, logger='silent')
    with pytest.raises(ValueError, match=r"annotations\[0\]\['labels'\]"):
        eval_rbbox_map([[np.zeros((0, 6))]], [dict(bboxes=np.zeros((2, 5)), labels=np.zeros(1))], logger='silent')
    with pytest.raises(ValueError, match=r'det_results\[1\] has 2 classes'):
        eval_rbbox_map([[np.zeros((0, 6))], [np.zeros((0, 6))] * 2], anns * 2, logger='silent')


def test_touching_pairs_do_not_depend_on_the_chunk_size():
    from visiondiv.evaluation.functional.mean_ap import _envelopes, _touching_pairs
    rng = np.random.default_rng(0)
    dets = np.column_stack([rng.uniform(0, 100, (40, 2)), rng.uniform(5, 30, (40, 2)), rng.uniform(-1.5, 1.5, 40)])
    gts = dets[rng.permutation(40)[:25]]
    starts, counts = rng.integers(0, 10, 40), rng.integers(0, 16, 40)
    want = set()
    env_d, env_g = _envelopes(dets, 'rbox'), _envelopes(gts, 'rbox')
    for i in range(40):
        for j in range(starts[i], starts[i] + counts[i]):
            d, g = env_d[i], env_g[j]
            if d[0] < g[2] and g[0] < d[2] and d[1] < g[3] and g[1] < d[3]:
                want.add((i, j))
    for chunk in (1, 7, 1 << 20):
        got = _touching_pairs(env_d, env_g, starts, counts, chunk=chunk)
        assert set(zip(*map(list, got))) == want and len(got[0]) == len(want)
