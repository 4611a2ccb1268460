"""Entropic optimal transport by Sinkhorn's algorithm, stable for small epsilon, without gradient.

The plan has uniform marginals 1/K and 1/L and follows POT's `ot.sinkhorn` (reg = `epsilon`):
P = argmin <P, C> - epsilon H(P) = diag(u) exp(-C / epsilon) diag(v). Each iteration rescales the columns and
then the rows, as POT does, so rows sum exactly to 1/K on return and the iterates are POT's.

exp(-C / epsilon) underflows once the span of C exceeds ~87 epsilon in float32 (the classic Sinkhorn-Knopp
iteration then divides 0 by 0), so such costs run in the log domain, on potentials f = epsilon log u and
g = epsilon log v, with every exponent shifted to <= 0 before `exp`. Where the kernel is safely representable
the scaling form gives the same iterates with two matrix-vector products per iteration instead of two
`exp` passes. Either way one K x L buffer is reused by every iteration and becomes the plan: memory is the
cost plus one copy of it, whatever the number of iterations.
"""

import math

import torch

# The tolerance is checked every this many iterations: each check waits for the device.
CHECK_EVERY = 10


@torch.no_grad()
def sinkhorn(cost: torch.Tensor, epsilon: float, iterations: int = 100, tol: float | None = None) -> torch.Tensor:
    """Entropic OT plan between uniform weights for a `K x L` or batched `B x K x L` cost.

    Runs `iterations` updates, or fewer once the column marginals are within `tol` (L1 distance, worst batch
    entry, checked every CHECK_EVERY iterations). `(plan * cost).sum((-2, -1))` is the transport cost.
    No gradient flows through the iterations (OT-GAN paper): differentiate `(plan * cost)` instead.
    """
    if cost.dim() not in (2, 3):
        raise ValueError(f"sinkhorn needs a K x L or B x K x L cost, got shape {tuple(cost.shape)}.")
    if epsilon <= 0:
        raise ValueError(f"sinkhorn needs epsilon > 0, got {epsilon}.")
    dtype = cost.dtype
    cost = cost.to(torch.promote_types(dtype, torch.float32))  # half precision (autocast) is solved in float32
    low = cost.amin((-2, -1), keepdim=True)
    span = float((cost.amax((-2, -1), keepdim=True) - low).max()) / epsilon
    # With span <= half the exponent range, the kernel and both scalings stay normal numbers.
    if span <= -math.log(torch.finfo(cost.dtype).tiny) / 2:
        return _scaling(cost, low, epsilon, iterations, tol).to(dtype)
    return _log_domain(cost, epsilon, iterations, tol).to(dtype)


def _converged(ratio: torch.Tensor, it: int, tol: float | None) -> bool:
    """Whether the column sums, `ratio` times their targets 1/L, are within `tol` (L1) in every batch entry."""
    if tol is None or it == 0 or it % CHECK_EVERY:
        return False
    return (ratio - 1).abs().mean(-1).max().item() < tol


def _scaling(cost: torch.Tensor, low: torch.Tensor, epsilon: float, iterations: int, tol: float | None) -> torch.Tensor:
    """Sinkhorn-Knopp on the kernel exp(-(C - min C) / epsilon), whose entries all lie in (0, 1]."""
    rows, cols = cost.shape[-2:]
    kernel = torch.sub(cost, low).div_(-epsilon).exp_()
    u = cost.new_ones((*cost.shape[:-1], 1))
    v = cost.new_ones((*cost.shape[:-2], cols, 1))
    for it in range(iterations):
        v_new = (kernel.mT @ u).mul_(cols).reciprocal_()
        # The current plan's column sums are v / v_new times 1/L: no extra pass over the kernel.
        if _converged((v / v_new).squeeze(-1), it, tol):
            break
        v = v_new
        u = (kernel @ v).mul_(rows).reciprocal_()
    return kernel.mul_(u).mul_(v.mT)


def _log_domain(cost: torch.Tensor, epsilon: float, iterations: int, tol: float | None) -> torch.Tensor:
    """The same iterations on potentials divided by epsilon: f_i = log a - logsumexp_j(g_j - C_ij / eps)."""
    rows, cols = cost.shape[-2:]
    log_a, log_b, scale = -math.log(rows), -math.log(cols), -1.0 / epsilon
    floor = math.log(torch.finfo(cost.dtype).tiny) + 1  # exp(floor) is a normal number, even rounded
    f = cost.new_zeros(cost.shape[:-1])
    g = cost.new_zeros((*cost.shape[:-2], cols))
    work = torch.empty_like(cost)
    for it in range(iterations):
        torch.add(f.unsqueeze(-1), cost, alpha=scale, out=work)
        g_new = _logsumexp_(work, -2, floor).neg_().add_(log_b)
        # The current plan's column sums are exp(g - g_new) times 1/L.
        if _converged(torch.exp(g - g_new), it, tol):
            break
        g = g_new
        torch.add(g.unsqueeze(-2), cost, alpha=scale, out=work)
        f = _logsumexp_(work, -1, floor).neg_().add_(log_a)
    torch.add(g.unsqueeze(-2), cost, alpha=scale, out=work)
    return work.add_(f.unsqueeze(-1)).clamp_(min=floor).exp_()


def _logsumexp_(work: torch.Tensor, dim: int, floor: float) -> torch.Tensor:
    """logsumexp over `dim`, overwriting `work` instead of allocating K x L temporaries.

    Exponents are clamped at `floor`, just above log(smallest normal number): `exp` with a subnormal or zero
    result takes a slow path on CPUs (30x slower), and such terms add nothing to a sum whose largest is 1.
    """
    shift = work.amax(dim=dim, keepdim=True)
    work.sub_(shift).clamp_(min=floor).exp_()
    return work.sum(dim=dim).log_().add_(shift.squeeze(dim))
