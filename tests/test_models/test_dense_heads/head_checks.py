"""Inputs and checks shared by the rotated dense-head tests (a 128 px batch of two images, three levels)."""
from typing import Dict, List, Sequence

import torch
from mmengine.structures import InstanceData
from torch import nn

from visiondiv.structures.bbox import RotatedBoxes

IMG = 128
STRIDES = (8, 16, 32)
GTS = [torch.tensor([[40.0, 50.0, 40.0, 20.0, 0.3], [90.0, 80.0, 60.0, 24.0, -0.7]]),
       torch.tensor([[64.0, 64.0, 50.0, 30.0, 1.2]])]


def feats(seed: int = 0, batch: int = 2, channels: int = 16) -> List[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, channels, IMG // s, IMG // s, generator=g) for s in STRIDES]


def gt_instances() -> List[InstanceData]:
    return [InstanceData(bboxes=RotatedBoxes(b), labels=torch.arange(len(b)) % 3) for b in GTS]


def img_metas(batch: int = 2) -> List[dict]:
    return [dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), scale_factor=(1.0, 1.0)) for _ in range(batch)]


def total(losses: dict) -> Dict[str, torch.Tensor]:
    """Per-level loss lists summed, so each key is one scalar."""
    return {k: sum(v) if isinstance(v, (list, tuple)) else v for k, v in losses.items()}


def check_step_and_predict(head: nn.Module, keys: set, learning: Sequence[nn.Module],
                           positive_sides: bool = True) -> None:
    """Loss keys finite and positive; one SGD step with finite gradients (``learning`` layers get
    some) moves the parameters and keeps the losses finite; predictions are rotated boxes with
    scores in [0, 1] and known labels (sides > 0, or >= 0 with ``positive_sides=False``)."""
    x = feats()
    losses = total(head.loss_by_feat(*head(x), gt_instances(), img_metas()))
    assert set(losses) == keys
    for value in losses.values():
        assert torch.isfinite(value) and value.item() > 0

    opt = torch.optim.SGD(head.parameters(), lr=0.01)
    before = [p.detach().clone() for p in head.parameters()]
    opt.zero_grad()
    sum(losses.values()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in head.parameters())
    assert all(layer.weight.grad.abs().sum() > 0 for layer in learning)
    opt.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, head.parameters()))
    after = total(head.loss_by_feat(*head(x), gt_instances(), img_metas()))
    assert all(torch.isfinite(v) for v in after.values())

    head.eval()
    with torch.no_grad():
        results = head.predict_by_feat(*head(x), batch_img_metas=img_metas(), rescale=False)
    assert len(results) == 2
    for res in results:
        assert isinstance(res.bboxes, RotatedBoxes) and res.bboxes.tensor.shape == (len(res), 5)
        assert 0 < len(res) <= 50 and res.scores.shape == (len(res),) and res.labels.shape == (len(res),)
        assert bool(((res.scores >= 0) & (res.scores <= 1)).all()) and bool((res.labels < 3).all())
        sides = res.bboxes.tensor[:, 2:4]
        assert bool((sides > 0).all() if positive_sides else (sides >= 0).all())


def rows_in(rows: torch.Tensor, table: torch.Tensor, atol: float = 1e-4) -> bool:
    """Whether every row of ``rows`` is (within atol) a row of ``table``."""
    return bool(((rows.detach()[:, None] - table[None]).abs().amax(-1).min(1).values < atol).all())


def record_box_loss_inputs(head: nn.Module, monkeypatch) -> Dict[str, list]:
    """Spy on ``head.loss_bbox``: each call's ``pred``, ``target`` and keyword arguments are appended."""
    seen: Dict[str, list] = dict(pred=[], target=[], kw=[])
    forward = head.loss_bbox.forward

    def spy(pred, target, weight=None, **kw):
        seen['pred'].append(pred)
        seen['target'].append(target)
        seen['kw'].append(kw)
        return forward(pred, target, weight, **kw)

    monkeypatch.setattr(head.loss_bbox, 'forward', spy)
    return seen
