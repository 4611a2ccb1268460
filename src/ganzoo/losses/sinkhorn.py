"""Entropic optimal transport by Sinkhorn's algorithm in the log domain, without gradient.

The plan has uniform marginals 1/K and 1/L and follows POT's `ot.sinkhorn` (reg = `epsilon`):
P = argmin <P, C> - epsilon H(P), written P_ij = exp((f_i + g_j - C_ij) / epsilon) with dual potentials f, g.
Each iteration updates g (columns) and then f (rows), as POT does, so rows sum exactly to 1/K on return.
Working on potentials rather than on exp(-C / epsilon) keeps every exponent <= 0 after a max shift: no
underflow to 0/0 for small epsilon. One K x L work buffer is reused by every iteration and becomes the plan,
so memory is the cost matrix plus one copy of it, whatever the number of iterations.
"""

import math

import torch

# The tolerance is checked every this many iterations: each check waits for the device.
CHECK_EVERY = 10


def _log_marginal(work: torch.Tensor, dim: int) -> torch.Tensor:
    """logsumexp of `work` over `dim`, overwriting `work` instead of allocating K x L temporaries."""
    shift = work.amax(dim=dim, keepdim=True)
    work.sub_(shift).exp_()
    return work.sum(dim=dim).log_().add_(shift.squeeze(dim))


@torch.no_grad()
def sinkhorn(
    cost: torch.Tensor, epsilon: float, iterations: int = 100, tol: float | None = None
) -> torch.Tensor:
    """Entropic OT plan between uniform weights for a `K x L` or batched `B x K x L` cost.

    Runs `iterations` updates, or fewer once the column marginals are within `tol` (L1, worst batch
    entry, checked every CHECK_EVERY iterations). `(plan * cost).sum((-2, -1))` is the transport cost.
    No gradient flows through the iterations (OT-GAN paper): differentiate `(plan * cost)` instead.
    """
    if cost.dim() not in (2, 3):
        raise ValueError(f"sinkhorn needs a K x L or B x K x L cost, got shape {tuple(cost.shape)}.")
    if epsilon <= 0:
        raise ValueError(f"sinkhorn needs epsilon > 0, got {epsilon}.")
    rows, cols = cost.shape[-2:]
    log_a, log_b = -math.log(rows), -math.log(cols)
    scale = -1.0 / epsilon
    f = cost.new_zeros(cost.shape[:-1])  # potentials divided by epsilon, rows
    g = cost.new_zeros((*cost.shape[:-2], cols))  # and columns
    work = torch.empty_like(cost)
    for it in range(iterations):
        # g_j = log b - logsumexp_i(f_i - C_ij / eps)
        torch.add(f.unsqueeze(-1), cost, alpha=scale, out=work)
        g_new = _log_marginal(work, -2).neg_().add_(log_b)
        if tol is not None and it % CHECK_EVERY == 0 and it > 0:
            # The column sums of the current plan are b * exp(g - g_new): no extra pass over C.
            error = (torch.expm1(g - g_new).abs().sum(-1) / cols).max()
            if error.item() < tol:
                break
        g = g_new
        # f_i = log a - logsumexp_j(g_j - C_ij / eps)
        torch.add(g.unsqueeze(-2), cost, alpha=scale, out=work)
        f = _log_marginal(work, -1).neg_().add_(log_a)
    torch.add(g.unsqueeze(-2), cost, alpha=scale, out=work)
    return work.add_(f.unsqueeze(-1)).exp_()
