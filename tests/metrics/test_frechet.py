"""FID through GenerativeMetrics: zero on identical sets, monotone in noise, equal to scipy's Frechet distance."""

import itertools

import numpy as np
import pytest
import torch
from scipy import linalg

from ganzoo.data import SyntheticDataModule
from ganzoo.metrics import DigitExtractor, GenerativeMetrics


@pytest.fixture(scope="module")
def extractor() -> DigitExtractor:
    return DigitExtractor("mnist")


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return SyntheticDataModule(num_samples=800, seed=3).load_split(train=True)[0]


def fid(extractor: DigitExtractor, real: torch.Tensor, fake: torch.Tensor) -> float:
    metrics = GenerativeMetrics(extractor, num_samples=len(fake), kid_subset_size=100, kid_subsets=5)
    for batch in real.split(300):
        metrics.update(batch, real=True)
    for batch in fake.split(300):
        metrics.update(batch, real=False)
    return metrics.compute()["fid"]


def frechet_scipy(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), straight from the definition."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s_a @ s_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * root))


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise(extractor, images):
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(images.shape, generator=g)
    values = [fid(extractor, images, (images + s * noise).clamp(-1, 1)) for s in (0.0, 0.1, 0.3, 1.0)]
    assert abs(values[0]) < 1e-3 * values[1]
    assert all(a < b for a, b in itertools.pairwise(values)), values
    assert values[-1] > 10 * values[1]


# Some ReLU features are 0 on every synthetic image, so scipy warns that the product is singular; it is exact.
@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_module_fid_equals_a_direct_scipy_computation_on_the_same_features(extractor, images):
    real, fake = images[:400], (images[400:] + 0.5 * torch.randn(images[400:].shape)).clamp(-1, 1)
    with torch.no_grad():
        a = extractor.extract(real)[0].double().numpy()
        b = extractor.extract(fake)[0].double().numpy()
    expected = frechet_scipy(a, b)
    assert expected > 1.0
    assert fid(extractor, real, fake) == pytest.approx(expected, rel=1e-4)
