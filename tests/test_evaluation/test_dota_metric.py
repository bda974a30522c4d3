import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from visiondiv.evaluation import DOTAMetric, HRSCMetric, parse_patch_name
from visiondiv.registry import METRICS
from visiondiv.structures.bbox import RotatedBoxes, rbox2qbox

CLASSES = ('plane', 'ship')


def sample(img_id, gt_boxes, gt_labels, pred_boxes, scores, labels):
    gt = InstanceData(bboxes=RotatedBoxes(torch.tensor(gt_boxes, dtype=torch.float32).reshape(-1, 5)),
                      labels=torch.tensor(gt_labels, dtype=torch.long))
    pred = InstanceData(bboxes=torch.tensor(pred_boxes, dtype=torch.float32).reshape(-1, 5),
                        scores=torch.tensor(scores, dtype=torch.float32),
                        labels=torch.tensor(labels, dtype=torch.long))
    return dict(img_id=img_id, gt_instances=gt, ignored_instances=InstanceData(), pred_instances=pred)


def test_dota_metric_values():
    metric = METRICS.build(dict(type='DOTAMetric', iou_thrs=[0.5, 0.75]))
    metric.dataset_meta = dict(classes=CLASSES)
    box = [50, 50, 20, 10, 0.3]
    # IoU of a 1-px shift along w of a 20x10 box: 19*10 / (400 - 190) = 0.905; 4-px: 160/240 = 0.667
    shift4 = [50 + 4 * np.cos(0.3), 50 + 4 * np.sin(0.3), 20, 10, 0.3]
    metric.process({}, [sample('a', [box, [10, 10, 4, 4, 0]], [0, 1], [shift4, [10, 10, 4, 4, 0]],
                               [0.9, 0.8], [0, 1])])
    res = metric.evaluate(1)
    assert res['dota/AP50'] == pytest.approx(1.0)
    assert res['dota/AP75'] == pytest.approx(0.5)       # ship matched, plane (IoU .667) missed
    assert res['dota/mAP'] == pytest.approx(0.75)


def test_hrsc_metric_thresholds():
    metric = HRSCMetric()
    metric.dataset_meta = dict(classes=('ship',))
    box = [50, 50, 20, 10, 0.0]
    shift4 = [54, 50, 20, 10, 0.0]   # IoU 2/3: a hit at 0.50..0.65, a miss at 0.70..0.95
    metric.process({}, [sample('a', [box], [0], [shift4], [0.9], [0])])
    res = metric.evaluate(1)
    assert res['hrsc/AP50'] == pytest.approx(1.0) and res['hrsc/AP75'] == pytest.approx(0.0)
    assert res['hrsc/mAP'] == pytest.approx(0.4)


def test_merge_patches_and_submission(tmp_path):
    assert parse_patch_name('P0003__1024__824___0') == ('P0003', 824, 0)
    with pytest.raises(ValueError, match='patch offset'):
        parse_patch_name('P0003')
    out = str(tmp_path / 'sub')
    metric = DOTAMetric(format_only=True, merge_patches=True, outfile_prefix=out)
    metric.dataset_meta = dict(classes=CLASSES)
    # the same plane seen by two overlapping patches -> one detection after the merge NMS
    metric.process({}, [sample('P0001__1024__0___0', [], [], [[900, 100, 40, 20, 0.1]], [0.9], [0]),
                        sample('P0001__1024__824___0', [], [], [[76, 100, 40, 20, 0.1]], [0.7], [0]),
                        sample('P0002__1024__0___824', [], [], [[10, 10, 8, 8, 0]], [0.5], [1])])
    assert metric.evaluate(3) == {}
    lines = open(osp.join(out, 'Task1_plane.txt')).read().splitlines()
    assert len(lines) == 1
    name, score, *coords = lines[0].split()
    assert name == 'P0001' and float(score) == pytest.approx(0.9)
    expected = rbox2qbox(torch.tensor([900, 100, 40, 20, 0.1])).numpy()
    np.testing.assert_allclose(np.array(coords, float), expected, atol=0.01)
    ship = open(osp.join(out, 'Task1_ship.txt')).read().split()
    assert ship[0] == 'P0002' and float(ship[3]) == pytest.approx(10 + 824 + 4, abs=0.01)
    assert osp.isfile(osp.join(out, 'Task1.zip'))


def test_bad_arguments():
    with pytest.raises(ValueError, match='eval_mode'):
        DOTAMetric(eval_mode='12points')
    with pytest.raises(ValueError, match='outfile_prefix'):
        DOTAMetric(format_only=True)


