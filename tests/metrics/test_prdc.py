"""Precision, recall, density and coverage against a brute-force computation, known cases and `prdc`."""

import numpy as np
import pytest
import torch

from ganzoo.metrics import prdc as prdc_module
from ganzoo.metrics.prdc import PrecisionRecallDensityCoverage, kth_neighbour_distances, prdc


def brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The definitions, point by point, with full distance matrices and Python loops."""

    def radius(points: np.ndarray, i: int) -> float:
        others = [np.linalg.norm(points[i] - points[j]) for j in range(len(points)) if j != i]
        return sorted(others)[k - 1]

    r_real = [radius(real, i) for i in range(len(real))]
    r_fake = [radius(fake, j) for j in range(len(fake))]
    d = np.array([[np.linalg.norm(x - y) for y in fake] for x in real])  # real x fake
    precision = np.mean([any(d[i, j] < r_real[i] for i in range(len(real))) for j in range(len(fake))])
    recall = np.mean([any(d[i, j] < r_fake[j] for j in range(len(fake))) for i in range(len(real))])
    density = sum(d[i, j] < r_real[i] for i in range(len(real)) for j in range(len(fake))) / (k * len(fake))
    coverage = np.mean([min(d[i]) < r_real[i] for i in range(len(real))])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def sets(seed: int = 0, n_real: int = 40, n_fake: int = 30, dim: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n_real, dim, generator=g), torch.randn(n_fake, dim, generator=g) * 1.3 + 0.4


@pytest.mark.parametrize("k", [1, 3, 5])
def test_equals_the_brute_force_definitions(k: int):
    real, fake = sets(k)
    expected = brute_force(real.double().numpy(), fake.double().numpy(), k)
    assert prdc(real, fake, k) == pytest.approx(expected, abs=1e-12)


def test_blocked_distances_give_the_same_values(monkeypatch):
    real, fake = sets(1, n_real=50, n_fake=45)
    whole = prdc(real, fake, 5)
    monkeypatch.setattr(prdc_module, "BLOCK", 7)
    assert prdc(real, fake, 5) == whole
    assert torch.equal(kth_neighbour_distances(real, 5), prdc_module.kth_neighbour_distances(real, 5))


def test_identical_sets_score_one_and_far_apart_sets_zero():
    real, _ = sets(2)
    assert prdc(real, real.clone(), 5) == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    far = prdc(real, real + 1000.0, 5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_equals_the_authors_prdc_package():
    reference = pytest.importorskip("prdc")
    real, fake = sets(3, n_real=200, n_fake=150, dim=16)
    expected = reference.compute_prdc(real.double().numpy(), fake.double().numpy(), nearest_k=5)
    assert prdc(real, fake, 5) == pytest.approx({k: float(v) for k, v in expected.items()}, abs=1e-12)


def test_the_metric_keeps_its_real_features_across_reset():
    real, fake = sets(4)
    metric = PrecisionRecallDensityCoverage(k=3)
    metric.update(real[:20], real=True)
    metric.update(real[20:], real=True)
    metric.update(fake, real=False)
    first = metric.compute()
    metric.reset()
    metric.update(fake, real=False)
    assert metric.compute() == first == prdc(real, fake, 3)
    with pytest.raises(ValueError, match="prdc_k must be >= 1"):
        PrecisionRecallDensityCoverage(k=0)
