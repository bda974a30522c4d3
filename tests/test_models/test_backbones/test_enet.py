import torch
import torch.nn.functional as F

from visiondiv.registry import MODELS


def test_enet_shapes_and_learning():
    torch.manual_seed(0)
    net = MODELS.build(dict(type='ENet', in_channels=1, base_channels=8, stage_blocks=(1, 1, 2)))
    for size in ((32, 32), (37, 51)):
        assert net(torch.randn(2, 1, *size))[0].shape == (2, 8, *size)
    head = torch.nn.Conv2d(8, 2, 1)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing='ij')
    target = (((yy - 16) ** 2 + (xx - 12) ** 2) < 64).long()[None].repeat(4, 1, 1)
    x = target[:, None].float() * 2 - 1 + 0.3 * torch.randn(4, 1, 32, 32)
    opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), 1e-2)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(head(net(x)[0]), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    acc = (head(net(x)[0]).argmax(1) == target).float().mean()
    assert acc > 0.95
