import math

import torch

from ganzoo.losses import (
    discriminator_loss,
    generator_loss_hinge,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    hinge_discriminator_loss,
    least_squares_critic_loss,
    least_squares_generator_loss,
    r1_penalty,
)


def _d(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


def test_losses_equal_the_papers_formulas_by_hand():
    real, fake = [2.0, -0.5], [-1.0, 3.0]
    expected_d = -sum(math.log(_d(r)) for r in real) / 2 - sum(math.log(1 - _d(f)) for f in fake) / 2
    expected_minimax = sum(math.log(1 - _d(f)) for f in fake) / 2
    expected_nonsat = -sum(math.log(_d(f)) for f in fake) / 2
    r, f = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    assert math.isclose(discriminator_loss(r, f).item(), expected_d, rel_tol=1e-12)
    assert math.isclose(generator_loss_minimax(f).item(), expected_minimax, rel_tol=1e-12)
    assert math.isclose(generator_loss_nonsaturating(f).item(), expected_nonsat, rel_tol=1e-12)


def test_losses_stay_finite_for_extreme_logits():
    extreme = torch.tensor([-1e4, 1e4])
    for value in (
        discriminator_loss(extreme, extreme),
        generator_loss_minimax(extreme),
        generator_loss_nonsaturating(extreme),
    ):
        assert torch.isfinite(value)


def test_nonsaturating_gradient_is_strong_where_minimax_vanishes():
    # D confidently rejects the fakes (D(G(z)) ~ 0): the minimax gradient ~ 0, the non-saturating one ~ -1.
    logits = torch.tensor([-10.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(generator_loss_minimax(logits), logits)
    (g_nonsat,) = torch.autograd.grad(generator_loss_nonsaturating(logits), logits)
    assert abs(g_minimax.item()) < 1e-4
    assert abs(g_nonsat.item() + 1) < 1e-4


def test_hinge_losses_equal_their_formulas_by_hand():
    real, fake = [2.0, 0.25, -0.5], [-3.0, -0.5, 1.5]
    expected_d = sum(max(0, 1 - r) for r in real) / 3 + sum(max(0, 1 + f) for f in fake) / 3
    r, f = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    assert math.isclose(hinge_discriminator_loss(r, f).item(), expected_d, rel_tol=1e-12)
    assert math.isclose(generator_loss_hinge(f).item(), -sum(fake) / 3, rel_tol=1e-12)


def test_r1_penalty_equals_the_squared_gradient_norm_of_known_critics():
    x = torch.randn(5, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    # linear critic D(x) = <w, x>: grad = w for every sample
    assert math.isclose(r1_penalty((x * w).flatten(1).sum(1), x).item(), w.pow(2).sum().item(), rel_tol=1e-12)
    # quadratic critic D(x) = sum x^2: grad = 2x, so the penalty is E ||2x||^2
    expected = (2 * x.detach()).pow(2).flatten(1).sum(1).mean().item()
    assert math.isclose(r1_penalty(x.pow(2).flatten(1).sum(1), x).item(), expected, rel_tol=1e-12)


def test_r1_penalty_keeps_its_graph_so_that_it_trains_the_critic():
    x = torch.randn(3, 2, requires_grad=True)
    w = torch.randn(2, requires_grad=True)
    r1_penalty(x @ w, x).backward()  # d/dw ||w||^2 = 2w
    assert torch.allclose(w.grad, 2 * w.detach())


def test_least_squares_terms_match_their_formulas():
    real, fake = torch.tensor([[1.0, 0.5], [2.0, 1.0]]), torch.tensor([[0.0, -1.0], [0.5, 0.5]])
    # real: (0 + 0.25 + 1 + 0) / 4; fake: (0 + 1 + 0.25 + 0.25) / 4
    assert torch.isclose(least_squares_critic_loss(real, fake), torch.tensor(1.25 / 4 + 1.5 / 4))
    # (1 + 4 + 0.25 + 0.25) / 4
    assert torch.isclose(least_squares_generator_loss(fake), torch.tensor(5.5 / 4))
    assert least_squares_critic_loss(torch.ones(3, 1, 5, 5), torch.zeros(3, 1, 5, 5)) == 0
    assert least_squares_generator_loss(torch.ones(3, 1, 5, 5)) == 0
