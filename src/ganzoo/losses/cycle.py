"""CycleGAN's reconstruction objectives (Zhu et al., 2017): L1 cycle and identity terms, means over pixels."""

import torch
import torch.nn.functional as F


def cycle_loss(original: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """E ||F(G(x)) - x||_1 per pixel: a translation must be undone by the reverse mapping."""
    return F.l1_loss(reconstructed, original)


def identity_loss(original: torch.Tensor, mapped: torch.Tensor) -> torch.Tensor:
    """E ||G(y) - y||_1 per pixel for y already in G's target domain: keeps what needs no translating."""
    return F.l1_loss(mapped, original)
