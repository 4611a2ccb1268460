"""How much class information a representation keeps: nearest-neighbour accuracy of labelled codes."""

import torch


@torch.no_grad()
def nearest_neighbour_accuracy(codes: torch.Tensor, labels: torch.Tensor, chunk: int = 1024) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy (Euclidean) of `codes` (N, D) with `labels` (N,).

    Every sample is classified by the label of its closest other sample, so there is nothing to fit and no
    split to choose; chance is the frequency of the commonest class. Distances in float64, `chunk` rows at a time.
    """
    if len(codes) < 2:
        raise ValueError(f"nearest_neighbour_accuracy needs at least 2 samples, got {len(codes)}.")
    x = codes.flatten(1).double()
    correct = 0
    for start in range(0, len(x), chunk):
        distances = torch.cdist(x[start : start + chunk], x)
        rows = torch.arange(distances.shape[0], device=x.device)
        distances[rows, rows + start] = float("inf")  # not its own neighbour
        correct += int((labels[distances.argmin(dim=1)] == labels[start : start + chunk]).sum())
    return correct / len(x)
