"""Rotated-box mean average precision, with mmrotate's ``eval_rbbox_map`` semantics."""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.evaluation.functional import average_precision, print_map_summary


def _boxes(boxes: np.ndarray, box_type: str):
    """numpy boxes (score column dropped) as the registered box class of ``box_type``."""
    from mmdet.structures.bbox import get_box_type
    box_cls = get_box_type(box_type)[1]
    return box_cls(torch.from_numpy(np.ascontiguousarray(boxes[:, :box_cls.box_dim])).float())


def _overlaps(dets: np.ndarray, gts: np.ndarray, box_type: str) -> np.ndarray:
    b1, b2 = _boxes(dets, box_type), _boxes(gts, box_type)
    return type(b1).overlaps(b1, b2).numpy()


def _areas(boxes: np.ndarray, box_type: str) -> np.ndarray:
    return _boxes(boxes, box_type).areas.numpy()


def tpfp_rbox(det_bboxes: np.ndarray, gt_bboxes: np.ndarray, gt_bboxes_ignore: np.ndarray,
              iou_thr: float = 0.5, area_ranges: Optional[List[Tuple]] = None,
              box_type: str = 'rbox') -> Tuple[np.ndarray, np.ndarray]:
    """True/false positives of one image and class, by greedy matching in score order.

    A detection whose best-overlapping ground truth is ignored (or outside
    the area range) is neither TP nor FP; a second detection on a covered
    ground truth is an FP.
    """
    box_dim = 5 if box_type == 'rbox' else 8
    num_dets, num_valid = det_bboxes.shape[0], gt_bboxes.shape[0]
    gt_ignore = np.concatenate([np.zeros(num_valid, bool), np.ones(len(gt_bboxes_ignore), bool)])
    gts = np.vstack([gt_bboxes.reshape(-1, box_dim), gt_bboxes_ignore.reshape(-1, box_dim)])
    area_ranges = area_ranges or [(None, None)]
    tp = np.zeros((len(area_ranges), num_dets), np.float32)
    fp = np.zeros((len(area_ranges), num_dets), np.float32)
    det_areas = _areas(det_bboxes, box_type) if num_dets else np.zeros(0)
    if gts.shape[0] == 0:
        for k, (lo, hi) in enumerate(area_ranges):
            fp[k] = 1 if lo is None else ((det_areas >= lo) & (det_areas < hi))
        return tp, fp
    if num_dets == 0:
        return tp, fp
    ious = _overlaps(det_bboxes, gts, box_type)
    best_iou, best_gt = ious.max(1), ious.argmax(1)
    order = np.argsort(-det_bboxes[:, -1], kind='stable')
    gt_areas = _areas(gts, box_type)
    for k, (lo, hi) in enumerate(area_ranges):
        covered = np.zeros(len(gts), bool)
        out_of_range = np.zeros(len(gts), bool) if lo is None else (gt_areas < lo) | (gt_areas >= hi)
        for i in order:
            if best_iou[i] >= iou_thr:
                g = best_gt[i]
                if gt_ignore[g] or out_of_range[g]:
                    continue
                if covered[g]:
                    fp[k, i] = 1
                else:
                    covered[g] = True
                    tp[k, i] = 1
            elif lo is None or lo <= det_areas[i] < hi:
                fp[k, i] = 1
    return tp, fp


def _class_results(det_results, annotations, class_id, box_dim):
    dets = [np.asarray(img[class_id], dtype=np.float64).reshape(-1, box_dim + 1) for img in det_results]
    gts, gts_ignore = [], []
    for ann in annotations:
        labels = np.asarray(ann['labels'])
        gts.append(np.asarray(ann['bboxes'], np.float64).reshape(-1, box_dim)[labels == class_id])
        ign_boxes = np.asarray(ann.get('bboxes_ignore', np.zeros((0, box_dim))), np.float64)
        ign_labels = np.asarray(ann.get('labels_ignore', np.zeros(0)))
        gts_ignore.append(ign_boxes.reshape(-1, box_dim)[ign_labels == class_id])
    return dets, gts, gts_ignore


def eval_rbbox_map(det_results: Sequence[Sequence[np.ndarray]], annotations: Sequence[dict],
                   scale_ranges: Optional[List[Tuple[float, float]]] = None, iou_thr: float = 0.5,
                   use_07_metric: bool = True, box_type: str = 'rbox', dataset=None, logger=None,
                   nproc: int = 4) -> Tuple[float, List[dict]]:
    """Mean AP of rotated (or quadrilateral) detections.

    Args:
        det_results: ``det_results[i][c]`` is an (n, 6) array (rbox + score),
            or (n, 9) for ``box_type='qbox'``.
        annotations: per image, a dict with ``bboxes``, ``labels`` and
            optionally ``bboxes_ignore`` and ``labels_ignore``.
        scale_ranges: optional (min_area, max_area) ranges, each evaluated apart.
        iou_thr: IoU threshold of a match.
        use_07_metric: 11-point AP (VOC07) if True, else area under the curve.
        box_type: ``rbox`` or ``qbox``.
        dataset: class names for the printed table.
        logger: mmengine logger or 'silent'.
        nproc: kept for signature compatibility; the overlaps run in mmcv's
            compiled op, so the evaluation runs in-process.

    Returns:
        (mean AP over classes that have ground truth, per-class dicts with
        ``num_gts``, ``num_dets``, ``recall``, ``precision`` and ``ap``).
    """
    if box_type not in ('rbox', 'qbox'):
        raise ValueError(f"box_type must be 'rbox' or 'qbox', got {box_type!r}")
    if len(det_results) != len(annotations):
        raise ValueError(f'{len(det_results)} detection results but {len(annotations)} annotations')
    box_dim = 5 if box_type == 'rbox' else 8
    num_classes = len(det_results[0]) if det_results else 0
    area_ranges = [(lo, hi) for lo, hi in scale_ranges] if scale_ranges is not None else None
    num_scales = len(scale_ranges) if scale_ranges is not None else 1
    eps = np.finfo(np.float32).eps
    results = []
    for c in range(num_classes):
        dets, gts, gts_ignore = _class_results(det_results, annotations, c, box_dim)
        tpfp = [tpfp_rbox(d, g, gi, iou_thr, area_ranges, box_type)
                for d, g, gi in zip(dets, gts, gts_ignore)]
        num_gts = np.zeros(num_scales, dtype=int)
        for g in gts:
            if area_ranges is None:
                num_gts[0] += g.shape[0]
            else:
                areas = _areas(g, box_type)
                for k, (lo, hi) in enumerate(area_ranges):
                    num_gts[k] += int(((areas >= lo) & (areas < hi)).sum())
        all_dets = np.vstack(dets)
        order = np.argsort(-all_dets[:, -1], kind='stable')
        tp = np.hstack([t for t, _ in tpfp])[:, order] if tpfp else np.zeros((num_scales, 0))
        fp = np.hstack([f for _, f in tpfp])[:, order] if tpfp else np.zeros((num_scales, 0))
        tp, fp = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
        recalls = tp / np.maximum(num_gts[:, None], eps)
        precisions = tp / np.maximum(tp + fp, eps)
        if scale_ranges is None:
            recalls, precisions, num_gts = recalls[0], precisions[0], num_gts[0]
        ap = average_precision(recalls, precisions, '11points' if use_07_metric else 'area')
        results.append(dict(num_gts=num_gts, num_dets=all_dets.shape[0], recall=recalls,
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
