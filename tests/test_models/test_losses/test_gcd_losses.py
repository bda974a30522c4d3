"""SimGCD / LegoGCD losses against float64 references written here (loops over samples, SimGCD's formulas)."""
import math

import numpy as np
import pytest
import torch

from visiondiv.models.losses import (CrossViewDistillLoss, DualViewKLLoss, InfoNCELoss, LocalEntropyLoss,
                                     MeanEntropyLoss, SupConLoss)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_supcon_matches_a_loop_over_anchors():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(5, 2, 4))
    labels = np.array([0, 1, 0, 2, 1])
    t = 0.5
    got = SupConLoss(temperature=t, base_temperature=0.07)(torch.tensor(feats), torch.tensor(labels))
    # reference: anchors are all 10 view embeddings; positives share the label, self excluded
    f = normalize(np.concatenate([feats[:, 0], feats[:, 1]]))
    lab = np.concatenate([labels, labels])
    per_anchor = []
    for i in range(10):
        others = [j for j in range(10) if j != i]
        denom = np.log(sum(np.exp(f[i] @ f[j] / t) for j in others))
        pos = [j for j in others if lab[j] == lab[i]]
        per_anchor.append(-np.mean([f[i] @ f[j] / t - denom for j in pos]) * t / 0.07)
    assert got.item() == pytest.approx(np.mean(per_anchor), rel=1e-10)


def test_supcon_on_no_labelled_sample_is_zero_with_a_graph():
    feats = torch.zeros(0, 2, 3, requires_grad=True)
    loss = SupConLoss()(feats, torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0.0 and loss.requires_grad


def test_info_nce_matches_simgcd_logits_and_cross_entropy():
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(6, 5))  # 2 views of 3 images, view-major
    got = InfoNCELoss(temperature=0.7)(torch.tensor(feats))
    f = normalize(feats)
    n, b = 6, 3
    losses = []
    for i in range(n):
        pos = (i + b) % n
        negatives = [j for j in range(n) if j not in (i, pos)]
        logits = np.array([f[i] @ f[pos]] + [f[i] @ f[j] for j in negatives]) / 0.7
        losses.append(-log_softmax(logits)[0])  # SimGCD: positives first, label 0
    assert got.item() == pytest.approx(np.mean(losses), rel=1e-10)


def test_info_nce_refuses_an_odd_batch():
    with pytest.raises(ValueError, match='2 views'):
        InfoNCELoss()(torch.zeros(5, 3))


def test_cross_view_distill_loss_matches_the_official_formula():
    rng = np.random.default_rng(2)
    student = rng.normal(size=(8, 6))
    teacher = rng.normal(size=(8, 6))
    loss = CrossViewDistillLoss(student_temp=0.1, teacher_temp=0.05)
    got = loss(torch.tensor(student), torch.tensor(teacher))
    s = np.split(log_softmax(student / 0.1), 2)
    q = np.split(softmax(teacher / 0.05), 2)
    ref = 0.5 * (np.mean(-(q[0] * s[1]).sum(-1)) + np.mean(-(q[1] * s[0]).sum(-1)))
    assert got.item() == pytest.approx(ref, rel=1e-10)
    loss.teacher_temp = 0.07  # what the hook sets
    q = np.split(softmax(teacher / 0.07), 2)
    ref = 0.5 * (np.mean(-(q[0] * s[1]).sum(-1)) + np.mean(-(q[1] * s[0]).sum(-1)))
    assert loss(torch.tensor(student), torch.tensor(teacher)).item() == pytest.approx(ref, rel=1e-10)


def test_cross_view_distill_loss_gradient_flows_to_the_student_only():
    z = torch.randn(4, 3, requires_grad=True)
    t = torch.randn(4, 3, requires_grad=True)
    CrossViewDistillLoss()(z, t).backward()
    assert z.grad.abs().sum() > 0 and t.grad is None


def test_mean_entropy_closed_forms():
    k = 5
    # balanced mean prediction: log K - log K = 0
    uniform = torch.zeros(4, k)
    assert MeanEntropyLoss()(uniform).item() == pytest.approx(0.0, abs=1e-7)
    # every sample sure of class 0: the mean is one-hot, entropy 0, loss = weight * log K
    peaked = torch.full((4, k), -1.0)
    peaked[:, 0] = 1.0  # cosine logits / 0.1: softmax mass e^-20 off class 0
    assert MeanEntropyLoss(loss_weight=2.0)(peaked).item() == pytest.approx(2 * math.log(k), rel=1e-6)
    # two classes, half the batch each: log 5 - log 2
    half = torch.full((4, k), -1.0)
    half[:2, 0] = half[2:, 1] = 1.0
    assert MeanEntropyLoss()(half).item() == pytest.approx(math.log(k) - math.log(2), rel=1e-6)


