"""The GAN of Goodfellow et al. (2014); with convolutional networks it is DCGAN (Radford et al., 2016)."""

from typing import Any

import torch
from torch import nn

from ganzoo.losses import discriminator_loss, generator_loss_minimax, generator_loss_nonsaturating
from ganzoo.models.base import AdversarialModule

GENERATOR_LOSSES = {"nonsaturating": generator_loss_nonsaturating, "minimax": generator_loss_minimax}


def real_images(batch: Any) -> torch.Tensor:
    """Datamodules yield (images, labels); models that ignore labels take the images."""
    return batch[0] if isinstance(batch, list | tuple) else batch


class GAN(AdversarialModule):
    """Discriminator maximises log D(x) + log(1 - D(G(z))); `n_critic` is the paper's k."""

    def __init__(
        self, generator: nn.Module, critic: nn.Module, generator_loss: str = "nonsaturating", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {generator_loss!r}: choose one of {sorted(GENERATOR_LOSSES)} "
                "(model.generator_loss=...)."
            )
        self.generator = generator
        self.critic = critic
        self.generator_loss = GENERATOR_LOSSES[generator_loss]

    def critic_step(self, batch: Any) -> torch.Tensor:
        real = real_images(batch)
        with torch.no_grad():
            fake = self.generator(self.latent(real.shape[0]))
        real_logits, fake_logits = self.critic(real), self.critic(fake)
        self.log_train("critic_real", torch.sigmoid(real_logits).mean())
        self.log_train("critic_fake", torch.sigmoid(fake_logits).mean())
        return discriminator_loss(real_logits, fake_logits)

    def generator_step(self, batch: Any) -> torch.Tensor:
        fake = self.generator(self.latent(real_images(batch).shape[0]))
        return self.generator_loss(self.critic(fake))
