import math

import torch
import torch.nn.functional as F

from ganzoo.losses import (
    discriminator_loss,
    generator_loss_hinge,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    hinge_discriminator_loss,
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


def test_label_smoothing_is_the_binary_cross_entropy_against_smoothed_real_targets():
    real, fake = [2.0, -0.5, 0.3], [-1.0, 3.0, 0.0]
    # by hand: a real logit r costs -(0.9 log D(r) + 0.1 log(1 - D(r))); fakes keep target 0
    expected = -sum(0.9 * math.log(_d(r)) + 0.1 * math.log(1 - _d(r)) for r in real) / 3
    expected -= sum(math.log(1 - _d(f)) for f in fake) / 3
    r, f = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    assert math.isclose(discriminator_loss(r, f, real_label=0.9).item(), expected, rel_tol=1e-12)
    bce = F.binary_cross_entropy_with_logits
    reference = bce(r, torch.full_like(r, 0.9)) + bce(f, torch.zeros_like(f))
    assert math.isclose(discriminator_loss(r, f, real_label=0.9).item(), reference.item(), rel_tol=1e-12)
    # the optimum for a real logit moves from +infinity to log(0.9 / 0.1): D is no longer paid for certainty
    logit = torch.tensor([math.log(9.0)], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(discriminator_loss(logit, torch.tensor([-50.0], dtype=torch.float64), 0.9), logit)
    assert abs(grad.item()) < 1e-12


def test_losses_stay_finite_for_extreme_logits():
    extreme = torch.tensor([-1e4, 1e4])
    for value in (
        discriminator_loss(extreme, extreme),
        discriminator_loss(extreme, extreme, real_label=0.9),
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
