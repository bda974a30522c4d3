"""What Rotated FCOS and RTMDet-R share (visiondiv/models/dense_heads/_angle_branch.py): the decoded angle
merged into the box prediction, and ``use_hbbox_loss`` needing ``loss_angle``."""
import math

import pytest
import torch

from visiondiv.models.dense_heads._angle_branch import check_hbbox_loss_has_angle_loss, merge_decoded_angle
from visiondiv.registry import TASK_UTILS
from .test_rotated_fcos_head import build_head as build_fcos
from .test_rotated_rtmdet_head import build_head as build_rtmdet


def test_merge_appends_the_decoded_angle_per_location():
    g = torch.Generator().manual_seed(0)
    boxes = [torch.rand(2, 4, 3, 5, generator=g) * 50, torch.rand(2, 4, 2, 1, generator=g) * 50]
    # pseudo coder: the raw value is the angle
    angles = [torch.randn(2, 1, 3, 5, generator=g), torch.randn(2, 1, 2, 1, generator=g)]
    merged = merge_decoded_angle(TASK_UTILS.build(dict(type='PseudoAngleCoder')), boxes, angles)
    for m, b, a in zip(merged, boxes, angles):
        assert m.shape == (b.size(0), 5, *b.shape[2:])
        torch.testing.assert_close(m, torch.cat([b, a], 1))
    # CSL, le90, 1-degree bins: bin k decodes to (k + 0.5 - 90) degrees, chosen by the arg-max over channels
    csl = TASK_UTILS.build(dict(type='CSLCoder', angle_version='le90', omega=1, window='gaussian', radius=1))
    scores = torch.zeros(1, 180, 1, 2)
    scores[0, 30, 0, 0] = scores[0, 150, 0, 1] = 1.0
    merged = merge_decoded_angle(csl, [torch.ones(1, 4, 1, 2)], [scores])[0]
    torch.testing.assert_close(merged[0, 4, 0], torch.tensor([-59.5, 60.5]) * math.pi / 180)
    assert (merged[:, :4] == 1).all()


def test_hbbox_loss_needs_an_angle_loss_in_both_heads():
    check_hbbox_loss_has_angle_loss('Head', False, None)
    check_hbbox_loss_has_angle_loss('Head', True, dict(type='mmdet.L1Loss'))
    message = (r"use_hbbox_loss=True needs loss_angle \(the horizontal box loss does not see the angle\), "
               r"e.g. loss_angle=dict\(type='mmdet.L1Loss', loss_weight=0.2\)")
    with pytest.raises(ValueError, match='^Head: ' + message):
        check_hbbox_loss_has_angle_loss('Head', True, None)
    with pytest.raises(ValueError, match='^RotatedFCOSHead: ' + message):
        build_fcos(use_hbbox_loss=True, loss_bbox=dict(type='mmdet.IoULoss'), loss_angle=None)
    with pytest.raises(ValueError, match='^RotatedRTMDetSepBNHead: ' + message):
        build_rtmdet(use_hbbox_loss=True, loss_bbox=dict(type='mmdet.GIoULoss'))
    with pytest.raises(ValueError, match='^RotatedRTMDetHead: ' + message):
        build_rtmdet(sep=False, use_hbbox_loss=True, loss_bbox=dict(type='mmdet.GIoULoss'))
