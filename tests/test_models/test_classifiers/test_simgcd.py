"""SimGCD / LegoGCD: the weighting of the terms, which samples each term sees, prediction, refusals."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from visiondiv.registry import MODELS

NUM_CLASSES, NUM_KNOWN = 4, 2


def build(type_='SimGCD', **kwargs):
    cfg = dict(type=type_, num_known_classes=NUM_KNOWN,
               data_preprocessor=dict(type='GCDDataPreprocessor', mean=[0.0], std=[1.0]),
               backbone=dict(type='SmallConvNet', in_channels=1, widths=(8, 16)),
               head=dict(type='DINOHead', in_channels=16, num_classes=NUM_CLASSES, hidden_channels=32,
                         bottleneck_channels=8))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.double()


def batch(labels=(0, 1, 2, 3, 1, 0), labelled=(True, True, False, False, False, True)):
    g = torch.Generator().manual_seed(1)
    inputs = torch.rand(len(labels), 2, 1, 8, 8, generator=g, dtype=torch.float64)
    samples = [BaseDataElement(gt_label=torch.tensor(y), metainfo=dict(labelled=lab, old=y < NUM_KNOWN))
               for y, lab in zip(labels, labelled)]
    return inputs, samples


def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def test_supervised_terms_use_the_labelled_samples_of_both_views_with_weight_lambda():
    model = build()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    _, logits = model.head(model.extract_feat(torch.cat([inputs[:, 0], inputs[:, 1]])))
    z = logits.detach().numpy() / 0.1
    idx = [0, 1, 5, 6, 7, 11]  # labelled samples 0, 1, 5 in view 0 then in view 1
    y = np.array([0, 1, 0, 0, 1, 0])
    ce = -log_softmax(z[idx])[np.arange(6), y].mean()
    assert losses['loss_cls'].item() == pytest.approx(0.35 * ce, rel=1e-10)
    assert set(losses) == {'loss_cls', 'loss_supcon', 'loss_cluster', 'loss_me_max', 'loss_contrastive'}
    # the unsupervised terms carry 1 - lambda
    assert losses['loss_me_max'].item() == pytest.approx(0.65 * model.loss_me_max(logits).item(), rel=1e-10)


def test_a_batch_without_labelled_samples_trains():
    model = build()
    inputs, samples = batch(labelled=(False, ) * 6)
    losses = model.loss(inputs, samples)
    assert losses['loss_cls'].item() == 0.0 and losses['loss_supcon'].item() == 0.0
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_legogcd_adds_ler_on_unlabelled_samples_and_dual_view_kl_in_the_clustering_group():
    model = build('LegoGCD', loss_ler=dict(type='LocalEntropyLoss', thr=0.0))
    assert model.loss_ler.num_classes == NUM_CLASSES and model.loss_ler.num_known_classes == NUM_KNOWN
    inputs, samples = batch()
    model.train()
    losses = model.loss(inputs, samples)
    _, logits = model.head(model.extract_feat(torch.cat([inputs[:, 0], inputs[:, 1]])))
    unlabelled = torch.tensor([False, False, True, True, True, False] * 2)
    expected_selected = int(model.loss_ler.selection(logits, unlabelled).sum())
    assert losses['ler_selected'].item() == expected_selected
    assert expected_selected <= 6  # only the 6 unlabelled view-samples may be selected
    assert losses['loss_dual_view_kl'].item() == pytest.approx(0.65 * model.loss_dual_view_kl(logits).item(), rel=1e-10)
    # q_hat moved away from uniform after the training forward
    assert not torch.allclose(model.loss_ler.qhat, torch.full((NUM_CLASSES, ), 0.25, dtype=torch.float64))
    ablation = build('LegoGCD', loss_ler=None)
    assert 'loss_ler' not in ablation.loss(inputs, samples) and ablation.loss_ler is None


def test_predict_classifies_view_zero():
    model = build().eval()
    inputs, samples = batch()
    out = model.predict(inputs, samples)
    _, logits = model.head(model.extract_feat(inputs[:, 0]))
    assert [int(s.pred_label) for s in out] == logits.argmax(-1).tolist()
    assert out[0].pred_score.sum().item() == pytest.approx(1.0)


def test_labelled_samples_of_novel_classes_are_refused():
    model = build()
    inputs, samples = batch(labels=(0, 3, 2, 3, 1, 0))
    with pytest.raises(ValueError, match=r'classes \[3\] outside the known classes 0..1'):
        model.loss(inputs, samples)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='num_known_classes'):
        build(num_known_classes=5)
    with pytest.raises(ValueError, match='sup_weight'):
        build(sup_weight=1.5)
    with pytest.raises(ValueError, match='loss_ler'):
        build(loss_ler=dict(type='LocalEntropyLoss', num_classes=4, num_known_classes=3))


def test_dual_view_kl_mode_shorthand():
    assert build('LegoGCD', dual_view_kl_mode='official').loss_dual_view_kl.mode == 'official'
    assert build('LegoGCD').loss_dual_view_kl.mode == 'correct'
    with pytest.raises(ValueError, match='contradicts'):
        build('LegoGCD', dual_view_kl_mode='official', loss_dual_view_kl=dict(type='DualViewKLLoss', mode='correct'))
    with pytest.raises(ValueError, match='no dual-view KL term'):
        build('LegoGCD', dual_view_kl_mode='official', loss_dual_view_kl=None)
