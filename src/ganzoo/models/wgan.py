"""Wasserstein GANs: WGAN (Arjovsky et al., 2017) clips the critic's weights, WGAN-GP (Gulrajani et al., 2017)
penalises its input gradients. Both log the critic's estimate `train/wasserstein` = E f(real) - E f(fake).
"""

from typing import Any

import torch
from torch import nn

from ganzoo.losses import (
    clip_weights,
    lazy_gradient_penalty,
    lazy_weight,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from ganzoo.models.base import AdversarialModule, real_images
from ganzoo.models.fakes import FakeReuse


class WGAN(FakeReuse, AdversarialModule):
    """A critic without sigmoid whose weights are clamped to [-clip_value, clip_value] after each update."""

    def __init__(self, generator: nn.Module, critic: nn.Module, clip_value: float | None = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.clip_value = clip_value

    def critic_step(self, batch: Any) -> torch.Tensor:
        real = real_images(batch)
        fake = self.critic_fakes(real.shape[0])
        real_scores, fake_scores = self.critic(real), self.critic(fake)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        self.log_critic(real_scores, fake_scores)
        self.log_train("wasserstein", -loss)
        penalty = self.penalty(real, fake)
        return loss if penalty is None else loss + penalty

    def penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """Extra critic loss that keeps the critic Lipschitz; WGAN relies on clipping instead."""
        return None

    def after_critic_step(self) -> None:
        if self.clip_value is not None:
            clip_weights(self.critic.parameters(), self.clip_value)

    def generator_step(self, batch: Any) -> torch.Tensor:
        return wasserstein_generator_loss(self.critic(self.generator_fakes(real_images(batch).shape[0])))


class WGANGP(WGAN):
    """No clipping; the critic's loss gets `penalty_weight` (lambda) * E (||grad f|| - 1)^2 on random points
    between real and fake samples. `penalty_every = k > 1` is lazy regularisation (Karras et al., 2020, StyleGAN2):
    the penalty, times k, only on critic updates 0, k, 2k, ..., which saves the double backward of the other k - 1.
    """

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        penalty_weight: float = 10.0,
        penalty_every: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, critic, clip_value=None, **kwargs)
        lazy_weight(penalty_weight, penalty_every, 0)  # refuses a bad penalty_every now, not at the first update
        self.penalty_weight = penalty_weight
        self.penalty_every = penalty_every

    def penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        value = lazy_gradient_penalty(
            self.critic, real, fake, self.rng, self.penalty_weight, self.penalty_every, self.critic_updates
        )
        if value is not None:  # logged as a plain penalty would be, to compare runs
            self.log_train("gradient_penalty", value / self.penalty_every)
        return value
