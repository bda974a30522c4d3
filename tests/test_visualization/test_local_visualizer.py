"""RotLocalVisualizer draws on the image's own extent (issue 21, item 8): a rotated box crossing the border
made matplotlib autoscale the view, and the PNGs of the demo and of tools/test.py --show-dir got white
margins with the image shifted."""
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from visiondiv.structures.bbox import RotatedBoxes
from visiondiv.visualization import RotLocalVisualizer


def test_box_crossing_the_border_leaves_the_image_in_place(tmp_path):
    image = np.zeros((60, 80, 3), np.uint8)
    image[:, :40] = (30, 60, 90)
    image[:, 40:] = (100, 110, 120)
    crossing = RotatedBoxes(torch.tensor([[75., 30., 30., 10., 0.3]]))       # its right end leaves the image
    sample = DetDataSample()
    sample.gt_instances = InstanceData(bboxes=crossing, labels=torch.tensor([0]))
    sample.pred_instances = InstanceData(bboxes=crossing, labels=torch.tensor([0]), scores=torch.tensor([0.9]))
    vis = RotLocalVisualizer(name='edge_test')
    vis.dataset_meta = dict(classes=('ship',))
    # what tools/test.py --show-dir draws: ground truth left, prediction right
    vis.add_datasample('x', image, sample, draw_gt=True, show=False, pred_score_thr=0.3,
                       out_file=str(tmp_path / 'x.png'))
    drawn = vis.get_image()
    assert drawn.shape == (60, 160, 3)
    for half in (drawn[:, :80], drawn[:, 80:]):
        assert np.array_equal(half[:, :40], image[:, :40])                   # far from the box: untouched
        assert not np.array_equal(half[:, 50:], image[:, 50:])               # the box is drawn
