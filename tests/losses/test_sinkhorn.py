"""ganzoo's Sinkhorn against POT: same plans and marginals, stable at small epsilon, the exact OT cost in the
limit."""

import math

import ot
import pytest
import torch

from ganzoo.losses import sinkhorn


def uniform(n: int) -> torch.Tensor:
    return torch.full((n,), 1.0 / n, dtype=torch.float64)


def pot_plan(cost: torch.Tensor, epsilon: float, iterations: int, method: str = "sinkhorn") -> torch.Tensor:
    """POT's plan for the same cost and iterations (stopThr=0: it never stops early)."""
    k, n = cost.shape
    return ot.sinkhorn(
        uniform(k), uniform(n), cost, epsilon, method=method, numItermax=iterations, stopThr=0, warn=False
    )


def assert_marginals(plan: torch.Tensor, atol: float = 1e-6) -> None:
    k, n = plan.shape[-2:]
    torch.testing.assert_close(plan.sum(-1), torch.full_like(plan.sum(-1), 1 / k), rtol=0, atol=atol)
    torch.testing.assert_close(plan.sum(-2), torch.full_like(plan.sum(-2), 1 / n), rtol=0, atol=atol)


# Costs span 2: the first two epsilons run on the plain kernel exp(-C / epsilon), the others on the stabilised one.
@pytest.mark.parametrize("epsilon", [1.0, 0.1, 0.02, 0.005])
def test_plan_matches_pot_for_random_costs(epsilon: float):
    g = torch.Generator().manual_seed(0)
    cost = 2 * torch.rand(12, 17, generator=g, dtype=torch.float64)
    plan = sinkhorn(cost, epsilon, iterations=1000)
    torch.testing.assert_close(plan, pot_plan(cost, epsilon, 1000), rtol=0, atol=1e-5)
    assert_marginals(plan)


def test_batched_costs_are_solved_independently():
    g = torch.Generator().manual_seed(1)
    costs = torch.rand(3, 9, 14, generator=g, dtype=torch.float64) * torch.tensor([0.5, 1.0, 2.0])[:, None, None]
    plans = sinkhorn(costs, 0.1, iterations=500)
    for cost, plan in zip(costs, plans, strict=True):
        torch.testing.assert_close(plan, pot_plan(cost, 0.1, 500), rtol=0, atol=1e-5)
    assert_marginals(plans)


def test_small_epsilon_is_finite_and_matches_pot_log_domain():
    # exp(-C / 1e-3) underflows to 0 for almost every entry: POT's plain method breaks here.
    g = torch.Generator().manual_seed(2)
    cost = 2 * torch.rand(24, 24, generator=g, dtype=torch.float64)
    plan = sinkhorn(cost, 1e-3, iterations=300)
    torch.testing.assert_close(plan, pot_plan(cost, 1e-3, 300, method="sinkhorn_log"), rtol=0, atol=1e-5)
    plan32 = sinkhorn(cost.float(), 1e-3, iterations=300)
    assert torch.isfinite(plan32).all()
    torch.testing.assert_close(plan32.double(), plan, rtol=0, atol=1e-5)


@pytest.mark.parametrize("epsilon", [0.01, 3e-3, 1e-3])
def test_stabilised_kernel_in_float32_matches_pot_where_its_plain_kernel_underflows(epsilon: float):
    # Span / epsilon of 200 to 2000: beyond the plain kernel in float32, the scalings absorbed into potentials.
    g = torch.Generator().manual_seed(5)
    costs = 2 * torch.rand(2, 40, 33, generator=g, dtype=torch.float64)
    plans = sinkhorn(costs.float(), epsilon, iterations=200)
    assert torch.isfinite(plans).all()
    for cost, plan in zip(costs, plans, strict=True):
        reference = pot_plan(cost, epsilon, 200, method="sinkhorn_log")
        torch.testing.assert_close(sinkhorn(cost, epsilon, iterations=200), reference, rtol=0, atol=1e-10)
        torch.testing.assert_close(plan.double(), reference, rtol=0, atol=1e-6)
    # Not converged in 200 iterations at these epsilons: only the rows, updated last, sum to 1/K.
    torch.testing.assert_close(plans.sum(-1), torch.full((2, 40), 1 / 40), rtol=0, atol=1e-6)


def test_stabilised_kernel_survives_a_point_far_from_all_others():
    # One column costs 1.5 more than any other from every row: its kernel column underflows at first, so the
    # first iterations fall back to the log domain before the scalings settle.
    g = torch.Generator().manual_seed(6)
    cost = 0.5 * torch.rand(20, 20, generator=g, dtype=torch.float64)
    cost[:, 7] += 1.5
    plan = sinkhorn(cost.float(), 2e-3, iterations=300, tol=1e-6)
    assert torch.isfinite(plan).all()
    reference = pot_plan(cost, 2e-3, 300, method="sinkhorn_log")
    torch.testing.assert_close(sinkhorn(cost, 2e-3, iterations=300), reference, rtol=0, atol=1e-10)
    torch.testing.assert_close(plan.double(), sinkhorn(cost, 2e-3, iterations=300, tol=1e-6), rtol=0, atol=1e-6)


def test_cost_approaches_exact_ot_as_epsilon_shrinks():
    g = torch.Generator().manual_seed(3)
    points, targets = torch.randn(10, 2, generator=g), torch.randn(13, 2, generator=g)
    cost = torch.cdist(points, targets).double()
    exact = ot.emd2(uniform(10), uniform(13), cost).item()
    gaps = []
    for epsilon in (0.3, 0.1, 0.03, 0.01, 0.003):
        plan = sinkhorn(cost, epsilon, iterations=20000, tol=1e-10)
        assert_marginals(plan, atol=1e-8)
        gap = (plan * cost).sum().item() - exact
        # A feasible plan costs at least the optimum, and the entropic one at most epsilon log(KL) more.
        assert -1e-7 <= gap <= epsilon * math.log(10 * 13)
        gaps.append(gap)
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-3 * exact


def test_tolerance_stops_early_at_that_accuracy():
    g = torch.Generator().manual_seed(4)
    cost = torch.rand(16, 16, generator=g, dtype=torch.float64)
    loose = sinkhorn(cost, 0.05, iterations=10000, tol=1e-4)
    column_error = (loose.sum(0) - 1 / 16).abs().sum().item()
    assert 0 < column_error < 1e-4
    converged = sinkhorn(cost, 0.05, iterations=2000)
    assert (converged.sum(0) - 1 / 16).abs().sum().item() < column_error / 100
