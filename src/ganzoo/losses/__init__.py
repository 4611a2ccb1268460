"""Pure loss functions shared by the models."""

from ganzoo.losses.adversarial import (
    discriminator_loss,
    generator_loss_hinge,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    hinge_discriminator_loss,
    least_squares_critic_loss,
    least_squares_generator_loss,
    r1_penalty,
)
from ganzoo.losses.cycle import cycle_loss, identity_loss
from ganzoo.losses.energy_distance import cosine_cost, minibatch_energy_distance, sinkhorn_distance
from ganzoo.losses.semantic import semantic_consistency_loss
from ganzoo.losses.sinkhorn import sinkhorn
from ganzoo.losses.wasserstein import (
    clip_weights,
    gradient_penalty,
    lazy_gradient_penalty,
    lazy_weight,
    random_interpolates,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "clip_weights",
    "cosine_cost",
    "cycle_loss",
    "discriminator_loss",
    "generator_loss_hinge",
    "generator_loss_minimax",
    "generator_loss_nonsaturating",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "identity_loss",
    "lazy_gradient_penalty",
    "lazy_weight",
    "least_squares_critic_loss",
    "least_squares_generator_loss",
    "minibatch_energy_distance",
    "r1_penalty",
    "random_interpolates",
    "semantic_consistency_loss",
    "sinkhorn",
    "sinkhorn_distance",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
