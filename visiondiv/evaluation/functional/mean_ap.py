"""Rotated-box mean average precision, with mmrotate's ``eval_rbbox_map`` semantics.

The numbers are mmrotate 1.x's (see ``tests/test_evaluation/test_mean_ap.py`` and
``benchmarks/bench_eval_map.py``), but the work is done per class over all images
at once: only (detection, ground truth) pairs of the same image whose horizontal
envelopes overlap go to mmcv's exact rotated IoU, in one call, and the greedy
matching is vectorised. Every other pair has IoU exactly 0, as in the dense op.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.evaluation.functional import average_precision, print_map_summary

from visiondiv.structures.bbox import qbox2hbox, rbox2hbox

_BOX_DIMS = {'rbox': 5, 'qbox': 8}


def _box_dim(box_type: str) -> int:
    if box_type not in _BOX_DIMS:
        raise ValueError(f"box_type must be 'rbox' or 'qbox', got {box_type!r}")
    return _BOX_DIMS[box_type]


def _areas(boxes: np.ndarray, box_type: str) -> np.ndarray:
    """float64 areas: w * h, or the shoelace formula for quadrilaterals."""
    if box_type == 'rbox':
        return boxes[:, 2] * boxes[:, 3]
    x, y = boxes[:, 0::2], boxes[:, 1::2]
    return 0.5 * np.abs((x * np.roll(y, -1, 1) - y * np.roll(x, -1, 1)).sum(1))


def _envelopes(boxes: np.ndarray, box_type: str) -> np.ndarray:
    """Horizontal boxes (x1, y1, x2, y2) holding each box with a margin.

    Built from the fp32 values the IoU op sees; the margin is far above that
    op's rounding, so a pair kept apart here really has no intersection.
    """
    to_hbox = rbox2hbox if box_type == 'rbox' else qbox2hbox
    env = to_hbox(torch.from_numpy(boxes.astype(np.float32).astype(np.float64))).numpy()
    margin = 1e-4 * (np.abs(env).max(1, keepdims=True) + (env[:, 2:] - env[:, :2]).max(1, keepdims=True)) + 1e-3
    return env + np.hstack([-margin, -margin, margin, margin])


def _pair_ious(dets: np.ndarray, gts: np.ndarray, box_type: str) -> np.ndarray:
    """fp32 IoU of aligned pairs, by the op mmrotate uses (identical per pair to its dense form)."""
    from mmcv.ops import box_iou_quadri, box_iou_rotated
    iou_op = box_iou_rotated if box_type == 'rbox' else box_iou_quadri
    return iou_op(torch.from_numpy(dets).float(), torch.from_numpy(gts).float(), aligned=True).numpy()


def _touching_pairs(env_d: np.ndarray, env_g: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                    chunk: int = 1 << 20) -> Tuple[np.ndarray, np.ndarray]:
    """(det, gt) index pairs, det ``i`` against ``gts[starts[i]:starts[i] + counts[i]]``, whose envelopes overlap.

    Pairs are enumerated about ``chunk`` at a time, so a class with many
    boxes per image (whole DOTA images) never holds them all at once.
    """
    ends = np.cumsum(counts)
    pair_det, pair_gt = [], []
    lo = 0
    while lo < len(counts):
        done = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, done + chunk, 'right')), lo + 1)
        c = counts[lo:hi]
        det = np.repeat(np.arange(lo, hi), c)
        gt = np.arange(len(det)) - np.repeat(np.cumsum(c) - c - starts[lo:hi], c)
        ed, eg = env_d[det], env_g[gt]
        touch = (ed[:, 0] < eg[:, 2]) & (eg[:, 0] < ed[:, 2]) & (ed[:, 1] < eg[:, 3]) & (eg[:, 1] < ed[:, 3])
        pair_det.append(det[touch])
        pair_gt.append(gt[touch])
        lo = hi
    if not pair_det:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pair_det), np.concatenate(pair_gt)


def _tpfp_sorted(dets: np.ndarray, det_groups: np.ndarray, gts: np.ndarray, gt_groups: np.ndarray,
                 gt_ignore: np.ndarray, iou_thr: float, area_ranges: Optional[List[Tuple]],
                 box_type: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TP/FP of detections matched to ground truth of their own group (image), in score order.

    ``gts`` are sorted by group and, inside a group, in mmrotate's order
    (valid boxes, then ignored ones): its ``argmax`` picks the first of tied
    overlaps. Returns (tp, fp, order): tp and fp are (num_scales, n) float32
    over the detections in ``order``, the stable descending-score order.
    """
    box_dim = _box_dim(box_type)
    num_dets = dets.shape[0]
    area_ranges = area_ranges or [(None, None)]
    order = np.argsort(-dets[:, -1], kind='stable')
    dets, det_groups = dets[order], det_groups[order]
    tp = np.zeros((len(area_ranges), num_dets), np.float32)
    fp = np.zeros((len(area_ranges), num_dets), np.float32)
    if num_dets == 0:
        return tp, fp, order
    # each det's group is gts[starts:starts + counts]
    starts = np.searchsorted(gt_groups, det_groups, 'left')
    counts = np.searchsorted(gt_groups, det_groups, 'right') - starts
    has_gt = counts > 0
    pair_det, pair_gt = _touching_pairs(_envelopes(dets[:, :box_dim], box_type), _envelopes(gts, box_type),
                                        starts, counts)
    # best gt per det: mmrotate's max/argmax over its row (all 0 -> the group's first gt)
    best_iou = np.zeros(num_dets, np.float32)
    best_gt = starts.copy()
    if len(pair_det):
        ious = _pair_ious(dets[pair_det, :box_dim], gts[pair_gt], box_type)
        first = np.lexsort((pair_gt, -ious, pair_det))
        keep = np.r_[True, pair_det[first[1:]] != pair_det[first[:-1]]]
        first = first[keep]
        best_iou[pair_det[first]] = ious[first]
        best_gt[pair_det[first]] = np.where(ious[first] > 0, pair_gt[first], starts[pair_det[first]])
    matched = has_gt & (best_iou >= iou_thr)
    gt_areas = _areas(gts, box_type)
    det_areas = _areas(dets[:, :box_dim], box_type)
    for k, (lo, hi) in enumerate(area_ranges):
        gt_skip = gt_ignore if lo is None else gt_ignore | (gt_areas < lo) | (gt_areas >= hi)
        # the sentinel is the 'best gt' of dets in groups without any gt (never matched)
        counted = matched & ~np.r_[gt_skip, True][best_gt]
        # dets are in score order: the first det on each gt is its TP, later ones are duplicates
        idx = np.nonzero(counted)[0]
        first_on_gt = np.zeros(len(idx), bool)
        first_on_gt[np.unique(best_gt[idx], return_index=True)[1]] = True
        tp[k, idx[first_on_gt]] = 1
        fp[k, idx[~first_on_gt]] = 1
        unmatched = ~matched if lo is None else ~matched & (det_areas >= lo) & (det_areas < hi)
        fp[k, unmatched] = 1
    return tp, fp, order


