import pytest
import torch

from visiondiv.models.losses import MultiClassDiceLoss, soft_dice_per_class
from visiondiv.registry import MODELS

# one image, 3 classes, 1 x 4 pixels; probabilities per pixel and labels
PROBS = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]]
LABEL = [0, 1, 2, 1]


def inputs():
    p = torch.tensor(PROBS, dtype=torch.float64).T.reshape(1, 3, 1, 4)
    return p.log(), torch.tensor(LABEL).reshape(1, 1, 4)


def dice_ref(c, eps):
    p = [row[c] for row in PROBS]
    g = [1.0 if lab == c else 0.0 for lab in LABEL]
    return (2 * sum(a * b for a, b in zip(p, g)) + eps) / (sum(p) + sum(g) + eps)


def test_per_class_soft_dice_closed_form():
    logits, label = inputs()
    got = soft_dice_per_class(logits.softmax(1), label, eps=1.0)
    torch.testing.assert_close(got, torch.tensor([dice_ref(c, 1.0) for c in range(3)], dtype=torch.float64))
    fg = 1 - (dice_ref(1, 1.0) + dice_ref(2, 1.0)) / 2
    assert MultiClassDiceLoss()(logits, label).item() == pytest.approx(fg, rel=1e-12)
    every = 1 - sum(dice_ref(c, 1.0) for c in range(3)) / 3
    assert MultiClassDiceLoss(include_background=True)(logits, label).item() == pytest.approx(every, rel=1e-12)
    weighted = 1 - (1 * dice_ref(1, 0.5) + 3 * dice_ref(2, 0.5)) / 4
    loss = MultiClassDiceLoss(class_weight=[0, 1, 3], eps=0.5, loss_weight=2.0)
    assert loss(logits, label).item() == pytest.approx(2 * weighted, rel=1e-12)


def test_ignored_pixels_and_perfect_prediction():
    logits, label = inputs()
    ignored = label.clone()
    ignored[0, 0, 3] = 255                    # leave the last pixel out of every class
    got = soft_dice_per_class(logits.softmax(1), ignored, eps=0.0)
    p1, g1 = [0.2, 0.8, 0.2], [0, 1, 0]
    assert got[1].item() == pytest.approx(2 * 0.8 / (sum(p1) + sum(g1)), rel=1e-12)
    perfect = torch.nn.functional.one_hot(label, 3).permute(0, 3, 1, 2).double() * 50
    assert MultiClassDiceLoss()(perfect, label).item() == pytest.approx(0.0, abs=1e-12)


def test_finite_on_empty_classes_and_fp16():
    loss = MODELS.build(dict(type='MultiClassDiceLoss'))
    assert loss.loss_name == 'loss_dice'
    x = torch.randn(2, 3, 8, 8, dtype=torch.float16, requires_grad=True)
    y = torch.zeros(2, 8, 8, dtype=torch.long)            # foreground absent from the labels
    out = loss(x, y)
    out.backward()
    assert out.dtype == torch.float16 and torch.isfinite(out) and torch.isfinite(x.grad).all()
    with pytest.raises(ValueError, match='class_weight has 2 entries for 3 classes'):
        MultiClassDiceLoss(class_weight=[1, 1])(x, y)


def test_one_class_without_background_is_refused_not_nan():
    score, label = torch.randn(2, 1, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r'cls_score has 1 class channel and include_background=False leaves no '
                                         r'class to average'):
        MultiClassDiceLoss()(score, label)
    loss = MultiClassDiceLoss(include_background=True)(score, label)  # softmax of one channel: Dice 1, loss 0
    torch.testing.assert_close(loss, torch.tensor(0.0))
