"""Pure loss functions shared by the models."""

from ganzoo.losses.adversarial import (
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
)

__all__ = ["discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating"]
