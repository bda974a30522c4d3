"""DOTA-style rotated mAP metric, with mmrotate's ``DOTAMetric`` fields."""
import os
import os.path as osp
import re
import zipfile
from collections import OrderedDict, defaultdict
from numbers import Real
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.structures.bbox import BaseBoxes, get_box_tensor
from mmengine.dist import all_reduce
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from visiondiv.registry import METRICS
from visiondiv.structures.bbox import rbox2qbox
from ..functional import eval_rbbox_map

_PATCH_OFFSET = re.compile(r'__(\d+)___(\d+)')


def parse_patch_name(img_id: str) -> Tuple[str, int, int]:
    """``P0000__1024__0___824`` -> ('P0000', 0, 824): original image and patch offset (x, y).

    Args:
        img_id (str): Patch name as written by ``tools/data/dota/split.py``:
            ``<image>__<size>__<x>___<y>``.

    Returns:
        tuple[str, int, int]: The original image's name (the text before the first ``__``) and the
        patch's offset (x, y) in pixels.

    Raises:
        ValueError: ``img_id`` has no ``__<x>___<y>`` patch offset.
    """
    match = _PATCH_OFFSET.search(img_id)
    if match is None:
        raise ValueError(f"image id {img_id!r} has no '__<x>___<y>' patch offset; "
                         'merge_patches needs patches named by tools/data/dota/split.py')
    return img_id.split('__')[0], int(match.group(1)), int(match.group(2))


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_iou_thrs(iou_thrs: Union[float, Sequence[float]], owner: str = 'DOTAMetric') -> List[float]:
    """``iou_thrs`` as a list of floats, each in (0, 1) and with its own ``AP<nn>`` key; else ValueError.

    mmrotate takes a float or a list; anything else (a string, 50 for 0.5, 1.5)
    would otherwise give wrong or all-zero APs without an error.

    Args:
        iou_thrs (float | Sequence[float]): One threshold or a non-empty sequence (or numpy array) of
            thresholds, each a number (not bool) in (0, 1); no two may round to the same ``AP<nn>`` key
            (``nn`` = round(100 * thr)).
        owner (str): Name of the metric that starts the error message. Defaults to 'DOTAMetric'.

    Returns:
        list[float]: The thresholds, in the given order.

    Raises:
        ValueError: naming ``owner``, when ``iou_thrs`` breaks the rules above.
    """
    def bad(why: str) -> ValueError:
        return ValueError(f'{owner}: iou_thrs must be a float or a sequence of floats in (0, 1), '
                          f'got {iou_thrs!r} ({why})')

    if _is_number(iou_thrs):
        thrs = [iou_thrs]
    elif isinstance(iou_thrs, (Sequence, np.ndarray)) and not isinstance(iou_thrs, str):
        thrs = list(np.asarray(iou_thrs).ravel()) if isinstance(iou_thrs, np.ndarray) else list(iou_thrs)
        if not thrs:
            raise bad('empty')
    else:
        raise bad(f'a {type(iou_thrs).__name__}')
    for v in thrs:
        if not _is_number(v):
            raise bad(f'{v!r} is not a number')
        if not 0 < v < 1:
            raise bad(f'{v!r} is outside (0, 1)')
    keys = [_ap_key(v) for v in thrs]
    if len(set(keys)) != len(keys):
        raise bad(f'two thresholds share a result key: {keys}')
    return [float(v) for v in thrs]


def _ap_key(thr: float) -> str:
    return f'AP{int(round(thr * 100)):02d}'


def _boxes_as(boxes, box_type: str) -> np.ndarray:
    if isinstance(boxes, BaseBoxes):
        from mmdet.structures.bbox import get_box_type
        own = get_box_type(type(boxes))[0]
        if own != box_type:
            boxes = boxes.convert_to(box_type)
    tensor = get_box_tensor(boxes) if isinstance(boxes, BaseBoxes) else torch.as_tensor(boxes)
    return tensor.detach().cpu().numpy()