def tpfp_rbox(det_bboxes: np.ndarray, gt_bboxes: np.ndarray, gt_bboxes_ignore: np.ndarray,
              iou_thr: float = 0.5, area_ranges: Optional[List[Tuple]] = None,
              box_type: str = 'rbox') -> Tuple[np.ndarray, np.ndarray]:
    """True/false positives of one image and class, by greedy matching in score order.

    A detection whose best-overlapping ground truth is ignored (or outside
    the area range) is neither TP nor FP; a second detection on a covered
    ground truth is an FP.

    Args:
        det_bboxes (np.ndarray): Detections of this image and class, (n, 6) (rbox + score) or (n, 9)
            (qbox + score) for ``box_type='qbox'``; the score is the last column.
        gt_bboxes (np.ndarray): Ground-truth boxes, (m, 5) rbox or (m, 8) qbox.
        gt_bboxes_ignore (np.ndarray): Ignored ground-truth boxes, (k, 5) or (k, 8).
        iou_thr (float): IoU threshold of a match (a match is IoU >= ``iou_thr``). Defaults to 0.5.
        area_ranges (list[tuple], optional): ``(min_area, max_area)`` ranges in squared pixels, each
            evaluated apart (min inclusive, max exclusive); area is w * h for rbox, the polygon's area
            for qbox. Defaults to None (one range, every box).
        box_type (str): ``'rbox'`` (cx, cy, w, h, angle) or ``'qbox'`` (x1, y1, ..., x4, y4).
            Defaults to 'rbox'.

    Returns:
        tuple[np.ndarray, np.ndarray]: (tp, fp), each (num_scales, num_dets) float32 of 0 / 1 in the
        input order.

    Raises:
        ValueError: ``box_type`` other than ``'rbox'`` or ``'qbox'``.
    """
    box_dim = _box_dim(box_type)
    dets = np.asarray(det_bboxes, np.float64).reshape(-1, box_dim + 1)
    valid = np.asarray(gt_bboxes, np.float64).reshape(-1, box_dim)
    ignored = np.asarray(gt_bboxes_ignore, np.float64).reshape(-1, box_dim)
    gt_ignore = np.r_[np.zeros(len(valid), bool), np.ones(len(ignored), bool)]
    tp_s, fp_s, order = _tpfp_sorted(dets, np.zeros(len(dets), int), np.vstack([valid, ignored]),
                                     np.zeros(len(gt_ignore), int), gt_ignore, iou_thr, area_ranges, box_type)
    tp, fp = np.empty_like(tp_s), np.empty_like(fp_s)
    tp[:, order], fp[:, order] = tp_s, fp_s
    return tp, fp


