"""CycleGAN's objectives (Zhu et al., 2017): least-squares adversarial terms and L1 cycle and identity terms.

The least-squares GAN (Mao et al., 2017) replaces the log loss because it trains more stably (Zhu et al., sec. 4);
the BCE option reuses `ganzoo.losses.adversarial`. Critic outputs may be patch maps: every term is a mean.
"""

import torch
import torch.nn.functional as F


def least_squares_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[(D(y) - 1)^2] + E[D(G(x))^2]: real patches pushed to 1, translated ones to 0."""
    return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()


def least_squares_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """E[(D(G(x)) - 1)^2]: the generator wants its translations scored as real."""
    return (fake_scores - 1).pow(2).mean()


def cycle_loss(original: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """E ||F(G(x)) - x||_1 per pixel: a translation must be undone by the reverse mapping."""
    return F.l1_loss(reconstructed, original)


def identity_loss(original: torch.Tensor, mapped: torch.Tensor) -> torch.Tensor:
    """E ||G(y) - y||_1 per pixel for y already in G's target domain: keeps what needs no translating."""
    return F.l1_loss(mapped, original)
