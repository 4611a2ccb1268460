"""The semantic-consistency loss against hand computations."""

import math

import pytest
import torch

from ganzoo.losses import semantic_consistency_loss


def test_hard_labels_give_the_cross_entropy_of_the_target_reading_against_the_source_argmax():
    source = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.5, 3.0]], dtype=torch.float64)
    target = torch.tensor([[1.0, 1.0, 0.0], [-1.0, 2.0, 0.0]], dtype=torch.float64)
    # labels 0 and 2: -log softmax(target)[label], averaged
    expected = -sum(
        math.log(math.exp(t[k]) / sum(math.exp(v) for v in t)) for t, k in zip(target.tolist(), (0, 2), strict=True)
    )
    assert semantic_consistency_loss(source, target).item() == pytest.approx(expected / 2, rel=1e-12)


@pytest.mark.parametrize("tau", [1.0, 2.5])
def test_soft_labels_give_tau_squared_kl_of_the_softened_distributions(tau: float):
    generator = torch.Generator().manual_seed(0)
    source, target = (torch.randn(5, 10, generator=generator, dtype=torch.float64) for _ in range(2))
    p, q = torch.softmax(source / tau, 1), torch.softmax(target / tau, 1)
    expected = tau**2 * (p * (p / q).log()).sum(1).mean()
    assert semantic_consistency_loss(source, target, tau).item() == pytest.approx(expected.item(), rel=1e-10)
    assert semantic_consistency_loss(source, source, tau).abs().item() < 1e-12  # the same reading costs nothing
