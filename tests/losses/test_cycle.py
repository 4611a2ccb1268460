"""CycleGAN's reconstruction terms against hand computations."""

import torch

from ganzoo.losses import cycle_loss, identity_loss


def test_cycle_and_identity_terms_are_mean_absolute_differences():
    x = torch.randn(4, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    y = x + 0.25 * torch.sign(torch.randn(4, 1, 6, 6, generator=torch.Generator().manual_seed(1)))
    assert cycle_loss(x, x) == 0 and identity_loss(x, x) == 0
    assert torch.isclose(cycle_loss(x, y), torch.tensor(0.25))
    assert torch.isclose(identity_loss(x, y), (x - y).abs().sum() / x.numel())
    x.requires_grad_(True)
    cycle_loss(y, x).backward()
    assert torch.allclose(x.grad, torch.sign(x - y).detach() / x.numel())
