"""ClsDataSample: mmpretrain's setters, labels stored as 0-d long tensors (PackGCDInputs' layout)."""
import numpy as np
import pytest
import torch

from visiondiv.structures import ClsDataSample, format_label


@pytest.mark.parametrize('value', [3, np.int64(3), torch.tensor(3), torch.tensor([3]), np.array([3]),
                                   torch.tensor(3, dtype=torch.uint8)])
def test_set_gt_label_formats(value):
    sample = ClsDataSample().set_gt_label(value)
    assert sample.gt_label.dtype == torch.long and sample.gt_label.shape == () and sample.gt_label.item() == 3


@pytest.mark.parametrize('value', [True, 1.5, torch.tensor([1, 2]), torch.tensor(1.0), np.array([0.5]), '3'])
def test_bad_labels_name_the_field(value):
    with pytest.raises(ValueError, match='gt_label must be one integer class index'):
        ClsDataSample().set_gt_label(value)
    with pytest.raises(ValueError, match='pred_label must be one integer'):
        ClsDataSample().set_pred_label(value)


def test_pred_fields():
    sample = ClsDataSample(metainfo=dict(img_path='a.png')).set_pred_score(torch.tensor([0.2, 0.8]))
    sample.set_pred_label(1)
    assert sample.pred_label.item() == 1 and torch.equal(sample.pred_score, torch.tensor([0.2, 0.8]))
    assert sample.img_path == 'a.png'
    with pytest.raises(ValueError, match=r'pred_score must be a 1-D'):
        sample.set_pred_score(torch.zeros(1, 2))


def test_format_label_keeps_device_and_key():
    assert format_label(torch.tensor([7]), 'x').shape == ()
    with pytest.raises(ValueError, match='^x must be'):
        format_label(None, 'x')
