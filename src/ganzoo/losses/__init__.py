"""Pure loss functions shared by the models."""

from ganzoo.losses.adversarial import (
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
)
from ganzoo.losses.wasserstein import (
    clip_weights,
    gradient_penalty,
    random_interpolates,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "clip_weights",
    "discriminator_loss",
    "generator_loss_minimax",
    "generator_loss_nonsaturating",
    "gradient_penalty",
    "random_interpolates",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
