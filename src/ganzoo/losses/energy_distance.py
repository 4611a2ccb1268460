"""OT-GAN's mini-batch energy distance (Salimans et al., 2018) on a learned cosine cost.

W_c(X, Y) = sum(M * C) with C_ij = 1 - cos(v(x_i), v(y_j)) and M the Sinkhorn plan of C. M is computed
without gradient, so the gradient reaches the critic embeddings v through C only, as the paper prescribes.
M has uniform marginals 1/K (POT's convention), so W_c is a mean cost in [0, 2]; the paper's M sums to 1 per
row and its W_c is K times ours.
"""

import torch
import torch.nn.functional as F

from ganzoo.losses.sinkhorn import sinkhorn

# The six mini-batch pairs of the loss and their weights, by the names the model logs (x2, y2 are X', Y').
TERMS = {
    "xy": ("x", "y", 1.0),
    "xy2": ("x", "y2", 1.0),
    "x2y": ("x2", "y", 1.0),
    "x2y2": ("x2", "y2", 1.0),
    "xx2": ("x", "x2", -2.0),
    "yy2": ("y", "y2", -2.0),
}


def cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """C_ij = 1 - cos(x_i, y_j) for (..., K, D) and (..., L, D) embeddings: (..., K, L), values in [0, 2]."""
    return 1 - F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).transpose(-2, -1)


def sinkhorn_distance(cost: torch.Tensor, epsilon: float, iterations: int = 100) -> torch.Tensor:
    """W_c = sum(M * C) over the last two dims, M = sinkhorn(C) held fixed: the gradient is M itself."""
    plan = sinkhorn(cost.detach(), epsilon, iterations)
    return (plan * cost).sum((-2, -1))


def minibatch_energy_distance(
    x: torch.Tensor,
    x2: torch.Tensor,
    y: torch.Tensor,
    y2: torch.Tensor,
    epsilon: float,
    iterations: int = 100,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L = W(X,Y) + W(X,Y') + W(X',Y) + W(X',Y') - 2 W(X,X') - 2 W(Y,Y'), and the six W terms by name.

    x, x2 are embeddings of two independent real batches and y, y2 of two generated ones, all K x D.
    L estimates twice the energy distance: ~0 when the four batches share a distribution. The six
    Sinkhorn problems are solved as one batch.
    """
    batches = {"x": x, "x2": x2, "y": y, "y2": y2}
    sizes = {b.shape for b in batches.values()}
    if len(sizes) != 1:
        raise ValueError(f"The four embedding batches must have one shape K x D, got {sorted(sizes)}.")
    costs = torch.stack([cosine_cost(batches[a], batches[b]) for a, b, _ in TERMS.values()])
    distances = sinkhorn_distance(costs, epsilon, iterations)
    terms = dict(zip(TERMS, distances.unbind(), strict=True))
    loss = sum(weight * terms[name] for name, (_, _, weight) in TERMS.items())
    return loss, terms
