"""IS, KID and class coverage on the digit classifier, checked against real digits and direct computations."""

import numpy as np
import pytest
import torch
from torch import nn
from torchmetrics.image import InceptionScore

from conftest import DATA_DIR, requires_mnist
from ganzoo.data import MNISTDataModule, SyntheticDataModule
from ganzoo.metrics import DigitExtractor, GenerativeMetrics, inception_score_parts


@pytest.fixture(scope="module")
def extractor() -> DigitExtractor:
    return DigitExtractor("mnist")


@pytest.fixture(scope="module")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    return MNISTDataModule(data_dir=str(DATA_DIR)).load_split(train=False)


def scores(extractor: DigitExtractor, real: torch.Tensor, fake: torch.Tensor, **kwargs) -> dict[str, float]:
    metrics = GenerativeMetrics(extractor, num_samples=len(fake), **kwargs)
    for batch in real.split(1000):
        metrics.update(batch, real=True)
    for batch in fake.split(1000):
        metrics.update(batch, real=False)
    return metrics.compute()


def poly_mmd(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with KID's kernel (x.y / d + 1)^3."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    m, n = len(a), len(b)
    return float(
        (kaa.sum() - np.trace(kaa)) / (m * (m - 1)) + (kbb.sum() - np.trace(kbb)) / (n * (n - 1)) - 2 * kab.mean()
    )


def test_kid_of_identical_sets_is_near_zero_and_matches_a_direct_mmd_otherwise(extractor):
    images = SyntheticDataModule(num_samples=1000, seed=1).load_split(train=True)[0]
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    # One subset holding every sample: KID is then exactly the unbiased MMD^2 of the two full sets.
    kid = {
        s: scores(extractor, images, (images + s * noise).clamp(-1, 1), kid_subset_size=1000, kid_subsets=1)["kid"]
        for s in (0.0, 0.5, 1.0)
    }
    # Identical sets: only the estimator's O(1/m) overlap term remains, tiny next to a real difference.
    assert abs(kid[0.0]) < 0.01 * kid[1.0]
    assert 0 < kid[0.5] < kid[1.0]
    with torch.no_grad():
        a, b = (extractor.extract(x)[0].double().numpy() for x in (images, (images + 0.5 * noise).clamp(-1, 1)))
    assert kid[0.5] == pytest.approx(poly_mmd(a, b), rel=1e-4)
    assert kid[0.0] == pytest.approx(poly_mmd(a, a), rel=1e-4)


@requires_mnist
def test_inception_score_of_the_mnist_test_split_is_above_nine(extractor, mnist_test):
    images, labels = mnist_test
    result = scores(extractor, images[:500], images, kid_subset_size=100, kid_subsets=2)
    assert result["is"] > 9.0
    assert result["modes"] == 10
    # and one digit class alone scores about 1 (every image the same confident class): IS measures diversity
    threes = images[labels == 3]
    single = scores(extractor, images[:500], threes, kid_subset_size=100, kid_subsets=2)
    assert single["is"] < 1.5
    assert single["modes"] == 1
    assert single["class_3"] > 0.98


@requires_mnist
def test_class_coverage_counts_classes_with_at_least_five_percent(extractor, mnist_test):
    images, labels = mnist_test
    # 3 classes in full, and 4% of the set from a fourth class: below the 5% threshold
    chosen = torch.cat([images[labels == k][:300] for k in (0, 1, 2)] + [images[labels == 7][:38]])
    result = scores(extractor, images[:500], chosen, kid_subset_size=100, kid_subsets=2)
    assert result["modes"] == 3
    fractions = np.array([result[f"class_{k}"] for k in range(10)])
    assert fractions.sum() == pytest.approx(1.0)
    assert fractions[7] == pytest.approx(38 / 938, abs=0.01)


def test_inception_score_parts_multiply_back_to_torchmetrics_inception_score():
    logits = torch.randn(300, 10, generator=torch.Generator().manual_seed(0)) * 3
    metric = InceptionScore(feature=nn.Identity(), splits=1)
    metric.update(logits.double())  # as ganzoo feeds it (FeatureHead)
    parts = inception_score_parts(logits)
    torch.testing.assert_close(parts["is"], float(metric.compute()[0]), rtol=1e-9, atol=0)
    assert parts["is"] == pytest.approx(np.exp(parts["class_entropy"] - parts["mean_entropy"]), rel=1e-12)
    # Ten equally drawn classes, each image certain of its own: H(y) = ln 10, E H(y|x) = 0, so IS = 10.
    certain = 50.0 * torch.eye(10).repeat(30, 1)
    assert inception_score_parts(certain) == pytest.approx(
        {"is": 10, "class_entropy": np.log(10), "mean_entropy": 0}, abs=1e-9
    )
    # A digit never drawn (probability exactly 0) counts 0 log 0 = 0 in H(y): nine classes, IS = 9, not NaN.
    never_nine = torch.full((90, 10), -1e4)
    never_nine[range(90), [k % 9 for k in range(90)]] = 0.0
    assert inception_score_parts(never_nine) == pytest.approx(
        {"is": 9, "class_entropy": np.log(9), "mean_entropy": 0}, abs=1e-9
    )
    # Every image undecided between two classes: the entropy of each prediction is ln 2, and IS halves.
    undecided = torch.zeros(10, 10)
    undecided[range(10), range(10)] = undecided[range(10), [(k + 1) % 10 for k in range(10)]] = 50.0
    assert inception_score_parts(undecided)["mean_entropy"] == pytest.approx(np.log(2), abs=1e-9)
    assert inception_score_parts(undecided)["is"] == pytest.approx(5, abs=1e-8)
