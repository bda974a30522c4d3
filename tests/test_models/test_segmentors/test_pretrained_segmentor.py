"""TumourSegmentor: full-resolution logits from mmseg's UNet, a closed form on a linear backbone, and the error
when ``in_index`` picks a lower-resolution feature map."""
import re

import pytest
import torch

from visiondiv.models.segmentors import TumourSegmentor

UNET = dict(type='mmseg.UNet', in_channels=1, base_channels=4, num_stages=3, strides=(1, 1, 1),
            enc_num_convs=(2, 2, 2), dec_num_convs=(2, 2), downsamples=(True, True), enc_dilations=(1, 1, 1),
            dec_dilations=(1, 1), norm_cfg=dict(type='IN'), upsample_cfg=dict(type='mmseg.InterpConv'))


@pytest.mark.parametrize('num_classes', [1, 3])
def test_unet_logits_at_input_size(num_classes):
    seg = TumourSegmentor(backbone=UNET, in_channels=4, num_classes=num_classes)
    out = seg(torch.rand(2, 1, 32, 24))
    assert out.shape == (2, num_classes, 32, 24) and torch.isfinite(out).all()


def test_single_map_backbone_closed_form():
    """A 1x1 conv backbone (one map, not a list) and the 1x1 head: logits = h . (w x + b) + c."""
    seg = TumourSegmentor(backbone=dict(type='Conv2d', in_channels=1, out_channels=2, kernel_size=1), in_channels=2)
    w, b, h, c = [0.5, -2.0], [0.1, 0.3], [1.5, 0.25], 0.7
    with torch.no_grad():
        seg.backbone.weight.copy_(torch.tensor(w).view(2, 1, 1, 1))
        seg.backbone.bias.copy_(torch.tensor(b))
        seg.head.weight.copy_(torch.tensor(h).view(1, 2, 1, 1))
        seg.head.bias.fill_(c)
    x = torch.rand(2, 1, 5, 7, dtype=torch.float64)
    expected = sum(h[k] * (w[k] * x + b[k]) for k in range(2)) + c
    torch.testing.assert_close(seg.double()(x), expected)


@pytest.mark.parametrize('in_index, size, channels', [(0, (8, 8), 16), (1, (16, 16), 8)])
def test_low_resolution_map_refused(in_index, size, channels):
    seg = TumourSegmentor(backbone=UNET, in_channels=channels, in_index=in_index)
    message = f'feature map {in_index} has size {size}, the input (32, 32); choose in_index'
    with pytest.raises(ValueError, match=re.escape(message)):
        seg(torch.rand(1, 1, 32, 32))


SEG_CONFIG = 'configs/crossmodal/unet_mr-only_400it_toy-ct-mr.py'


def frozen(tmp_path, **kw):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from visiondiv.models.segmentors import FrozenSegmentor
    from visiondiv.registry import MODELS
    init_default_scope('visiondiv')
    torch.manual_seed(0)
    seg = MODELS.build(Config.fromfile(SEG_CONFIG).model)
    path = str(tmp_path / 'seg.pth')
    torch.save({'state_dict': seg.state_dict()}, path)
    return seg, FrozenSegmentor(SEG_CONFIG, path, **kw)


def test_frozen_segmentor_logit_closed_form_and_gradients(tmp_path):
    """The tumour logit is log p(tumour) - log p(rest) of the trained model on [0, 1] inputs; no parameter learns,
    but the gradient reaches the input (the generator)."""
    seg, judge = frozen(tmp_path)
    judge.train()
    assert not judge.training and not judge.model.training        # stays in eval mode
    x = (torch.rand(2, 1, 32, 32) * 2 - 1).requires_grad_(True)
    out = judge(x)
    seg.eval()
    logits = seg((x.detach() + 1) / 2, None, mode='tensor')
    expected = torch.log_softmax(logits, 1)[:, 1:2] - torch.log(1 - torch.softmax(logits, 1)[:, 1:2])
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None for p in judge.parameters())


def test_frozen_segmentor_errors_name_the_file(tmp_path):
    from visiondiv.utils.checkpoint import CheckpointMismatchError
    from visiondiv.models.segmentors import FrozenSegmentor
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        FrozenSegmentor(SEG_CONFIG, str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        FrozenSegmentor(str(tmp_path / 'nope.py'), str(tmp_path / 'x.pth'))
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'backbone.conv.weight': torch.zeros(3)}}, other)
    with pytest.raises(CheckpointMismatchError, match='other.pth'):
        FrozenSegmentor(SEG_CONFIG, other)
    from visiondiv.models.segmentors import PretrainedSegmentor
    with pytest.raises(TypeError, match="frozen must be True or False, got 'False'"):
        PretrainedSegmentor(SEG_CONFIG, other, frozen='False')


def test_pretrained_segmentor_fine_tuned_learns_and_stays_in_eval_mode(tmp_path):
    """``frozen=False``: the same logits as the frozen judge, in eval mode, and its weights get gradients;
    ``FrozenSegmentor`` is ``PretrainedSegmentor(frozen=True)``."""
    from visiondiv.models.segmentors import FrozenSegmentor, PretrainedSegmentor
    _, judge = frozen(tmp_path)
    tuned = PretrainedSegmentor(SEG_CONFIG, str(tmp_path / 'seg.pth'), frozen=False)
    assert isinstance(judge, PretrainedSegmentor) and type(judge) is FrozenSegmentor
    tuned.train()
    assert not tuned.training and not tuned.model.training
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    out = tuned(x)
    torch.testing.assert_close(out, judge(x))
    out.sum().backward()
    params = list(tuned.parameters())
    assert params and all(p.requires_grad for p in params)
    assert sum(p.grad.abs().sum().item() for p in params if p.grad is not None) > 0