def ler_logits():
    # 4 classes, 2 known (0, 1); conf = max softmax(z / 0.1)
    return torch.tensor([
        [1.0, -1.0, -1.0, -1.0],   # confident, known class 0      -> selected if unlabelled
        [-1.0, -1.0, 1.0, -1.0],   # confident, novel class 2      -> never
        [0.1, 0.05, 0.0, 0.02],    # not confident                 -> never
        [-1.0, 0.9, -1.0, -1.0],   # confident, known class 1      -> selected if unlabelled
    ], dtype=torch.float64)


def test_ler_selects_only_confident_known_class_predictions_of_unlabelled_samples():
    loss = LocalEntropyLoss(num_classes=4, num_known_classes=2, thr=0.9)
    unlabelled = torch.tensor([True, True, True, False])
    assert loss.selection(ler_logits(), unlabelled).tolist() == [True, False, False, False]
    assert loss.selection(ler_logits(), torch.ones(4, dtype=torch.bool)).tolist() == [True, False, False, True]
    # a threshold no prediction reaches selects nothing: the loss is exactly 0 (LegoGCD issue 1)
    strict = LocalEntropyLoss(num_classes=4, num_known_classes=2, thr=1.0)
    assert strict(ler_logits(), torch.ones(4, dtype=torch.bool)).item() == 0.0
    assert strict.last_num_selected == 0


def test_ler_value_and_qhat_update():
    z = ler_logits()
    unlabelled = torch.ones(4, dtype=torch.bool)
    loss = LocalEntropyLoss(num_classes=4, num_known_classes=2, thr=0.9, tau=0.05, margin=0.4, momentum=0.9,
                            loss_weight=2.0).double()
    selected = [0, 3]
    # q_hat uniform: log_softmax(z/tau + m log(1/K)) = log_softmax(z/tau), so each term is H(softmax(z/tau))
    zn = z.numpy()
    p = softmax(zn / 0.05)
    ref = 2.0 * sum(-(p[i] * np.log(p[i])).sum() for i in selected) / 4
    assert loss(z, unlabelled).item() == pytest.approx(ref, rel=1e-9)
    assert loss.last_num_selected == 2
    qhat = 0.9 * np.full(4, 0.25) + 0.1 * softmax(zn).mean(0)
    np.testing.assert_allclose(loss.qhat.numpy(), qhat, rtol=1e-12)
    # second call uses the updated q_hat
    log_pred = log_softmax(zn / 0.05 + 0.4 * np.log(qhat))
    ref2 = 2.0 * sum(-(p[i] * log_pred[i]).sum() for i in selected) / 4
    assert loss(z, unlabelled).item() == pytest.approx(ref2, rel=1e-9)
    # evaluation mode leaves q_hat alone
    loss.eval()
    before = loss.qhat.clone()
    loss(z, unlabelled)
    assert torch.equal(loss.qhat, before)
    assert 'qhat' in loss.state_dict()


def test_ler_gradient_through_target_unless_detached():
    z = ler_logits().requires_grad_()
    unl = torch.ones(4, dtype=torch.bool)
    g_full = torch.autograd.grad(LocalEntropyLoss(4, 2, thr=0.9).double()(z, unl), z)[0]
    g_det = torch.autograd.grad(LocalEntropyLoss(4, 2, thr=0.9, detach_target=True).double()(z, unl), z)[0]
    # with a uniform q_hat the loss is the entropy of softmax(z/tau); with a detached target it is a
    # cross-entropy against a fixed distribution equal to the prediction: its gradient is 0
    assert g_full.abs().sum() > 0
    assert torch.allclose(g_det, torch.zeros_like(g_det), atol=1e-12)


def test_ler_refuses_bad_arguments():
    with pytest.raises(ValueError, match='num_known_classes'):
        LocalEntropyLoss(num_classes=3, num_known_classes=4)
    with pytest.raises(ValueError, match='thr'):
        LocalEntropyLoss(num_classes=3, num_known_classes=2, thr=1.5)
    with pytest.raises(ValueError, match=r'\(N, 3\)'):
        LocalEntropyLoss(num_classes=3, num_known_classes=2)(torch.zeros(2, 4), torch.ones(2, dtype=torch.bool))


DUAL_VIEW_Z = np.array([[0.3, -0.2, 0.9], [0.1, 0.4, -0.5], [0.2, -0.1, 0.8], [0.5, 0.0, -0.4]])  # 2 views of 2


