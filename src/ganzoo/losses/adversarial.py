"""The Goodfellow et al. (2014) objective, written on logits so that it never takes log(0); the hinge loss and the
R1 penalty (Mescheder et al., 2018) as alternatives; the least-squares loss of CycleGAN."""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: the discriminator maximises the minimax value."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], the original objective; its gradient vanishes when D wins early."""
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))]: same fixed point, strong gradients early in training (Goodfellow et al., sec. 3)."""
    return F.softplus(-fake_logits).mean()


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]: the hinge loss of Lim & Ye (2017) and Miyato et al. (2018)."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def generator_loss_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))], the generator's side of the hinge loss (Miyato et al., 2018, eq. 17)."""
    return -fake_logits.mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """E[||grad_x D(x)||^2] on real images (Mescheder et al., 2018, eq. 9, without gamma / 2): `real` must
    require grad and `real_logits` be computed from it. The graph is kept, so the penalty trains the critic."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def least_squares_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[(D(y) - 1)^2] + E[D(G(x))^2]: the least-squares GAN (Mao et al., 2017), real scores pushed to 1 and fake
    ones to 0; CycleGAN's choice because it trains more stably than the log loss (Zhu et al., 2017, sec. 4).
    Scores may be patch maps: every term is a mean."""
    return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()


def least_squares_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """E[(D(G(x)) - 1)^2]: the generator wants its fakes scored as real."""
    return (fake_scores - 1).pow(2).mean()
