"""The Goodfellow et al. (2014) objective, written on logits so that it never takes log(0); the hinge loss and
the R1 penalty that fast presets may choose instead (docs/time_to_quality.md)."""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: the discriminator maximises the minimax value.

    `real_label` < 1 is one-sided label smoothing (Salimans et al., 2016, sec. 3.4): real images are targets
    `real_label` of a binary cross-entropy, so D is not rewarded for ever more confident scores on them; fakes
    stay at 0 (smoothing them too would move D's optimum towards the fakes).
    """
    real = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return real.mean() + F.softplus(fake_logits).mean()


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
