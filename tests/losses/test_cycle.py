"""CycleGAN's loss terms against hand computations."""

import torch

from ganzoo.losses import cycle_loss, identity_loss, least_squares_critic_loss, least_squares_generator_loss


def test_least_squares_terms_match_their_formulas():
    real, fake = torch.tensor([[1.0, 0.5], [2.0, 1.0]]), torch.tensor([[0.0, -1.0], [0.5, 0.5]])
    # real: (0 + 0.25 + 1 + 0) / 4; fake: (0 + 1 + 0.25 + 0.25) / 4
    assert torch.isclose(least_squares_critic_loss(real, fake), torch.tensor(1.25 / 4 + 1.5 / 4))
    # (1 + 4 + 0.25 + 0.25) / 4
    assert torch.isclose(least_squares_generator_loss(fake), torch.tensor(5.5 / 4))
    assert least_squares_critic_loss(torch.ones(3, 1, 5, 5), torch.zeros(3, 1, 5, 5)) == 0
    assert least_squares_generator_loss(torch.ones(3, 1, 5, 5)) == 0


def test_cycle_and_identity_terms_are_mean_absolute_differences():
    x = torch.randn(4, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    y = x + 0.25 * torch.sign(torch.randn(4, 1, 6, 6, generator=torch.Generator().manual_seed(1)))
    assert cycle_loss(x, x) == 0 and identity_loss(x, x) == 0
    assert torch.isclose(cycle_loss(x, y), torch.tensor(0.25))
    assert torch.isclose(identity_loss(x, y), (x - y).abs().sum() / x.numel())
    x.requires_grad_(True)
    cycle_loss(y, x).backward()
    assert torch.allclose(x.grad, torch.sign(x - y).detach() / x.numel())
