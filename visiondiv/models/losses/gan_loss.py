"""Adversarial losses of image-to-image GANs, mmagic's ``GANLoss`` interface."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visiondiv.registry import MODELS

GAN_TYPES = ('vanilla', 'lsgan', 'hinge', 'wgan')


@MODELS.register_module()
class GANLoss(nn.Module):
    """The adversarial loss of a discriminator's logits against a real/fake target.

    - ``vanilla``: binary cross-entropy with logits (Goodfellow et al. 2014);
    - ``lsgan``: mean squared error to the label (Mao et al. 2017; CycleGAN's choice);
    - ``hinge``: ``mean(relu(1 - x))`` for real, ``mean(relu(1 + x))`` for fake when training the
      discriminator, ``-mean(x)`` for the generator;
    - ``wgan``: ``-mean(x)`` for real, ``mean(x)`` for fake.

    Computed in fp32 whatever the input dtype (fp16 logits squared overflow).

    Args:
        gan_type (str): one of ``GAN_TYPES`` (``'vanilla'``, ``'lsgan'``, ``'hinge'``, ``'wgan'``).
            Defaults to ``'lsgan'``.
        real_label_val (float): target of real samples (vanilla, lsgan). Defaults to 1.0.
        fake_label_val (float): target of fake samples (vanilla, lsgan). Defaults to 0.0.
        loss_weight (float): multiplier, applied to the generator's loss only (``is_disc=False``), as mmagic.
            Defaults to 1.0.

    Raises:
        ValueError: for an unknown ``gan_type``.
    """

    def __init__(self, gan_type: str = 'lsgan', real_label_val: float = 1.0, fake_label_val: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if gan_type not in GAN_TYPES:
            raise ValueError(f'GANLoss: gan_type must be one of {GAN_TYPES}, got {gan_type!r}')
        self.gan_type, self.loss_weight = gan_type, float(loss_weight)
        self.real_label_val, self.fake_label_val = float(real_label_val), float(fake_label_val)

    def forward(self, input: Tensor, target_is_real: bool, is_disc: bool = False) -> Tensor:
        """Loss of the logits ``input`` for the target real/fake; ``is_disc``: the discriminator is trained."""
        x = input.float()
        if self.gan_type == 'hinge':
            if is_disc:
                loss = F.relu(1 - x).mean() if target_is_real else F.relu(1 + x).mean()
            else:
                loss = -x.mean()
        elif self.gan_type == 'wgan':
            loss = -x.mean() if target_is_real else x.mean()
        else:
            target = torch.full_like(x, self.real_label_val if target_is_real else self.fake_label_val)
            loss = F.mse_loss(x, target) if self.gan_type == 'lsgan' else \
                F.binary_cross_entropy_with_logits(x, target)
        return loss if is_disc else loss * self.loss_weight
