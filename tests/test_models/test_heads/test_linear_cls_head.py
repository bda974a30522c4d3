"""LinearClsHead: mmpretrain's interface (forward / loss / predict), state-dict names, label and width checks."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement
from torch import nn

from visiondiv.registry import MODELS
from visiondiv.structures import ClsDataSample


def head(**kwargs):
    return MODELS.build(dict(dict(type='LinearClsHead', num_classes=4, in_channels=3), **kwargs))


def samples(*labels):
    return [ClsDataSample().set_gt_label(label) for label in labels]


def test_forward_uses_last_feature_and_fc_names():
    h = head()
    assert set(h.state_dict()) == {'fc.weight', 'fc.bias'} and h.num_classes == 4
    first, last = torch.randn(2, 7), torch.randn(2, 3)
    torch.testing.assert_close(h((first, last)), F.linear(last, h.fc.weight, h.fc.bias))
    torch.testing.assert_close(h(last), h([last]))


def test_loss_is_cross_entropy():
    torch.manual_seed(0)
    feats = (torch.randn(3, 3), )
    for loss in (dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), nn.CrossEntropyLoss()):
        h = head(loss=loss)
        losses = h.loss(feats, samples(0, 3, 1))
        assert set(losses) == {'loss'}
        torch.testing.assert_close(losses['loss'], F.cross_entropy(h(feats), torch.tensor([0, 3, 1])))
    weighted = head(loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=0.5))
    torch.testing.assert_close(weighted.loss(feats, samples(0, 3, 1))['loss'],
                               0.5 * F.cross_entropy(weighted(feats), torch.tensor([0, 3, 1])))


def test_cal_acc():
    h = head(cal_acc=True, topk=(1, 2))
    with torch.no_grad():
        h.fc.weight.copy_(torch.eye(4, 3))
        h.fc.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.5]))
    feats = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # logits [2,1,0,.5], [0,0,1,.5]
    losses = h.loss(feats, samples(1, 3))
    assert losses['accuracy_top-1'].item() == 0.0 and losses['accuracy_top-2'].item() == 100.0


def test_predict():
    h = head()
    feats = (torch.randn(2, 3), )
    out = h.predict(feats)
    assert all(isinstance(s, ClsDataSample) for s in out)
    scores = torch.stack([s.pred_score for s in out])
    torch.testing.assert_close(scores.sum(1), torch.ones(2))
    torch.testing.assert_close(scores, h(feats).softmax(1))
    assert [s.pred_label.item() for s in out] == h(feats).argmax(1).tolist()
    given = [BaseDataElement(gt_label=torch.tensor(1)), None]
    out = h.predict(feats, given)
    assert out[0] is given[0] and out[0].gt_label.item() == 1 and 'pred_score' in out[1]
    with pytest.raises(ValueError, match='3 data samples for a batch of 2'):
        h.predict(feats, [None] * 3)


def test_labels_outside_the_classes_are_refused():
    h = head()
    with pytest.raises(ValueError, match=r'gt_label \[4\] outside 0..3 \(num_classes=4\), in data samples \[1\]'):
        h.loss(torch.randn(2, 3), samples(0, 4))
    with pytest.raises(ValueError, match=r'gt_label \[-1\]'):
        h.loss(torch.randn(2, 3), samples(0, -1))
    with pytest.raises(KeyError, match='data sample 0 has no gt_label'):
        h.loss(torch.randn(1, 3), [BaseDataElement()])
    with pytest.raises(ValueError, match='data sample 0: gt_label must be one integer'):
        h.loss(torch.randn(1, 3), [BaseDataElement(gt_label=torch.tensor(0.5))])


def test_in_channels_mismatch_is_named():
    h = head()
    with pytest.raises(ValueError, match=r'features of shape \(2, 5\) do not match in_channels=3'):
        h(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r'in_channels=3.*GlobalAveragePooling'):
        h((torch.randn(2, 3, 4, 4), ))


@pytest.mark.parametrize('kwargs, err, match', [
    (dict(num_classes=0), ValueError, 'num_classes must be a positive int'),
    (dict(in_channels=True), ValueError, 'in_channels must be a positive int'),
    (dict(topk=(0, )), ValueError, 'topk'),
    (dict(topk=(1, 5), cal_acc=True), ValueError, 'needs at least 5 classes'),
    (dict(loss='ce'), TypeError, 'loss must be'),
])
def test_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        head(**kwargs)
