"""rbox <-> Gaussian converters of visiondiv/structures/bbox/gaussian.py against the numpy reference."""
import numpy as np
import torch

from visiondiv.structures.bbox import gaussian2rbox, rbox2gaussian, regularize_rboxes

from ...test_models.test_losses.reference import gaussian


def test_gaussian_roundtrip_and_sigma():
    boxes = torch.tensor([[5.0, 6.0, 10.0, 4.0, 0.3], [0.0, 0.0, 3.0, 7.0, -1.2]], dtype=torch.float64)
    mu, sigma = rbox2gaussian(boxes)
    for box, s in zip(boxes, sigma):
        np.testing.assert_allclose(s.numpy(), gaussian(box.numpy())[1], rtol=1e-12, atol=1e-12)
    back = gaussian2rbox(mu, sigma, 'le90')
    torch.testing.assert_close(back, regularize_rboxes(boxes, 'le90'), rtol=1e-10, atol=1e-10)
