"""The Wasserstein GAN objective (Arjovsky et al., 2017) and the two ways to keep its critic Lipschitz.

The critic f maximises E f(real) - E f(fake), the Kantorovich-Rubinstein estimate of the Earth Mover distance,
which only holds for a 1-Lipschitz f: either clip every weight to [-c, c] (WGAN) or penalise input-gradient
norms away from 1 (WGAN-GP, Gulrajani et al., 2017).
"""

from collections.abc import Callable, Iterable

import torch
from torch import nn


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E f(fake) - E f(real): minimising it maximises the critic's Wasserstein estimate."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E f(G(z)): the generator moves its samples up the critic."""
    return -fake_scores.mean()


@torch.no_grad()
def clip_weights(parameters: Iterable[nn.Parameter], value: float) -> None:
    """Clamp every parameter in place to [-value, value], WGAN's crude way to bound the Lipschitz constant."""
    for p in parameters:
        p.clamp_(-value, value)


def random_interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """eps * real + (1 - eps) * fake, one eps ~ U[0, 1] per sample: where WGAN-GP enforces the constraint."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return eps * real + (1 - eps) * fake


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, weight: float = 10.0
) -> torch.Tensor:
    """weight * mean_i (||grad_x f(x_i)|| - 1)^2: per-sample norms of the flattened input gradients.

    The gradient is taken with `create_graph=True` so that the penalty trains the critic. Autocast is switched
    off and the points at least fp32: under mixed precision a squared norm of half-precision gradients under- or
    overflows. The points are detached, so the penalty reaches the critic only, never the generator.
    """
    with torch.autocast(device_type=points.device.type, enabled=False):
        points = points.detach().to(torch.promote_types(points.dtype, torch.float32)).requires_grad_(True)
        scores = critic(points)
        (grads,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
        norms = torch.linalg.vector_norm(grads.flatten(1), dim=1)
        return weight * ((norms - 1) ** 2).mean()
