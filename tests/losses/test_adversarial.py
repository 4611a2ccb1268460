import math

import torch

from ganzoo.losses import discriminator_loss, generator_loss_minimax, generator_loss_nonsaturating


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
