"""ImageClassifier: mmpretrain's classifier with CIFARResNet / mmdet's ResNet, the interface distillers use."""
import pytest
import torch
from mmengine.structures import BaseDataElement

from visiondiv.registry import MODELS
from visiondiv.structures import ClsDataSample


def resnet8x4(num_classes=100, **kwargs):
    return MODELS.build(dict(type='ImageClassifier', backbone=dict(type='CIFARResNet', arch='resnet8x4'),
                             neck=dict(type='GlobalAveragePooling'),
                             head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=256), **kwargs))


def batch(labels=(3, 99)):
    torch.manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8) for _ in labels],
                data_samples=[ClsDataSample().set_gt_label(label) for label in labels])


def test_forward_backward_resnet8x4():
    model = resnet8x4(data_preprocessor=dict(mean=[129.3, 124.1, 112.4], std=[68.2, 65.4, 70.4]))
    assert type(model.data_preprocessor).__name__ == 'ClsDataPreprocessor'
    assert sum(p.numel() for p in model.parameters()) == 1_233_540
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss'} and losses['loss'].ndim == 0
    losses['loss'].backward()
    assert all(p.grad is not None for p in model.parameters())
    feats = model.extract_feat(data['inputs'])
    assert isinstance(feats, tuple) and len(feats) == 1 and feats[0].shape == (2, 256)
    logits = model.head(feats)
    assert logits.shape == (2, 100) and model.head.num_classes == 100
    torch.testing.assert_close(model(data['inputs']), logits)
    assert set(model.head.loss(feats, data['data_samples'])) == {'loss'}
    assert model.extract_feat(data['inputs'], stage='backbone')[0].shape == (2, 256, 8, 8)
    assert model.extract_feat(data['inputs'], stage='pre_logits').shape == (2, 256)


def test_predict_scores_sum_to_one():
    model = resnet8x4().eval()
    data = model.data_preprocessor(batch(), False)
    out = model(**data, mode='predict')
    assert len(out) == 2 and out[0].gt_label.item() == 3
    scores = torch.stack([s.pred_score for s in out])
    assert scores.shape == (2, 100)
    torch.testing.assert_close(scores.sum(1), torch.ones(2))
    assert [s.pred_label.item() for s in out] == scores.argmax(1).tolist()
    assert all(isinstance(s, ClsDataSample) for s in model.predict(data['inputs']))


def test_train_step_through_the_runner_api():
    from mmengine.optim import OptimWrapper
    model = resnet8x4()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log = model.train_step(batch(), wrapper)
    assert set(log) == {'loss'} and torch.isfinite(log['loss'])
    assert len(model.val_step(batch())) == 2


def test_bad_inputs():
    model = resnet8x4()
    data = model.data_preprocessor(batch(), True)
    data['data_samples'][1] = BaseDataElement(gt_label=torch.tensor(100))
    with pytest.raises(ValueError, match=r'gt_label \[100\] outside 0..99'):
        model(**data, mode='loss')
    mismatch = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='CIFARResNet', arch='resnet8x4'),
                                 neck=dict(type='GlobalAveragePooling'),
                                 head=dict(type='LinearClsHead', num_classes=10, in_channels=64)))
    with pytest.raises(ValueError, match=r'\(2, 256\) do not match in_channels=64'):
        mismatch(data['inputs'])
    with pytest.raises(RuntimeError, match='invalid mode'):
        model(data['inputs'], mode='logits')
    with pytest.raises(ValueError, match='train_cfg'):
        resnet8x4(train_cfg=dict(augments=dict(type='Mixup', alpha=0.2)))


def test_without_head():
    model = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='CIFARResNet', arch='resnet8'),
                              neck=dict(type='GlobalAveragePooling')))
    out = model(torch.randn(2, 3, 32, 32))
    assert isinstance(out, tuple) and out[0].shape == (2, 64)
    with pytest.raises(ValueError, match="mode='loss' needs a head"):
        model(torch.randn(2, 3, 32, 32), [], mode='loss')


@pytest.mark.parametrize('depth, channels', [(18, 512), (34, 512), (50, 2048)])
def test_mmdet_resnet_backbone(depth, channels):
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmdet.ResNet', depth=depth, num_stages=4, out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=channels)))
    assert type(model.backbone).__module__.startswith('mmdet.')
    if depth == 18:  # one forward; the others only build
        model.eval()
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)