def _average_precision(recalls: np.ndarray, precisions: np.ndarray, use_07_metric: bool):
    """mmdet's ``average_precision``, same numbers; its area mode loops in Python over every detection."""
    if use_07_metric:
        return average_precision(recalls, precisions, '11points')
    no_scale = recalls.ndim == 1
    recalls, precisions = np.atleast_2d(recalls), np.atleast_2d(precisions)
    zeros = np.zeros((recalls.shape[0], 1), recalls.dtype)
    mrec = np.hstack((zeros, recalls, zeros + 1))
    mpre = np.hstack((zeros, precisions, zeros))
    mpre = np.maximum.accumulate(mpre[:, ::-1], axis=1)[:, ::-1]   # precision envelope from the right
    ap = np.zeros(recalls.shape[0], np.float32)
    for i in range(recalls.shape[0]):
        ind = np.nonzero(mrec[i, 1:] != mrec[i, :-1])[0]
        ap[i] = np.sum((mrec[i, ind + 1] - mrec[i, ind]) * mpre[i, ind + 1])
    return ap[0] if no_scale else ap


def _as_boxes(value, box_dim: int, what: str) -> np.ndarray:
    """(n, box_dim) float64, or an error naming the offending entry."""
    arr = np.asarray(value, np.float64)
    if arr.size == 0:
        return arr.reshape(0, box_dim)
    if arr.ndim != 2 or arr.shape[1] != box_dim:
        raise ValueError(f'{what} must have shape (n, {box_dim}), got {arr.shape}')
    return arr


