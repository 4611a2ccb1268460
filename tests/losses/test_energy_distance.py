"""W_c and the mini-batch energy distance: gradients through the cost only, ~0 between equal distributions."""

import torch

from ganzoo.losses import cosine_cost, minibatch_energy_distance, sinkhorn, sinkhorn_distance


def test_no_gradient_flows_through_sinkhorn_iterations():
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(8, 11, generator=g, dtype=torch.float64, requires_grad=True)
    plan = sinkhorn(cost, 0.1, 50)
    assert plan.grad_fn is None and not plan.requires_grad
    (grad,) = torch.autograd.grad(sinkhorn_distance(cost, 0.1, 50), cost)
    # With the plan held fixed the gradient of sum(M * C) is M; through the iterations it would not be.
    torch.testing.assert_close(grad, sinkhorn(cost.detach(), 0.1, 50), rtol=0, atol=0)


def test_gradient_wrt_embeddings_is_the_analytic_one_for_fixed_plan():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(9, 5, generator=g, dtype=torch.float64, requires_grad=True)
    gx, gy = torch.autograd.grad(sinkhorn_distance(cosine_cost(x, y), 0.05, 100), (x, y))

    x, y = x.detach(), y.detach()
    nx, ny = x.norm(dim=1, keepdim=True), y.norm(dim=1, keepdim=True)
    xh, yh = x / nx, y / ny
    plan = sinkhorn(1 - xh @ yh.T, 0.05, 100)
    # W = sum_ij M_ij (1 - xh_i . yh_j); d xh / d x = (I - xh xh^T) / |x|.
    dxh, dyh = -plan @ yh, -plan.T @ xh
    expected_x = (dxh - (dxh * xh).sum(1, keepdim=True) * xh) / nx
    expected_y = (dyh - (dyh * yh).sum(1, keepdim=True) * yh) / ny
    torch.testing.assert_close(gx, expected_x, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gy, expected_y, rtol=1e-10, atol=1e-12)


def test_loss_is_the_weighted_sum_of_six_separately_solved_terms():
    g = torch.Generator().manual_seed(2)
    x, x2, y, y2 = torch.randn(4, 16, 6, generator=g, dtype=torch.float64)
    loss, terms = minibatch_energy_distance(x, x2, y, y2, 0.05, 100)

    def w(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return sinkhorn_distance(cosine_cost(a, b), 0.05, 100)

    expected = w(x, y) + w(x, y2) + w(x2, y) + w(x2, y2) - 2 * w(x, x2) - 2 * w(y, y2)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(terms["xx2"], w(x, x2))
    torch.testing.assert_close(terms["yy2"], w(y, y2))
    torch.testing.assert_close(terms["x2y"], w(x2, y))


def test_energy_distance_is_near_zero_for_batches_of_one_distribution():
    g = torch.Generator().manual_seed(3)
    k, d = 128, 8
    centre, other = torch.zeros(d), torch.zeros(d)
    centre[0], other[1] = 2.0, 2.0

    def batch(mean: torch.Tensor) -> torch.Tensor:
        return mean + torch.randn(k, d, generator=g)

    same = [minibatch_energy_distance(*(batch(centre) for _ in range(4)), 0.05, 100)[0] for _ in range(4)]
    different = minibatch_energy_distance(batch(centre), batch(centre), batch(other), batch(other), 0.05, 200)[0]
    assert different > 0.2
    assert all(abs(value) < 0.05 * different for value in same)
    assert abs(sum(same) / len(same)) < 0.02 * different
