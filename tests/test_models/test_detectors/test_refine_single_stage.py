"""RefineSingleStageDetector (R3Det, S2ANet): loss keys and stage weights, several refine stages, predict,
the count checks at build, and mmrotate's state-dict keys for the R50-FPN DOTA models (written by hand)."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from ..test_dense_heads.test_mmrotate_state_dict import fpn_keys, resnet50_keys

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs')
TOY = {
    'r3det': 'r3det/r3det-tiny-oc_r18-tiny_fpn_16e_toy-dota.py',
    'r3det_kld': 'kld/r3det-tiny-oc_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    's2anet': 's2anet/s2anet-le135_r18-tiny_fpn_16e_toy-dota.py',
    's2anet_kfiou': 'kfiou/s2anet-le135_r18-tiny_fpn_kfiou-ln_16e_toy-dota.py',
}
IMG = 96
GTS = [torch.tensor([[30.0, 40.0, 40.0, 16.0, 0.3], [70.0, 60.0, 30.0, 24.0, -0.7]]),
       torch.tensor([[48.0, 48.0, 50.0, 30.0, 1.2]])]
KEYS = {'loss_cls_init', 'loss_bbox_init', 'loss_cls_refine_0', 'loss_bbox_refine_0'}


def toy_cfg(name):
    cfg = Config.fromfile(osp.join(CONFIGS, TOY[name])).model
    cfg.test_cfg.update(score_thr=0.0, nms_pre=100, max_per_img=30)
    return cfg


def build(cfg, state=None):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    if state is not None:
        model.load_state_dict(state)
    return model


def batch():
    g = torch.Generator().manual_seed(1)
    inputs = torch.rand(2, 3, IMG, IMG, generator=g) * 255
    samples = []
    for gts in GTS:
        s = DetDataSample(metainfo=dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), batch_input_shape=(IMG, IMG),
                                        ori_shape=(2 * IMG, 2 * IMG), scale_factor=(0.5, 0.5)))
        s.gt_instances = InstanceData(bboxes=RotatedBoxes(gts), labels=torch.arange(len(gts)) % 3)
        samples.append(s)
    return inputs, samples


def summed(losses):
    return {k: sum(v) if isinstance(v, (list, tuple)) else v for k, v in losses.items()}


@pytest.mark.parametrize('name', list(TOY))
def test_loss_keys_finite_losses_and_gradients(name):
    model = build(toy_cfg(name))
    inputs, samples = batch()
    losses = summed(model.loss(inputs, samples))
    assert set(losses) == KEYS
    assert all(torch.isfinite(v) and v.item() > 0 for v in losses.values())
    sum(losses.values()).backward()
    for head in (model.bbox_head_init, model.bbox_head_refine[0]):
        assert head.retina_reg.weight.grad.abs().sum() > 0
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    # the refine stage trains its feature refine module; the first stage's boxes reach it without gradient
    refine = model.bbox_head_refine[0].feat_refine_module
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in refine.parameters())


@pytest.mark.parametrize('name', ['r3det', 's2anet'])
def test_stage_loss_weights_scale_the_refine_losses_only(name):
    """Same weights, stage weight 0.25 against 1.0: the refine losses are exactly 0.25 times the unweighted
    ones (each level), the first-stage losses unchanged."""
    cfg = toy_cfg(name)
    plain = build(cfg)
    cfg.train_cfg.stage_loss_weights = [0.25]
    weighted = build(cfg, plain.state_dict())
    inputs, samples = batch()
    a = plain.loss(inputs, copy.deepcopy(samples))
    b = weighted.loss(inputs, copy.deepcopy(samples))
    for key in KEYS:
        for x, y in zip(a[key], b[key]):
            if key.endswith('_init'):
                assert torch.equal(x, y), key
            else:
                torch.testing.assert_close(y, 0.25 * x, rtol=1e-6, atol=0)


def two_stage_cfg(name):
    cfg = toy_cfg(name)
    cfg.bbox_head_refine = [cfg.bbox_head_refine[0], copy.deepcopy(cfg.bbox_head_refine[0])]
    cfg.train_cfg.refine = [cfg.train_cfg.refine[0], copy.deepcopy(cfg.train_cfg.refine[0])]
    cfg.train_cfg.stage_loss_weights = [1.0, 0.5]
    return cfg


def test_second_refine_stage_starts_from_the_first_ones_boxes(monkeypatch):
    model = build(two_stage_cfg('r3det'))
    first, second = model.bbox_head_refine
    seen = {}
    refine_bboxes = first.refine_bboxes
    monkeypatch.setattr(first, 'refine_bboxes', lambda *a, **k: seen.setdefault('out', refine_bboxes(*a, **k)))
    loss_by_feat = second.loss_by_feat
    monkeypatch.setattr(second, 'loss_by_feat',
                        lambda *a, **k: (seen.setdefault('rois', k['rois']), loss_by_feat(*a, **k))[1])
    inputs, samples = batch()
    losses = summed(model.loss(inputs, samples))
    assert set(losses) == KEYS | {'loss_cls_refine_1', 'loss_bbox_refine_1'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert seen['rois'] is seen['out']
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, copy.deepcopy(samples))
    assert all(r.pred_instances.bboxes.shape[-1] == 5 for r in results)


@pytest.mark.parametrize('name', ['r3det', 's2anet'])
def test_predict_returns_rotated_boxes_rescaled(name):
    model = build(toy_cfg(name))
    model.eval()
    inputs, samples = batch()
    with torch.no_grad():
        results = model.predict(inputs, samples, rescale=True)
        outs = model._forward(inputs)
    assert len(results) == 2
    for res in results:
        pred = res.pred_instances
        assert pred.bboxes.shape == (len(pred), 5) and 0 < len(pred) <= 30
        assert bool((pred.bboxes[:, 2:4] > 0).all()) and bool(((pred.scores >= 0) & (pred.scores <= 1)).all())
        assert pred.bboxes[:, :2].max() > IMG          # rescaled to the original (2x) image
    cls_scores, bbox_preds = outs
    assert [tuple(c.shape) for c in cls_scores] == [(2, 3, IMG // s, IMG // s) for s in (8, 16, 32)]
    assert [b.shape[1] for b in bbox_preds] == [5, 5, 5]


@pytest.mark.parametrize('refine,weights,message', [
    (2, [1.0], r'train_cfg.stage_loss_weights has 1 entries for 2 bbox_head_refine heads'),
    (1, [1.0, 0.5], r'train_cfg.stage_loss_weights has 2 entries for 1 bbox_head_refine heads'),
    (1, None, r'train_cfg.stage_loss_weights has None entries for 1 bbox_head_refine heads'),
])
def test_refine_counts_must_match_stage_loss_weights(refine, weights, message):
    cfg = toy_cfg('r3det')
    cfg.bbox_head_refine = cfg.bbox_head_refine * refine
    cfg.train_cfg.refine = cfg.train_cfg.refine * refine
    cfg.train_cfg.stage_loss_weights = weights
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


def test_refine_train_cfgs_must_match_the_heads():
    cfg = two_stage_cfg('r3det')
    cfg.train_cfg.refine = cfg.train_cfg.refine[:1]
    with pytest.raises(ValueError, match=r'train_cfg.refine has 1 entries for 2 bbox_head_refine heads.*'
                                         r'stage_loss_weights'):
        MODELS.build(cfg)
    cfg = toy_cfg('r3det')
    cfg.bbox_head_refine = []
    with pytest.raises(ValueError, match='needs bbox_head_refine'):
        MODELS.build(cfg)
    # without train_cfg (testing) no counts are needed
    cfg = toy_cfg('r3det')
    cfg.train_cfg = None
    model = MODELS.build(cfg)
    assert model.num_refine_stages == 1
    with pytest.raises(ValueError, match='loss needs train_cfg'):
        model.loss(*batch())


# --- mmrotate checkpoints: the keys are written from mmrotate's module structure, not read from ours ---

def retina_tower(prefix, stacked, in_ch=256, feat=256, first_in=None):
    keys = {}
    for branch in ('cls_convs', 'reg_convs'):
        for i in range(stacked):
            c_in = (first_in if (first_in and branch == 'cls_convs' and i == 0) else (in_ch if i == 0 else feat))
            keys[f'{prefix}.{branch}.{i}.conv.weight'] = (feat, c_in, 3, 3)
            keys[f'{prefix}.{branch}.{i}.conv.bias'] = (feat,)
    return keys


def predictors(prefix, anchors, num_classes=15):
    return {f'{prefix}.retina_cls.weight': (anchors * num_classes, 256, 3, 3),
            f'{prefix}.retina_cls.bias': (anchors * num_classes,),
            f'{prefix}.retina_reg.weight': (anchors * 5, 256, 3, 3), f'{prefix}.retina_reg.bias': (anchors * 5,)}


def r3det_keys():
    """mmrotate R3Det (r3det-oc_r50_fpn_1x_dota): R3Head with 4 stacked convs and 9 anchors; one R3RefineHead
    with 4 stacked convs, 1 anchor and FRM (conv_5_1 5x1, conv_1_5 1x5, conv_1_1, all with bias)."""
    keys = {**resnet50_keys(), **fpn_keys()}
    keys.update(retina_tower('bbox_head_init', 4))
    keys.update(predictors('bbox_head_init', 9))
    p = 'bbox_head_refine.0'
    keys.update(retina_tower(p, 4))
    keys.update(predictors(p, 1))
    for name, k in (('conv_5_1', (5, 1)), ('conv_1_5', (1, 5)), ('conv_1_1', (1, 1))):
        keys[f'{p}.feat_refine_module.{name}.weight'] = (256, 256, *k)
        keys[f'{p}.feat_refine_module.{name}.bias'] = (256,)
    return keys


def s2anet_keys():
    """mmrotate S2ANet (s2anet-le135_r50_fpn_1x_dota): S2AHead with 2 stacked convs and 1 anchor; one
    S2ARefineHead: ORConv2d(256 -> 256 / 8, arf (1, 8)) with its weight (32, 256, 1, 3, 3), bias (32 x 8) and
    the ``indices`` buffer (1, 3, 3, 8); a cls tower whose first conv takes the 32 pooled channels; AlignConv's
    DeformConv2d (no bias)."""
    keys = {**resnet50_keys(), **fpn_keys()}
    keys.update(retina_tower('bbox_head_init', 2))
    keys.update(predictors('bbox_head_init', 1))
    p = 'bbox_head_refine.0'
    keys.update(retina_tower(p, 2, first_in=32))
    keys.update(predictors(p, 1))
    keys.update({f'{p}.or_conv.weight': (32, 256, 1, 3, 3), f'{p}.or_conv.bias': (256,),
                 f'{p}.or_conv.indices': (1, 3, 3, 8), f'{p}.feat_refine_module.deform_conv.weight': (256, 256, 3, 3)})
    return keys


@pytest.mark.parametrize('config,keys', [('r3det/r3det-oc_r50_fpn_1x_dota.py', r3det_keys),
                                         ('s2anet/s2anet-le135_r50_fpn_1x_dota.py', s2anet_keys)])
def test_mmrotate_checkpoint_keys_load(config, keys):
    model = MODELS.build(Config.fromfile(osp.join(CONFIGS, config)).model)
    expected = keys()
    ours = model.state_dict()
    assert set(ours) - set(expected) == set(), 'unexpected keys'
    assert set(expected) - set(ours) == set(), 'missing keys'
    for key, shape in expected.items():
        if shape is not None:
            assert tuple(ours[key].shape) == shape, key
    fake = {k: torch.zeros_like(v) for k, v in ours.items()}
    result = model.load_state_dict(fake, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
