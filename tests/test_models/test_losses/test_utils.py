"""The box-input declaration of the box losses and a head's ``loss_bbox_type`` (visiondiv/models/losses/utils.py)."""
import pytest
from torch import nn

from visiondiv.models.losses import GDLoss, KFLoss, box_loss_input, declared_box_input
from visiondiv.models.losses.utils import resolve_loss_bbox_type
from visiondiv.registry import MODELS


class _Declares(nn.Module):
    def __init__(self, box_input):
        super().__init__()
        self.box_input = box_input


def test_declared_box_input():
    assert declared_box_input(GDLoss()) == 'decoded' and declared_box_input(KFLoss()) == 'both'
    assert declared_box_input(MODELS.build(dict(type='mmdet.L1Loss'))) is None
    with pytest.raises(ValueError, match="_Declares.box_input must be one of .* got 'deltas'"):
        declared_box_input(_Declares('deltas'))


@pytest.mark.parametrize('loss,reg_decoded_bbox,expected', [
    (GDLoss(), None, 'decoded'), (GDLoss(), True, 'decoded'),
    (KFLoss(), None, 'both'), (KFLoss(), False, 'both'),
    (nn.L1Loss(), None, 'encoded'), (nn.L1Loss(), False, 'encoded'), (nn.L1Loss(), True, 'decoded'),
    (_Declares('encoded'), False, 'encoded')])
def test_box_loss_input(loss, reg_decoded_bbox, expected):
    assert box_loss_input(loss, reg_decoded_bbox) == expected


@pytest.mark.parametrize('loss,reg_decoded_bbox', [(GDLoss(), False), (KFLoss(), True), (_Declares('encoded'), True)])
def test_contradiction_names_both(loss, reg_decoded_bbox):
    with pytest.raises(ValueError, match=f'reg_decoded_bbox={reg_decoded_bbox} contradicts loss_bbox '
                                         f'{type(loss).__name__}, which takes box_input='):
        box_loss_input(loss, reg_decoded_bbox)


@pytest.mark.parametrize('loss,loss_bbox_type,reg_decoded_bbox,expected', [
    (nn.L1Loss(), None, None, ('encoded', 'normal')), (nn.L1Loss(), None, True, ('decoded', 'normal')),
    (GDLoss(), None, None, ('decoded', 'normal')), (GDLoss(), 'normal', True, ('decoded', 'normal')),
    (KFLoss(), None, None, ('both', 'kfiou')), (KFLoss(), 'kfiou', False, ('both', 'kfiou'))])
def test_resolve_loss_bbox_type(loss, loss_bbox_type, reg_decoded_bbox, expected):
    assert resolve_loss_bbox_type(loss, loss_bbox_type, reg_decoded_bbox) == expected


def test_resolve_loss_bbox_type_names_the_key():
    with pytest.raises(ValueError, match="loss_bbox_type must be 'normal' or 'kfiou', got 'gd'"):
        resolve_loss_bbox_type(GDLoss(), 'gd')
    with pytest.raises(ValueError, match="loss_bbox_type='kfiou' contradicts loss_bbox GDLoss, which takes "
                                         "box_input='decoded'; drop loss_bbox_type"):
        resolve_loss_bbox_type(GDLoss(), 'kfiou')
    with pytest.raises(ValueError, match="loss_bbox_type='normal' contradicts loss_bbox KFLoss"):
        resolve_loss_bbox_type(KFLoss(), 'normal')
    with pytest.raises(ValueError, match='reg_decoded_bbox=False contradicts loss_bbox GDLoss'):
        resolve_loss_bbox_type(GDLoss(), None, False)