@pytest.mark.parametrize('thrs,keys', [(0.5, ['AP50']), ([0.5, 0.75], ['AP50', 'AP75']), ((0.55,), ['AP55']),
                                       (np.array([0.3, 0.95]), ['AP30', 'AP95'])])
def test_iou_thrs_float_or_sequence(thrs, keys):
    metric = METRICS.build(dict(type='DOTAMetric', iou_thrs=thrs))
    metric.dataset_meta = dict(classes=CLASSES)
    box = [50, 50, 20, 10, 0.3]
    metric.process({}, [sample('a', [box], [0], [box], [0.9], [0])])
    res = metric.evaluate(1)
    # a perfect detection: AP 1 at every threshold (the one class with ground truth)
    assert [k for k in res if k != 'dota/mAP'] == [f'dota/{k}' for k in keys]
    assert all(v == pytest.approx(1.0) for v in res.values())


@pytest.mark.parametrize('thrs,why', [
    ('0.5', 'a str'),                        # was split into characters
    (50, '50 is outside'),                   # a percentage: every AP silently 0
    (1.5, '1.5 is outside'),
    ([0.5, 1.0], '1.0 is outside'),
    ([0.5, 0.0], '0.0 is outside'),
    (float('nan'), 'nan is outside'),
    ([], 'empty'),
    (True, 'a bool'),
    ({0.5}, 'a set'),
    ([0.5, '0.7'], "'0.7' is not a number"),
    ([0.5, 0.501], 'share a result key'),    # both would be AP50
])
def test_iou_thrs_rejected_at_construction(thrs, why):
    with pytest.raises(ValueError) as err:
        DOTAMetric(iou_thrs=thrs)
    msg = str(err.value)
    assert msg.startswith('DOTAMetric: iou_thrs') and f'got {thrs!r}' in msg and why in msg
    with pytest.raises(ValueError, match='HRSCMetric: iou_thrs'):
        HRSCMetric(iou_thrs=thrs)


@pytest.mark.parametrize('cls', [DOTAMetric, HRSCMetric])
def test_images_without_any_ground_truth_are_refused(cls, tmp_path):
    """A set read without labels (ann_file='') used to score mAP 0.000; format_only still writes the files."""
    metric = cls()
    metric.dataset_meta = dict(classes=CLASSES)
    unlabelled = [sample(f'P000{i}', [], [], [[50, 50, 20, 10, 0.3]], [0.9], [0]) for i in range(3)]
    metric.process({}, unlabelled)
    with pytest.raises(ValueError) as err:
        metric.evaluate(3)
    msg = str(err.value)
    assert msg.startswith(f'{cls.__name__}: none of the 3 images has a ground-truth box')
    assert "ann_file=''" in msg and 'format_only=True' in msg and 'outfile_prefix' in msg and 'Task1' in msg
    assert metric.results == []
    # one labelled image is enough to evaluate (the others are images without objects)
    empty = [sample(f'P000{i}', [], [], [], [], []) for i in range(2)]
    metric.process({}, empty + [sample('P0002', [[50, 50, 20, 10, 0.3]], [0], [[50, 50, 20, 10, 0.3]], [0.9], [0])])
    assert metric.evaluate(3)[f'{cls.default_prefix}/AP50'] == pytest.approx(1.0)
    writer = cls(format_only=True, outfile_prefix=str(tmp_path / 'sub'))
    writer.dataset_meta = dict(classes=CLASSES)
    writer.process({}, unlabelled)
    assert writer.evaluate(3) == {} and (tmp_path / 'sub' / 'Task1.zip').is_file()


def test_scale_ranges_are_reported_apart_and_averaged():
    """The plane (20 x 10, area 200) is found, the ship (4 x 4, area 16) is missed: AP 0 in the small range, 1 in
    the large one; AP50 is their mean, and each range has its own key."""
    metric = METRICS.build(dict(type='DOTAMetric', scale_ranges=[(0, 64), (64, 1e5)]))
    metric.dataset_meta = dict(classes=CLASSES)
    box = [50, 50, 20, 10, 0.3]
    metric.process({}, [sample('a', [box, [10, 10, 4, 4, 0]], [0, 1], [box, [30, 30, 4, 4, 0]], [0.9, 0.8],
                               [0, 1])])
    res = metric.evaluate(1)
    # eval_rbbox_map averages each range over the classes with ground truth in it: small {ship: 0}, large {plane: 1}
    assert res['dota/AP50_area_0_64'] == pytest.approx(0.0)
    assert res['dota/AP50_area_64_100000'] == pytest.approx(1.0)
    assert res['dota/AP50'] == pytest.approx(0.5) and res['dota/mAP'] == pytest.approx(0.5)