def _ground_truth(annotations: Sequence[dict], box_dim: int):
    """All images' ground truth, sorted by (class, image, ignored, index) with parallel arrays.

    Like mmrotate's ``get_cls_results``, an image without any valid box keeps
    none of its ignored boxes either, so detections on them count as FPs.
    """
    boxes, labels, images, ignored = [], [], [], []
    for i, ann in enumerate(annotations):
        valid = _as_boxes(ann['bboxes'], box_dim, f"annotations[{i}]['bboxes']")
        parts = [(valid, ann['labels'], 'labels', False)]
        if len(valid) and 'bboxes_ignore' in ann:
            parts.append((_as_boxes(ann['bboxes_ignore'], box_dim, f"annotations[{i}]['bboxes_ignore']"),
                          ann.get('labels_ignore', np.zeros(0)), 'labels_ignore', True))
        for b, lab, key, ign in parts:
            lab = np.asarray(lab).reshape(-1)
            if len(lab) != len(b):
                raise ValueError(f"annotations[{i}]['{key}'] has {len(lab)} labels for {len(b)} boxes")
            boxes.append(b)
            labels.append(lab.astype(np.int64))
            images.append(np.full(len(b), i))
            ignored.append(np.full(len(b), ign))
    if not boxes:
        return np.zeros((0, box_dim)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    boxes, labels = np.concatenate(boxes), np.concatenate(labels)
    images, ignored = np.concatenate(images), np.concatenate(ignored)
    order = np.lexsort((np.arange(len(labels)), ignored, images, labels))
    return boxes[order], labels[order], images[order], ignored[order]


def eval_rbbox_map(det_results: Sequence[Sequence[np.ndarray]], annotations: Sequence[dict],
                   scale_ranges: Optional[List[Tuple[float, float]]] = None, iou_thr: float = 0.5,
                   use_07_metric: bool = True, box_type: str = 'rbox', dataset=None, logger=None,
                   nproc: int = 4) -> Tuple[Union[float, List[float]], List[dict]]:
    """Mean AP of rotated (or quadrilateral) detections.

    Args:
        det_results (Sequence[Sequence[np.ndarray]]): ``det_results[i][c]`` is an (n, 6) array
            (rbox + score) of image ``i`` and class ``c``, or (n, 9) for ``box_type='qbox'``; every
            image has the same number of classes.
        annotations (Sequence[dict]): per image, a dict with ``bboxes`` ((n, 5) or (n, 8)),
            ``labels`` ((n,)) and optionally ``bboxes_ignore`` and ``labels_ignore``. As in
            mmrotate, the ignored boxes of an image without any valid box
            are dropped (detections on them are FPs).
        scale_ranges (list[tuple[float, float]], optional): (min_area, max_area) ranges in squared
            pixels (used as areas, not squared as mmrotate's docstring describes), each evaluated apart;
            min inclusive, max exclusive. Defaults to None (one range, every box).
        iou_thr (float): IoU threshold of a match (IoU >= ``iou_thr``). Defaults to 0.5.
        use_07_metric (bool): 11-point AP (VOC07) if True, else area under the curve.
            Defaults to True.
        box_type (str): ``'rbox'`` or ``'qbox'``. Defaults to 'rbox'.
        dataset (list[str] | str, optional): class names (or a dataset name mmdet knows) for the
            printed table. Defaults to None (class indices).
        logger (logging.Logger | str, optional): mmengine logger, or ``'silent'`` to print nothing.
            Defaults to None (print).
        nproc (int): kept for signature compatibility; the evaluation is vectorised
            and runs in-process. Defaults to 4.

    Returns:
        tuple[float | list[float], list[dict]]: (mean AP over classes that have ground truth (one per
        scale range when ``scale_ranges`` is given), per-class dicts with
        ``num_gts``, ``num_dets``, ``recall``, ``precision`` and ``ap``).
        Detections of equal score are taken in input order (a stable sort);
        mmrotate's order for ties is numpy's default, platform-dependent one.

    Raises:
        ValueError: a ``box_type`` other than ``'rbox'`` / ``'qbox'``, different numbers of images in
            ``det_results`` and ``annotations`` or of classes among images, boxes of the wrong shape,
            or labels whose count differs from their boxes'.
    """
    box_dim = _box_dim(box_type)
    if len(det_results) != len(annotations):
        raise ValueError(f'{len(det_results)} detection results but {len(annotations)} annotations')
    num_classes = len(det_results[0]) if det_results else 0
    area_ranges = [(lo, hi) for lo, hi in scale_ranges] if scale_ranges is not None else None
    num_scales = len(scale_ranges) if scale_ranges is not None else 1
    eps = np.finfo(np.float32).eps
    for i, img in enumerate(det_results):
        if len(img) != num_classes:
            raise ValueError(f'det_results[{i}] has {len(img)} classes, det_results[0] has {num_classes}')
    gts, gt_labels, gt_images, gt_ignored = _ground_truth(annotations, box_dim)
    class_bounds = np.searchsorted(gt_labels, np.arange(num_classes + 1))
    gt_areas = _areas(gts, box_type)
    results = []
    for c in range(num_classes):
        per_img = [_as_boxes(img[c], box_dim + 1, f'det_results[{i}][{c}]') for i, img in enumerate(det_results)]
        dets = np.concatenate(per_img) if per_img else np.zeros((0, box_dim + 1))
        det_images = np.repeat(np.arange(len(per_img)), [len(d) for d in per_img])
        cls = slice(class_bounds[c], class_bounds[c + 1])
        tp, fp, _ = _tpfp_sorted(dets, det_images, gts[cls], gt_images[cls], gt_ignored[cls], iou_thr,
                                 area_ranges, box_type)
        counted = ~gt_ignored[cls]
        if area_ranges is None:
            num_gts = np.array([counted.sum()])
        else:
            areas = gt_areas[cls][counted]
            num_gts = np.array([((areas >= lo) & (areas < hi)).sum() for lo, hi in area_ranges])
        tp, fp = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
        recalls = tp / np.maximum(num_gts[:, None], eps)
        precisions = tp / np.maximum(tp + fp, eps)
        if scale_ranges is None:
            recalls, precisions, num_gts = recalls[0], precisions[0], int(num_gts[0])
        ap = _average_precision(recalls, precisions, use_07_metric)
        results.append(dict(num_gts=num_gts, num_dets=dets.shape[0], recall=recalls,
                            precision=precisions, ap=ap))
    if scale_ranges is not None:
        all_ap = np.vstack([r['ap'] for r in results]) if results else np.zeros((0, num_scales))
        all_gts = np.vstack([r['num_gts'] for r in results]) if results else np.zeros((0, num_scales))
        mean_ap = [float(all_ap[all_gts[:, k] > 0, k].mean()) if (all_gts[:, k] > 0).any() else 0.0
                   for k in range(num_scales)]
    else:
        aps = [r['ap'] for r in results if r['num_gts'] > 0]
        mean_ap = float(np.mean(aps)) if aps else 0.0
    if logger != 'silent':
        print_map_summary(mean_ap, results, dataset, area_ranges, logger=logger)
    return mean_ap, results