@METRICS.register_module()
class DOTAMetric(BaseMetric):
    """Rotated-box mAP (DOTA protocol), and DOTA Task1 submission files.

    Each IoU threshold ``thr`` gives a result ``AP<nn>`` (nn = round(100 * thr)), ``mAP`` first.

    Args:
        iou_thrs (float | list[float]): IoU thresholds, each in (0, 1) (see :func:`check_iou_thrs`);
            ``mAP`` is the mean of their APs. Defaults to 0.5.
        scale_ranges (list[tuple], optional): ``(min_area, max_area)`` area ranges in squared pixels,
            evaluated apart (see :func:`eval_rbbox_map`): each range's AP is reported as
            ``AP<nn>_area_<min>_<max>``, and ``AP<nn>`` is their mean. Defaults to None (every box).
        metric (str | list[str]): only ``mAP`` (of a list, only the first entry is read).
            Defaults to 'mAP'.
        predict_box_type (str): ``rbox`` (cx, cy, w, h, angle) or ``qbox`` (four corners); predictions
            and ground truth are converted to it. Defaults to 'rbox'.
        format_only (bool): write ``Task1_<class>.txt`` files (and ``Task1.zip``) instead of
            evaluating; needs ``outfile_prefix``. Defaults to False.
        outfile_prefix (str, optional): folder of the submission files. Defaults to None.
        merge_patches (bool): merge patch results into whole images (offsets
            parsed from ``__x___y`` in the image id, per-class ``nms_rotated`` / ``nms_quadri``);
            used with ``format_only`` only. Defaults to False.
        iou_thr (float): NMS IoU of the patch merge (0.1 as in mmrotate). Defaults to 0.1.
        eval_mode (str): ``11points`` (VOC07) or ``area``. Defaults to '11points'.
        collect_device (str): Device used to collect results across ranks, ``'cpu'`` or ``'gpu'``
            (mmengine ``BaseMetric``). Defaults to 'cpu'.
        prefix (str, optional): Prefix of the result keys. Defaults to None (``default_prefix``,
            ``'dota'``).

    Raises:
        KeyError: ``metric`` other than ``'mAP'``.
        ValueError: bad ``iou_thrs``, ``predict_box_type`` or ``eval_mode``, or ``format_only``
            without ``outfile_prefix``; at evaluation, no image with a ground-truth box (see
            :meth:`evaluate`).
    """

    default_prefix: Optional[str] = 'dota'

    def __init__(self, iou_thrs: Union[float, List[float]] = 0.5,
                 scale_ranges: Optional[List[tuple]] = None, metric: Union[str, List[str]] = 'mAP',
                 predict_box_type: str = 'rbox', format_only: bool = False,
                 outfile_prefix: Optional[str] = None, merge_patches: bool = False,
                 iou_thr: float = 0.1, eval_mode: str = '11points', collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = check_iou_thrs(iou_thrs, type(self).__name__)
        self.scale_ranges = scale_ranges
        metric = metric if isinstance(metric, str) else metric[0]
        if metric != 'mAP':
            raise KeyError(f"metric should be 'mAP', got {metric!r}")
        self.metric = metric
        if predict_box_type not in ('rbox', 'qbox'):
            raise ValueError(f"predict_box_type must be 'rbox' or 'qbox', got {predict_box_type!r}")
        self.predict_box_type = predict_box_type
        if eval_mode not in ('11points', 'area'):
            raise ValueError(f"eval_mode must be '11points' or 'area', got {eval_mode!r}")
        self.use_07_metric = eval_mode == '11points'
        if format_only and outfile_prefix is None:
            raise ValueError('format_only=True needs outfile_prefix (where to write Task1 files)')
        self.format_only, self.outfile_prefix = format_only, outfile_prefix
        self.merge_patches, self.iou_thr = merge_patches, iou_thr

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        box_type = self.predict_box_type
        for sample in data_samples:
            gt, ignored = sample.get('gt_instances', {}), sample.get('ignored_instances', {})
            dim = 5 if box_type == 'rbox' else 8
            ann = dict(
                bboxes=_boxes_as(gt['bboxes'], box_type) if 'bboxes' in gt else np.zeros((0, dim)),
                labels=np.asarray(gt['labels'].cpu()) if 'labels' in gt else np.zeros(0, int),
                bboxes_ignore=_boxes_as(ignored['bboxes'], box_type) if 'bboxes' in ignored
                else np.zeros((0, dim)),
                labels_ignore=np.asarray(ignored['labels'].cpu()) if 'labels' in ignored
                else np.zeros(0, int))
            pred = sample['pred_instances']
            bboxes = _boxes_as(pred['bboxes'], box_type)
            scores = pred['scores'].detach().cpu().numpy()
            labels = pred['labels'].detach().cpu().numpy()
            result = dict(img_id=sample.get('img_id', osp.splitext(osp.basename(sample.get('img_path', '')))[0]),
                          bboxes=bboxes, scores=scores, labels=labels)
            self.results.append((ann, result))

    def _per_class(self, result: dict) -> List[np.ndarray]:
        return [np.hstack([result['bboxes'][result['labels'] == c],
                           result['scores'][result['labels'] == c][:, None]])
                for c in range(len(self.dataset_meta['classes']))]

    def merge_results(self, results: Sequence[dict]) -> Tuple[List[str], List[List[np.ndarray]]]:
        """Merge patch detections into their original images; per-class rotated NMS."""
        from mmcv.ops import nms_quadri, nms_rotated
        collector: Dict[str, list] = defaultdict(list)
        for result in results:
            name, x, y = parse_patch_name(str(result['img_id']))
            boxes = result['bboxes'].copy()
            if self.predict_box_type == 'rbox':
                boxes[:, :2] += (x, y)
            else:
                boxes += np.array([x, y] * 4)
            collector[name].append(np.hstack([result['labels'][:, None], boxes, result['scores'][:, None]]))
        names, merged = [], []
        for name, parts in collector.items():
            dets = np.concatenate(parts).astype(np.float32)
            per_class = []
            for c in range(len(self.dataset_meta['classes'])):
                cls = torch.from_numpy(dets[dets[:, 0] == c, 1:])
                if len(cls) == 0:
                    per_class.append(cls.numpy().reshape(0, dets.shape[1] - 1))
                    continue
                nms = nms_rotated if self.predict_box_type == 'rbox' else nms_quadri
                kept, _ = nms(cls[:, :-1], cls[:, -1], self.iou_thr)
                per_class.append(kept.numpy())
            names.append(name)
            merged.append(per_class)
        return names, merged

    def write_submission(self, names: Sequence[str], dets: Sequence[Sequence[np.ndarray]]) -> str:
        """Write ``Task1_<class>.txt`` (image score x1 y1 ... x4 y4) and zip them; returns the zip path."""
        os.makedirs(self.outfile_prefix, exist_ok=True)
        files = []
        for c, cls_name in enumerate(self.dataset_meta['classes']):
            path = osp.join(self.outfile_prefix, f'Task1_{cls_name}.txt')
            with open(path, 'w') as f:
                for name, per_class in zip(names, dets):
                    boxes = per_class[c]
                    if len(boxes) == 0:
                        continue
                    quads = rbox2qbox(torch.from_numpy(boxes[:, :5])).numpy() \
                        if self.predict_box_type == 'rbox' else boxes[:, :8]
                    for quad, score in zip(quads, boxes[:, -1]):
                        f.write(f'{name} {score:.2f} ' + ' '.join(f'{v:.2f}' for v in quad) + '\n')
            files.append(path)
        zip_path = osp.join(self.outfile_prefix, 'Task1.zip')
        with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, osp.basename(path))
        return zip_path

    def evaluate(self, size: int) -> dict:
        """Evaluate the processed samples; refuse when none of them has a ground-truth box.

        Images without any ground truth, all of them, mean the dataset was read without labels (a
        ``DOTADataset`` with ``ann_file=''``, as for DOTA test-dev): every AP would be 0.000. The count is
        summed over the processes first, so that every rank raises, not only the one that computes.

        Args:
            size (int): the number of samples of the whole dataset (mmengine's ``BaseMetric.evaluate``).

        Returns:
            dict: the metrics, with the prefix (``dota/mAP``, ``dota/AP50``...); empty with ``format_only``.

        Raises:
            ValueError: without ``format_only``, samples were processed and none has a ground-truth box
                (counting ignored ones).
        """
        if not self.format_only:
            counts = torch.tensor([len(self.results), sum(len(gt['labels']) + len(gt['labels_ignore'])
                                                          for gt, _ in self.results)], dtype=torch.long)
            all_reduce(counts)
            images, boxes = (int(v) for v in counts)
            if images > 0 and boxes == 0:
                self.results.clear()
                name = type(self).__name__
                raise ValueError(
                    f"{name}: none of the {images} images has a ground-truth box, so every AP would be 0.000: "
                    "the dataset was read without labels (a DOTADataset with ann_file='', e.g. "
                    "test_dataloader.dataset.ann_file, lists the images only). To evaluate, point the "
                    "dataset's ann_file at the folder of label txt files; to predict for a submission, set "
                    f"format_only=True and outfile_prefix=DIR in the evaluator (test_evaluator=dict(type='{name}', "
                    "format_only=True, outfile_prefix=DIR)), which writes the DOTA submission files "
                    "(Task1_<class>.txt and Task1.zip) into DIR.")
        return super().evaluate(size)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        gts, preds = zip(*results) if results else ((), ())
        if self.format_only:
            if self.merge_patches:
                names, dets = self.merge_results(preds)
            else:
                names, dets = [str(p['img_id']) for p in preds], [self._per_class(p) for p in preds]
            logger.info(f'DOTA submission written to {self.write_submission(names, dets)}')
            return OrderedDict()
        dets = [self._per_class(p) for p in preds]
        eval_results = OrderedDict()
        mean_aps = []
        for thr in self.iou_thrs:
            logger.info(f'\n{"-" * 15} iou_thr: {thr} {"-" * 15}')
            mean_ap, _ = eval_rbbox_map(dets, list(gts), scale_ranges=self.scale_ranges, iou_thr=thr,
                                        use_07_metric=self.use_07_metric,
                                        box_type=self.predict_box_type,
                                        dataset=list(self.dataset_meta['classes']), logger=logger)
            mean_aps.append(mean_ap)
            eval_results[_ap_key(thr)] = round(float(np.mean(mean_ap)), 4)
            if self.scale_ranges is not None:  # each range apart, so that their mean hides none of them
                for (lo, hi), ap in zip(self.scale_ranges, np.atleast_1d(mean_ap)):
                    eval_results[f'{_ap_key(thr)}_area_{lo:g}_{hi:g}'] = round(float(ap), 4)
        eval_results['mAP'] = round(float(np.mean(mean_aps)), 4)
        eval_results.move_to_end('mAP', last=False)
        return eval_results


@METRICS.register_module()
class HRSCMetric(DOTAMetric):
    """HRSC2016 protocol: mAP over IoU 0.50:0.05:0.95 (VOC07 AP), plus AP50 and AP75.

    Each threshold's AP is reported (``AP50``, ``AP55``, ..., ``AP95``), under the prefix ``'hrsc'``.

    Args:
        iou_thrs (float | list[float], optional): IoU thresholds. Defaults to None
            (0.50, 0.55, ..., 0.95).
        eval_mode (str): ``11points`` (VOC07) or ``area``. Defaults to '11points'.
        **kwargs: the other arguments of :class:`DOTAMetric`.
    """

    default_prefix: Optional[str] = 'hrsc'

    def __init__(self, iou_thrs: Union[float, List[float]] = None, eval_mode: str = '11points', **kwargs):
        if iou_thrs is None:
            iou_thrs = [round(0.5 + 0.05 * i, 2) for i in range(10)]
        super().__init__(iou_thrs=iou_thrs, eval_mode=eval_mode, **kwargs)
