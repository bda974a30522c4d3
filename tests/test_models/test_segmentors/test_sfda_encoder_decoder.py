import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmseg.structures import SegDataSample

from visiondiv.engine import check_source_free
from visiondiv.registry import MODELS


def tiny_unet(**extra):
    return ConfigDict(
        type='SFDAEncoderDecoder',
        data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size_divisor=16),
        backbone=dict(type='mmseg.UNet', in_channels=1, base_channels=8, num_stages=3, strides=(1, 1, 1),
                      enc_num_convs=(2, 2, 2), dec_num_convs=(2, 2), downsamples=(True, True),
                      enc_dilations=(1, 1, 1), dec_dilations=(1, 1), upsample_cfg=dict(type='mmseg.InterpConv')),
        decode_head=dict(type='mmseg.FCNHead', in_channels=8, in_index=2, channels=8, num_convs=1, num_classes=3,
                         concat_input=False, loss_decode=dict(type='mmseg.CrossEntropyLoss', loss_weight=1.0)),
        adapt_losses=[dict(type='EntropyLoss'), dict(type='ClassRatioKLLoss', prior=[0.8, 0.15, 0.05])],
        train_cfg=dict(), test_cfg=dict(mode='whole'), **extra)


def step(model):
    x = torch.randn(2, 1, 32, 32)
    samples = [SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32))) for _ in range(2)]
    losses = model.loss(x, samples)
    sum(losses.values()).backward()
    return losses


def test_adaptation_losses_need_no_labels():
    model = MODELS.build(tiny_unet())
    losses = step(model)
    assert set(losses) == {'loss_ent', 'loss_ratio_kl'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decode_head.conv_seg.parameters())


def test_tent_updates_only_batchnorm_affine():
    model = MODELS.build(tiny_unet(trainable='norm_affine'))
    step(model)
    for name, p in model.named_parameters():
        assert p.requires_grad == (p.grad is not None)
        if not p.requires_grad:
            assert p.grad is None
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.endswith(('weight', 'bias')) for n in trainable)
    convs = [n for n, p in model.named_parameters() if 'conv.weight' in n]
    assert convs and not any(dict(model.named_parameters())[n].requires_grad for n in convs)
    with pytest.raises(ValueError, match='trainable'):
        MODELS.build(tiny_unet(trainable='heads'))


def test_tent_with_groupnorm_updates_only_groupnorm_affine():
    cfg = tiny_unet(trainable='norm_affine')
    cfg.backbone.norm_cfg = dict(type='GN', num_groups=4)
    cfg.decode_head.norm_cfg = dict(type='GN', num_groups=4)
    model = MODELS.build(cfg)
    step(model)
    gn = {id(p) for m in model.modules() if isinstance(m, torch.nn.GroupNorm) for p in m.parameters()}
    assert gn
    for p in model.parameters():
        assert p.requires_grad == (id(p) in gn)
        assert (p.grad is not None) == (id(p) in gn)
    no_norm = tiny_unet(trainable='norm_affine')
    no_norm.backbone.norm_cfg = None
    no_norm.decode_head.norm_cfg = None
    with pytest.raises(ValueError, match='no normalisation layer'):
        MODELS.build(no_norm)


def test_source_data_refused():
    base = dict(train_dataloader=dict(dataset=dict(type='MedicalSliceDataset', data_root='t', label_dir=None,
                                                   domain='target')))
    check_source_free(Config(base))
    bad = Config(base)
    bad.train_dataloader.dataset.domain = 'source'
    with pytest.raises(ValueError, match="train_dataloader.dataset' is a source dataset"):
        check_source_free(bad)
    labelled = Config(base)
    labelled.train_dataloader.dataset.label_dir = 'labels'
    with pytest.raises(ValueError, match='label_dir'):
        check_source_free(labelled)
    with pytest.raises(ValueError, match='source_dataloader'):
        check_source_free(Config(dict(base, source_dataloader=dict())))
