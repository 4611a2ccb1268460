"""Wasserstein GANs: WGAN (Arjovsky et al., 2017) clips the critic's weights, WGAN-GP (Gulrajani et al., 2017)
penalises its input gradients. Both log the critic's estimate `train/wasserstein` = E f(real) - E f(fake).
"""

import math
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.losses import (
    clip_weights,
    gradient_penalty,
    lazy_weight,
    random_interpolates,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from ganzoo.models.base import AdversarialModule
from ganzoo.models.gan import real_images


class WGAN(AdversarialModule):
    """A critic without sigmoid whose weights are clamped to [-clip_value, clip_value] after each update."""

    can_reuse_fakes = True

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        clip_value: float | None = 0.01,
        top_k: float | None = None,
        top_k_decay: float = 0.99,
        info_codes: int = 0,
        info_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.clip_value = clip_value
        self.info_codes = info_codes
        self.info_weight = info_weight
        if info_codes:
            self.code_head = code_head(critic, generator, info_codes, info_weight)
        for name, value in (("top_k", top_k), ("top_k_decay", top_k_decay)):
            if value is not None and not 0 < value <= 1:
                raise ValueError(f"model.{name} must be in (0, 1], got {value}.")
        self.top_k = top_k
        self.top_k_decay = top_k_decay

    def critic_step(self, batch: Any) -> torch.Tensor:
        real = real_images(batch)
        z, fake = self.critic_latents_and_fakes(real.shape[0])
        real_scores = self.critic(real)
        fake_scores, information = self.scores_and_information(z, fake)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        self.log_train("critic_real", real_scores.mean())
        self.log_train("critic_fake", fake_scores.mean())
        self.log_train("wasserstein", -loss)
        return loss + self.penalty(real, fake) + information

    def penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | float:
        """Extra critic loss that keeps the critic Lipschitz; WGAN relies on clipping instead."""
        return 0.0

    def after_critic_step(self) -> None:
        if self.clip_value is not None:
            clip_weights(self.critic.parameters(), self.clip_value)  # f's weights; not the code head's

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """With `info_codes = K`: normal noise, then a uniformly drawn category one-hot in the last K entries."""
        if not self.info_codes:
            return super().latent(n, generator)
        g = generator if generator is not None else self.rng
        noise = torch.randn(n, self.generator.latent_dim - self.info_codes, generator=g, device=g.device)
        codes = torch.randint(self.info_codes, (n,), generator=g, device=g.device)
        return torch.cat([noise, F.one_hot(codes, self.info_codes).to(noise.dtype)], dim=1)

    def critic_parameters(self) -> Iterable[nn.Parameter]:
        """The critic's, and with `info_codes` the code head's, which shares the critic's layers (InfoGAN's Q)."""
        if not self.info_codes:
            return super().critic_parameters()
        return [*self.critic.parameters(), *self.code_head.parameters()]

    def scores_and_information(self, z: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | float]:
        """The critic's scores of `fake`, and with `info_codes` the weighted cross-entropy of their categories
        (the last `info_codes` entries of `z`) from the same features: both the critic with its code head and the
        generator minimise it, so the generator draws categories that the critic can tell apart."""
        if not self.info_codes:
            return self.critic(fake), 0.0
        features = self.critic.features(fake)
        information = F.cross_entropy(self.code_head(features), z[:, -self.info_codes :].argmax(dim=1))
        return self.critic.head(features).squeeze(1), self.info_weight * information

    def generator_step(self, batch: Any) -> torch.Tensor:
        z, fake = self.generator_latents_and_fakes(real_images(batch).shape[0])
        scores, information = self.scores_and_information(z, fake)
        if self.info_codes:
            self.log_train("info_loss", information / self.info_weight)
        return wasserstein_generator_loss(self.best_scores(scores)) + information

    def top_k_fraction(self) -> float:
        """Top-k training (Sinha et al., 2020): the share of fakes the generator learns from, decayed by
        `top_k_decay` per epoch from 1 down to `top_k`."""
        return 1.0 if self.top_k is None else max(self.top_k, self.top_k_decay**self.current_epoch)

    def best_scores(self, scores: torch.Tensor) -> torch.Tensor:
        """The critic's scores of the fakes it finds most real, `top_k_fraction` of them (all when top_k is off)."""
        k = math.ceil(self.top_k_fraction() * scores.shape[0])
        return scores if k >= scores.shape[0] else scores.flatten().topk(k).values


def code_head(critic: nn.Module, generator: nn.Module, codes: int, weight: float) -> nn.Linear:
    """InfoGAN's Q (Chen et al., 2016) for a categorical code: logits of the code from the critic's features."""
    if codes < 2 or weight <= 0:
        raise ValueError(f"model.info_codes must be >= 2 and model.info_weight > 0, got {codes} and {weight}.")
    head = getattr(critic, "head", None)
    if not isinstance(head, nn.Linear) or not hasattr(critic, "features"):
        name = type(critic).__name__
        raise ValueError(f"model.info_codes needs a critic with `features` and a linear `head`, which {name} lacks.")
    if generator.latent_dim <= codes:
        raise ValueError(f"model.info_codes={codes} must leave noise in the latent: raise model.generator.latent_dim.")
    return nn.Linear(head.in_features, codes)


PENALTY_LOCATIONS = ("interpolates", "real_fake")


class WGANGP(WGAN):
    """No clipping; the critic's loss gets `penalty_weight` (lambda) * E (||grad f|| - 1)^2.

    `penalty_at="interpolates"` (the paper) takes it on random points between real and fake samples,
    `"real_fake"` on the real and on the fake samples, summing both terms (the variant in the project notes).
    `penalty_every = k > 1` is lazy regularisation (Karras et al., 2020, StyleGAN2): the penalty, times k, only on
    critic updates 0, k, 2k, ..., which saves the double backward of the other k - 1 updates.
    """

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        penalty_weight: float = 10.0,
        penalty_at: str = "interpolates",
        penalty_every: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, critic, clip_value=None, **kwargs)
        if penalty_at not in PENALTY_LOCATIONS:
            raise ValueError(f"Unknown penalty_at {penalty_at!r}: choose one of {PENALTY_LOCATIONS}.")
        lazy_weight(penalty_weight, penalty_every, 0)  # refuses a bad penalty_every now, not at the first update
        self.penalty_weight = penalty_weight
        self.penalty_at = penalty_at
        self.penalty_every = penalty_every

    def penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | float:
        weight = lazy_weight(self.penalty_weight, self.penalty_every, self.critic_updates)
        if not weight:
            return 0.0
        points = [random_interpolates(real, fake, self.rng)] if self.penalty_at == "interpolates" else [real, fake]
        value = sum(gradient_penalty(self.critic, p, weight) for p in points)
        self.log_train("gradient_penalty", value / self.penalty_every)  # as a plain penalty would be, to compare runs
        return value
