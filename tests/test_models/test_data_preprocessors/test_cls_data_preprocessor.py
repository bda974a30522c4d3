"""ClsDataPreprocessor: stacking, mean/std/to_rgb as mmpretrain's, gt_label checked and kept 0-d."""
import pytest
import torch
from mmengine.structures import BaseDataElement

from visiondiv.registry import MODELS
from visiondiv.structures import ClsDataSample


def batch(n=2, labels=(1, 2)):
    torch.manual_seed(0)
    imgs = [torch.randint(0, 256, (3, 4, 5), dtype=torch.uint8) for _ in range(n)]
    return dict(inputs=imgs, data_samples=[ClsDataSample().set_gt_label(label) for label in labels])


def test_normalise_and_to_rgb():
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    pre = MODELS.build(dict(type='ClsDataPreprocessor', mean=mean, std=std, to_rgb=True, num_classes=3))
    data = batch()
    out = pre(data)
    stacked = torch.stack(data['inputs']).float().flip(1)
    expected = (stacked - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert out['inputs'].dtype == torch.float32 and out['inputs'].shape == (2, 3, 4, 5)
    torch.testing.assert_close(out['inputs'], expected)
    assert [s.gt_label.item() for s in out['data_samples']] == [1, 2]


def test_no_normalisation_by_default():
    out = MODELS.build(dict(type='ClsDataPreprocessor'))(batch())
    assert out['inputs'].max() > 1 and out['inputs'].dtype == torch.float32


def test_labels_gathered_and_checked():
    pre = MODELS.build(dict(type='ClsDataPreprocessor', num_classes=3))
    data = batch()
    data['data_samples'] = [BaseDataElement(gt_label=torch.tensor([2])), BaseDataElement(gt_label=0)]
    out = pre(data)
    assert [tuple(s.gt_label.shape) for s in out['data_samples']] == [(), ()]
    with pytest.raises(ValueError, match=r'data sample 1: gt_label 3 must be in 0..2 \(num_classes=3\)'):
        pre(batch(labels=(0, 3)))
    with pytest.raises(ValueError, match=r'gt_label -1 must be a non-negative index'):
        MODELS.build(dict(type='ClsDataPreprocessor'))(batch(labels=(0, -1)))


def test_errors():
    with pytest.raises(ValueError, match='give both mean and std'):
        MODELS.build(dict(type='ClsDataPreprocessor', mean=[0.0]))
    with pytest.raises(ValueError, match='std finite and > 0'):
        MODELS.build(dict(type='ClsDataPreprocessor', mean=[0.0], std=[0.0]))
    pre = MODELS.build(dict(type='ClsDataPreprocessor', mean=[0.0, 0.0], std=[1.0, 1.0]))
    with pytest.raises(ValueError, match='mean/std have 2/2 values for 3-channel'):
        pre(batch())
    data = batch()
    data['inputs'][1] = data['inputs'][1][:, :3]
    with pytest.raises(ValueError, match='differ in shape'):
        pre(data)
