"""The GAN of Goodfellow et al. (2014); with convolutional networks it is DCGAN (Radford et al., 2016)."""

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ganzoo.losses import (
    discriminator_loss,
    generator_loss_hinge,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    hinge_discriminator_loss,
    r1_penalty,
)
from ganzoo.models.base import AdversarialModule, real_images
from ganzoo.models.fakes import FakeReuse

GENERATOR_LOSSES = {
    "nonsaturating": generator_loss_nonsaturating,
    "minimax": generator_loss_minimax,
    "hinge": generator_loss_hinge,
}
CRITIC_LOSSES = {"bce": discriminator_loss, "hinge": hinge_discriminator_loss}


def adversarial_losses(generator_loss: str, critic_loss: str) -> tuple[Callable, Callable]:
    """The generator's and the critic's loss functions by name; an unknown name is refused with the choices."""
    for key, value, known in (
        ("generator_loss", generator_loss, GENERATOR_LOSSES),
        ("critic_loss", critic_loss, CRITIC_LOSSES),
    ):
        if value not in known:
            raise ValueError(f"Unknown {key} {value!r}: choose one of {sorted(known)} (model.{key}=...).")
    return GENERATOR_LOSSES[generator_loss], CRITIC_LOSSES[critic_loss]


class GAN(FakeReuse, AdversarialModule):
    """Discriminator maximises log D(x) + log(1 - D(G(z))); `n_critic` is the paper's k.

    `critic_loss="hinge"` with `generator_loss="hinge"` is the hinge loss of SNGAN and BigGAN; `r1_gamma > 0`
    adds Mescheder et al.'s (2018) zero-centred penalty gamma / 2 * E||grad D(x)||^2 on real images.
    """

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        generator_loss: str = "nonsaturating",
        critic_loss: str = "bce",
        r1_gamma: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator_loss, self.critic_loss = adversarial_losses(generator_loss, critic_loss)
        if r1_gamma < 0:
            raise ValueError(f"model.r1_gamma must be >= 0 (0: no R1 penalty), got {r1_gamma}.")
        self.generator = generator
        self.critic = critic
        self.r1_gamma = r1_gamma

    def critic_step(self, batch: Any) -> torch.Tensor:
        real = real_images(batch)
        fake = self.critic_fakes(real.shape[0])
        if self.r1_gamma:
            real = real.detach().requires_grad_(True)
        real_logits, fake_logits = self.critic(real), self.critic(fake)
        self.log_critic(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        loss = self.critic_loss(real_logits, fake_logits)
        if self.r1_gamma:
            penalty = r1_penalty(real_logits, real)
            self.log_train("r1", penalty)
            loss = loss + self.r1_gamma / 2 * penalty
        return loss

    def generator_step(self, batch: Any) -> torch.Tensor:
        return self.generator_loss(self.critic(self.generator_fakes(real_images(batch).shape[0])))
