"""Building blocks of the CycleGAN translator (mmagic's ``cyclegan_modules.py``)."""
import torch
from torch import Tensor


class ImagePool:
    """History of generated images (Shrivastava et al. 2017): the discriminator sees older fakes half the time.

    Args:
        size (int): images kept; 0 returns every query unchanged.
    """

    def __init__(self, size: int) -> None:
        self.size, self.images = int(size), []

    def query(self, images: Tensor) -> Tensor:
        """A batch of the same size: each image, or (once the pool is full, with probability 1/2) an older one
        that it replaces. Uses torch's global generator, so runs are reproducible under a seed."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand(1).item() < 0.5:
                k = int(torch.randint(len(self.images), (1,)).item())
                out.append(self.images[k].clone())
                self.images[k] = image
            else:
                out.append(image)
        return torch.cat(out, 0)
