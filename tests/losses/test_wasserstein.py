"""The gradient penalty against hand computations on critics whose input gradients are known analytically."""

import math

import pytest
import torch

from ganzoo.losses import gradient_penalty, lazy_weight, random_interpolates

LAMBDA = 10.0


def test_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared_and_trains_it():
    # f(x) = <w, x> + b has input gradient w everywhere: penalty = lambda * (||w|| - 1)^2 for any batch.
    torch.manual_seed(0)
    w = torch.randn(16, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.3, dtype=torch.float64)
    points = torch.randn(5, 1, 4, 4, dtype=torch.float64)
    norm = w.detach().norm().item()
    expected = LAMBDA * (norm - 1) ** 2

    def critic(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ w + b

    penalty = gradient_penalty(critic, points, LAMBDA)
    assert math.isclose(penalty.item(), expected, rel_tol=1e-12)
    # create_graph: the penalty reaches the critic's weights, d/dw = 2 lambda (||w|| - 1) w / ||w||.
    (grad,) = torch.autograd.grad(penalty, w)
    torch.testing.assert_close(grad, 2 * LAMBDA * (norm - 1) * w.detach() / norm)

    # Under bfloat16 autocast the penalty is still computed, and returned, in fp32.
    w32 = torch.nn.Linear(16, 1)
    expected32 = LAMBDA * (w32.weight.detach().norm().item() - 1) ** 2
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty16 = gradient_penalty(lambda x: w32(x.flatten(1)).squeeze(1), points.float(), LAMBDA)
    assert penalty16.dtype == torch.float32
    assert math.isclose(penalty16.item(), expected32, rel_tol=1e-5)


def test_penalty_is_the_mean_of_per_sample_penalties():
    # f(x) = ||x||^2 / 2 summed per sample has gradient x_i for sample i: norms 3 and 0.5 here.
    def critic(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.flatten(1).pow(2).sum(1)

    x1 = torch.zeros(1, 2, 3, 3, dtype=torch.float64)
    x1[0, 0, 0, 0], x1[0, 1, 2, 2] = 3 * 0.6, 3 * 0.8
    x2 = torch.full((1, 2, 3, 3), 0.5 / math.sqrt(18), dtype=torch.float64)
    batch = torch.cat([x1, x2])

    penalty = gradient_penalty(critic, batch, LAMBDA).item()
    by_hand = LAMBDA * ((3 - 1) ** 2 + (0.5 - 1) ** 2) / 2
    singles = (gradient_penalty(critic, x1, LAMBDA).item() + gradient_penalty(critic, x2, LAMBDA).item()) / 2
    assert math.isclose(penalty, by_hand, rel_tol=1e-12)
    assert math.isclose(penalty, singles, rel_tol=1e-12)
    # One norm over the whole batch's gradient would give lambda * (sqrt(9 + 0.25) - 1)^2 instead.
    assert not math.isclose(penalty, LAMBDA * (math.sqrt(9.25) - 1) ** 2, rel_tol=1e-2)


@pytest.mark.parametrize("shape", [(6, 1, 4, 4), (6, 3)])
def test_interpolates_draw_one_epsilon_per_sample(shape: tuple[int, ...]):
    real, fake = torch.ones(shape), torch.zeros(shape)
    points = random_interpolates(real, fake, torch.Generator().manual_seed(0))
    eps = points.flatten(1)
    # Constant within a sample (that sample's eps), different across samples, inside [0, 1].
    torch.testing.assert_close(eps, eps[:, :1].expand_as(eps))
    assert eps[:, 0].unique().numel() == shape[0]
    assert bool(((eps >= 0) & (eps <= 1)).all())


def test_lazy_weight_is_k_times_the_weight_on_every_kth_update_and_0_between():
    assert [lazy_weight(10.0, 3, n) for n in range(7)] == [30.0, 0, 0, 30.0, 0, 0, 30.0]
    assert [lazy_weight(10.0, 1, n) for n in range(3)] == [10.0] * 3
    for every in (0, -2, 1.5):
        with pytest.raises(ValueError, match="penalty_every must be an integer >= 1"):
            lazy_weight(10.0, every, 0)
