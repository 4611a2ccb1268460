"""Precision and recall (Kynkaanniemi et al., 2019) and density and coverage (Naeem et al., 2020) on features.

Each real (generated) feature gets a ball whose radius is the distance to its k-th nearest neighbour among the
real (generated) features, itself left out. Then, over M generated and N real features:
- precision: the fraction of generated features inside some real ball (quality);
- recall: the fraction of real features inside some generated ball (diversity);
- density: real balls that hold each generated feature, counted, over k M (quality, robust to outliers);
- coverage: the fraction of real balls that hold a generated feature (diversity, robust to outliers).
The comparisons are strict (`<`), as in the authors' `prdc` package. Distances are computed in blocks of rows,
so 10,000 x 10,000 features never hold the full distance matrix.
"""

import torch
from torchmetrics import Metric

BLOCK = 1024  # rows of distances at a time: 1024 x 10,000 float32 is 40 MB


def _blocks(x: torch.Tensor) -> list[torch.Tensor]:
    return list(torch.split(x, BLOCK))


def kth_neighbour_distances(x: torch.Tensor, k: int) -> torch.Tensor:
    """For each row of x, the Euclidean distance to its k-th nearest other row."""
    if len(x) <= k:
        raise ValueError(f"k={k} nearest neighbours need more than {k} points, got {len(x)}.")
    return torch.cat([torch.cdist(block, x).topk(k + 1, dim=1, largest=False).values[:, k] for block in _blocks(x)])


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` against `real` (rows are feature vectors)."""
    real, fake = real.double(), fake.double()
    real_radii, fake_radii = kth_neighbour_distances(real, k), kth_neighbour_distances(fake, k)
    inside_real = torch.zeros(len(fake), dtype=torch.long)  # per generated feature: real balls that hold it
    covered = torch.zeros(len(real), dtype=torch.bool)  # per real ball: holds a generated feature
    recalled = torch.zeros(len(real), dtype=torch.bool)  # per real feature: inside some generated ball
    start = 0
    for block in _blocks(real):
        d = torch.cdist(block, fake)  # rows: real features of this block, columns: all generated
        radii = real_radii[start : start + len(block), None]
        inside_real += (d < radii).sum(dim=0)
        covered[start : start + len(block)] = d.min(dim=1).values < radii[:, 0]
        recalled[start : start + len(block)] = (d < fake_radii[None, :]).any(dim=1)
        start += len(block)
    return {
        "precision": float((inside_real > 0).double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(inside_real.double().sum() / (k * len(fake))),
        "coverage": float(covered.double().mean()),
    }


class PrecisionRecallDensityCoverage(Metric):
    """The four values on features gathered from every process (concatenated, as torchmetrics' KID does); the
    real features are kept across `reset`, like FID's and KID's with `reset_real_features=False`."""

    full_state_update = False

    def __init__(self, k: int = 5) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"metrics.prdc_k must be >= 1 (nearest neighbours), got {k}.")
        self.k = k
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, features: torch.Tensor, real: bool) -> None:
        (self.real_features if real else self.fake_features).append(features.detach().float())

    def compute(self) -> dict[str, float]:
        def cat(states: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
            return torch.cat(states) if isinstance(states, list) else states

        return prdc(cat(self.real_features).cpu(), cat(self.fake_features).cpu(), self.k)

    def reset(self) -> None:
        real = list(self.real_features)  # torchmetrics clears list states in place
        super().reset()
        self.real_features = real