def dual_view_kl_reference(z, mode, t=0.1):
    z1, z2 = np.split(z / t, 2)
    p1, p2 = softmax(z1), softmax(z2)
    if mode == 'correct':
        return (p1 * (np.log(p1) - np.log(p2))).sum(-1).mean()
    return (p1 * (log_softmax(p1) - log_softmax(p2))).sum(-1).mean()


@pytest.mark.parametrize('mode', ['correct', 'official'])
def test_dual_view_kl_closed_form_in_both_modes(mode):
    got = DualViewKLLoss(mode=mode)(torch.tensor(DUAL_VIEW_Z)).item()
    assert got == pytest.approx(dual_view_kl_reference(DUAL_VIEW_Z, mode), rel=1e-10)
    swapped = np.concatenate(np.split(DUAL_VIEW_Z, 2)[::-1])
    sym = DualViewKLLoss(mode=mode, direction='symmetric')(torch.tensor(DUAL_VIEW_Z)).item()
    expected = 0.5 * (dual_view_kl_reference(DUAL_VIEW_Z, mode) + dual_view_kl_reference(swapped, mode))
    assert sym == pytest.approx(expected, rel=1e-10)


def test_dual_view_kl_official_mode_is_much_weaker_than_the_kl():
    correct = DualViewKLLoss(mode='correct')(torch.tensor(DUAL_VIEW_Z)).item()
    official = DualViewKLLoss(mode='official')(torch.tensor(DUAL_VIEW_Z)).item()
    assert 0 < official < 0.2 * correct


def test_dual_view_kl_of_identical_views_is_zero_and_stop_grad_detaches_the_target():
    same = torch.tensor(np.concatenate([DUAL_VIEW_Z[:2], DUAL_VIEW_Z[:2]]))
    assert DualViewKLLoss()(same).item() == pytest.approx(0.0, abs=1e-12)
    z = torch.tensor(DUAL_VIEW_Z, requires_grad=True)
    grad = torch.autograd.grad(DualViewKLLoss(stop_grad=True)(z), z)[0]
    assert torch.all(grad[:2] == 0) and grad[2:].abs().sum() > 0
    grad = torch.autograd.grad(DualViewKLLoss(stop_grad=False)(z), z)[0]
    assert grad[:2].abs().sum() > 0


def test_dual_view_kl_refuses_bad_modes():
    with pytest.raises(ValueError, match='mode'):
        DualViewKLLoss(mode='paper')
    with pytest.raises(ValueError, match='direction'):
        DualViewKLLoss(direction='both')


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_losses_are_computed_in_fp32_for_half_inputs(dtype):
    torch.manual_seed(0)
    z = (torch.randn(8, 6) * 3).to(dtype).requires_grad_()
    f = torch.randn(8, 5).to(dtype).requires_grad_()
    labels = torch.tensor([0, 1, 0, 1])
    values = [
        SupConLoss()(f.view(2, 4, 5).transpose(0, 1), labels), InfoNCELoss()(f), CrossViewDistillLoss()(z),
        MeanEntropyLoss()(z), LocalEntropyLoss(6, 3, thr=0.0)(z, torch.ones(8, dtype=torch.bool)),
        DualViewKLLoss()(z), DualViewKLLoss(mode='official')(z)
    ]
    for v in values:
        assert v.dtype == torch.float32 and torch.isfinite(v)
    sum(values).backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(f.grad).all()


def test_degenerate_inputs_give_finite_values_and_gradients():
    z = torch.zeros(4, 3, requires_grad=True)  # every logit equal
    f = torch.zeros(4, 5, requires_grad=True)  # zero embeddings
    values = [InfoNCELoss()(f), SupConLoss()(f.view(2, 2, 5).transpose(0, 1), torch.tensor([0, 0])),
              CrossViewDistillLoss()(z), MeanEntropyLoss()(z), DualViewKLLoss()(z),
              LocalEntropyLoss(3, 2, thr=0.0)(z, torch.ones(4, dtype=torch.bool))]
    sum(values).backward()
    assert all(torch.isfinite(v) for v in values)
    assert torch.isfinite(z.grad).all() and torch.isfinite(f.grad).all()


@pytest.mark.parametrize('num_views', [1, 0, 2.0, True])
def test_cross_view_distill_needs_two_views(num_views):
    with pytest.raises(ValueError, match=rf'num_views must be an int >= 2 .*got {num_views!r}'):
        CrossViewDistillLoss(num_views=num_views)
