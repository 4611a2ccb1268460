"""Entropic optimal transport by Sinkhorn's algorithm, stable for small epsilon, without gradient.

The plan has uniform marginals 1/K and 1/L and follows POT's `ot.sinkhorn` (reg = `epsilon`):
P = argmin <P, C> - epsilon H(P) = diag(u) exp(-C / epsilon) diag(v). Each iteration rescales the columns and
then the rows, as POT does, so rows sum exactly to 1/K on return and the iterates are POT's.

Where the kernel exp(-(C - min C) / epsilon) and both scalings are safely representable (span of C up to
~43 epsilon in float32) the plain Sinkhorn-Knopp iteration runs: two matrix-vector products per iteration.
Beyond that exp(-C / epsilon) underflows (the classic iteration then divides 0 by 0), so the same iterates
run on a kernel stabilised by log-potentials f, g (absorption, Schmitzer 2019): mostly matrix-vector
products, with the scalings absorbed into f and g, and the kernel rebuilt by a log-domain column update
(every exponent shifted to <= 0 before `exp`), whenever they leave exp(+-ABSORB); while the rows are still
far off (the first iterations at small epsilon) the row update runs in the log domain too. Either way one
K x L buffer is reused by every iteration and becomes the plan: memory is the cost plus one copy of it,
whatever the number of iterations.
"""

import math

import torch

# The tolerance is checked every this many iterations: each check waits for the device.
CHECK_EVERY = 10
# Stabilised scaling: u and v stay within exp(+-ABSORB) before they are absorbed into the potentials.
ABSORB = 10.0


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
    return _stabilised(cost, epsilon, iterations, tol).to(dtype)


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


def _stabilised(cost: torch.Tensor, epsilon: float, iterations: int, tol: float | None) -> torch.Tensor:
    """The same iterates as scalings u, v of a kernel stabilised by log-potentials f, g (Schmitzer 2019).

    The kernel holds exp(f_i + g_j - C_ij / epsilon), the plan is diag(u) kernel diag(v), and an iteration
    is two matrix-vector products as long as u and v stay within exp(+-ABSORB). Otherwise they are absorbed
    into f and g and the iteration is redone as a log-domain column update (one `exp` pass) that rebuilds
    the kernel with columns summing to 1/L, followed by a row update on that kernel, or in the log domain
    while the rows are still far off (the first iterations at small epsilon). Checking the range of u and v
    waits for the device once per iteration.
    """
    rows, cols = cost.shape[-2:]
    log_a, log_b, scale = -math.log(rows), -math.log(cols), -1.0 / epsilon
    floor = math.log(torch.finfo(cost.dtype).tiny) + 1
    # Kernel entries below exp(floor + ABSORB) are dropped (set to 0) on a rebuild, so that no product with u
    # or v is subnormal (slow on CPUs); what they carry, times u_i v_j <= exp(2 ABSORB), is negligible.
    lowest = floor + ABSORB + math.log(rows) + math.log(cols)
    high, low = math.exp(ABSORB), math.exp(-ABSORB)
    f = cost.new_zeros((*cost.shape[:-1], 1))
    g = cost.new_zeros((*cost.shape[:-2], 1, cols))
    u = cost.new_ones((*cost.shape[:-1], 1))
    v = cost.new_ones((*cost.shape[:-2], cols, 1))
    kernel = torch.empty_like(cost)
    stale = True  # the kernel does not hold exp(f + g - C / epsilon)
    for it in range(iterations):
        if not stale:
            v_new = (kernel.mT @ u).mul_(cols).reciprocal_()
            u_new = (kernel @ v_new).mul_(rows).reciprocal_()
            if _in_range(low, high, u_new, v_new):
                # The current plan's column sums are v / v_new times 1/L.
                if _converged((v / v_new).squeeze(-1), it, tol):
                    break
                u, v = u_new, v_new
                continue
        # Absorb u and v, then the column update in the log domain, kernel rebuilt in the same pass.
        f = f + u.log()
        g_old = g + v.mT.log()
        torch.add(f, cost, alpha=scale, out=kernel)
        shift = kernel.amax(-2, keepdim=True)
        kernel.sub_(shift).clamp_(min=lowest).exp_()
        torch.nn.functional.threshold_(kernel, math.exp(lowest) * 1.01, 0.0)
        total = kernel.sum(-2, keepdim=True)  # at least 1: each column's largest entry is 1
        g = total.log().add_(shift).neg_().add_(log_b)
        if _converged(torch.exp(g_old - g).squeeze(-2), it, tol):
            g, stale = g_old, True
            break
        kernel.mul_(total.reciprocal_().mul_(1 / cols))
        v = torch.ones_like(v)
        u = kernel.sum(-1, keepdim=True).mul_(rows).reciprocal_()
        stale = False
        if not _in_range(low, high, u):
            # Rows still far off: the row update in the log domain too, the kernel rebuilt next iteration.
            torch.add(g, cost, alpha=scale, out=kernel)
            f = _logsumexp_(kernel, -1, floor).neg_().add_(log_a).unsqueeze(-1)
            u, stale = torch.ones_like(u), True
    if stale:
        torch.add(g, cost, alpha=scale, out=kernel)
        return kernel.add_(f).clamp_(min=floor).exp_()
    return kernel.mul_(u).mul_(v.mT)


def _in_range(low: float, high: float, *xs: torch.Tensor) -> bool:
    """Whether every entry of every `x` lies in [low, high] (False on nan), with one wait for the device."""
    ok = None
    for x in xs:
        smallest, largest = torch.aminmax(x)
        ok = (smallest >= low) & (largest <= high) if ok is None else ok & (smallest >= low) & (largest <= high)
    return bool(ok)


def _logsumexp_(work: torch.Tensor, dim: int, floor: float) -> torch.Tensor:
    """logsumexp over `dim`, overwriting `work` instead of allocating K x L temporaries.

    Exponents are clamped at `floor`, just above log(smallest normal number): `exp` with a subnormal or zero
    result takes a slow path on CPUs (30x slower), and such terms add nothing to a sum whose largest is 1.
    """
    shift = work.amax(dim=dim, keepdim=True)
    work.sub_(shift).clamp_(min=floor).exp_()
    return work.sum(dim=dim).log_().add_(shift.squeeze(dim))
