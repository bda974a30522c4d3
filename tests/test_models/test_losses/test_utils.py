"""The box-input declaration of the box losses (visiondiv/models/losses/utils.py)."""
import pytest
from torch import nn

from visiondiv.models.losses import GDLoss, KFLoss, box_loss_input, declared_box_input
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
