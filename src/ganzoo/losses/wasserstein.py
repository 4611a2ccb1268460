"""The Wasserstein GAN objective (Arjovsky et al., 2017) and the two ways to keep its critic Lipschitz.

The critic f maximises E f(real) - E f(fake), the Kantorovich-Rubinstein estimate of the Earth Mover distance,
which only holds for a 1-Lipschitz f: either clip every weight to [-c, c] (WGAN) or penalise input-gradient
norms away from 1 (WGAN-GP, Gulrajani et al., 2017).
"""

from collections.abc import Callable, Iterable, Sequence

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


def lazy_weight(weight: float, every: int, updates: int) -> float:
    """Lazy regularisation (Karras et al., 2020): weight * every on critic updates 0, every, 2 every, ..., else 0.

    `updates` counts the critic updates before this one. On average the penalty keeps its weight, while k - 1 of
    every k updates skip its double backward.
    """
    if not (isinstance(every, int) and every >= 1):
        raise ValueError(f"model.penalty_every must be an integer >= 1 (1: every critic update), got {every}.")
    return 0.0 if updates % every else weight * every


def random_interpolates(
    real: torch.Tensor | Sequence[torch.Tensor], fake: torch.Tensor | Sequence[torch.Tensor], generator: torch.Generator
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """eps * real + (1 - eps) * fake, one eps ~ U[0, 1] per sample: where WGAN-GP enforces the constraint.

    Joint inputs (BiGAN's (x, z) pairs) come as tuples of tensors: every part of sample i shares its eps, so the
    point lies on the segment between the two joint samples.
    """
    first = real if isinstance(real, torch.Tensor) else real[0]
    eps = torch.rand(first.shape[0], generator=generator, device=first.device, dtype=first.dtype)
    if isinstance(real, torch.Tensor):
        return _mix(eps, real, fake)
    return tuple(_mix(eps, r, f) for r, f in zip(real, fake, strict=True))


def _mix(eps: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    eps = eps.view(-1, *(1,) * (real.dim() - 1))
    return eps * real + (1 - eps) * fake


def gradient_penalty(
    critic: Callable[..., torch.Tensor], points: torch.Tensor | Sequence[torch.Tensor], weight: float = 10.0
) -> torch.Tensor:
    """weight * mean_i (||grad_x f(x_i)|| - 1)^2: per-sample norms of the flattened input gradients.

    The gradient is taken with `create_graph=True` so that the penalty trains the critic. Autocast is switched
    off and the points at least fp32: under mixed precision a squared norm of half-precision gradients under- or
    overflows. The points are detached, so the penalty reaches the critic only, never the generator.
    A joint critic f(x, z) takes its points as a tuple (x, z): the norm is then over all parts of sample i
    together, the gradient with respect to the joint input.
    """
    joint = not isinstance(points, torch.Tensor)
    parts = tuple(points) if joint else (points,)
    with torch.autocast(device_type=parts[0].device.type, enabled=False):
        parts = tuple(p.detach().to(torch.promote_types(p.dtype, torch.float32)).requires_grad_(True) for p in parts)
        scores = critic(*parts)
        grads = torch.autograd.grad(scores.sum(), parts, create_graph=True)
        norms = torch.linalg.vector_norm(torch.cat([g.flatten(1) for g in grads], dim=1), dim=1)
        return weight * ((norms - 1) ** 2).mean()


def lazy_gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor | Sequence[torch.Tensor],
    fake: torch.Tensor | Sequence[torch.Tensor],
    generator: torch.Generator,
    weight: float,
    every: int,
    updates: int,
) -> torch.Tensor | None:
    """WGAN-GP's penalty at random interpolates of `real` and `fake` (drawn from `generator`), with lazy
    regularisation: `lazy_weight(weight, every, updates)` times the penalty, or None on the updates that skip it."""
    scale = lazy_weight(weight, every, updates)
    if not scale:
        return None
    return gradient_penalty(critic, random_interpolates(real, fake, generator), scale)
