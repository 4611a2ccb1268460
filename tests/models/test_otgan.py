"""OT-GAN through the real configs: the update schedule, finite losses, both networks trained."""

import math

import pytest
import torch

from ganzoo.losses.energy_distance import TERMS
from ganzoo.models import OTGAN
from ganzoo.train import train

TINY = [
    "model=otgan",
    "model.generator.width=4",
    "model.generator.latent_dim=8",
    "model.critic.width=4",
    "model.critic.embedding_dim=8",
    "model.iterations=20",
    "data=synthetic",
    "data.num_samples=96",
    "data.val_size=16",
    "data.batch_size=16",
    "callbacks=none",
]


def record_updates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """'C' or 'G' for every critic or generator loss the model computes, in order."""
    calls: list[str] = []
    for tag, name in (("C", "critic_step"), ("G", "generator_step")):
        step = getattr(OTGAN, name)
        monkeypatch.setattr(OTGAN, name, lambda self, batch, tag=tag, step=step: calls.append(tag) or step(self, batch))
    return calls


def optimizer_updates(trainer) -> tuple[int, int]:
    """How many times each optimizer actually stepped, from Adam's own per-parameter counters."""
    counts = []
    for optimizer in trainer.optimizers:
        steps = {int(state["step"]) for state in optimizer.state.values()}
        assert len(steps) == 1
        counts.append(steps.pop())
    return counts[0], counts[1]


@pytest.mark.parametrize(
    ("overrides", "steps", "expected"), [([], 12, "CGGGGG" * 2), (["model.n_gen=2"], 7, "CGGCGGC")]
)
def test_exactly_n_gen_generator_updates_per_critic_update(make_config, monkeypatch, overrides, steps, expected):
    calls = record_updates(monkeypatch)
    trainer, _ = train(make_config(*TINY, *overrides, f"trainer.max_steps={steps}"))
    assert "".join(calls) == expected
    assert optimizer_updates(trainer) == (expected.count("C"), expected.count("G"))
    metrics = trainer.callback_metrics
    assert (metrics["train/critic_updates"], metrics["train/generator_updates"]) == optimizer_updates(trainer)


def test_short_fit_has_finite_losses_and_trains_both_networks(make_config, monkeypatch):
    before: dict[str, torch.Tensor] = {}
    configure = OTGAN.configure_optimizers

    def snapshot_then_configure(self):  # runs once at fit start, before any update
        before.update({k: v.detach().clone() for k, v in self.named_parameters()})
        return configure(self)

    monkeypatch.setattr(OTGAN, "configure_optimizers", snapshot_then_configure)
    trainer, model = train(make_config(*TINY, "trainer.max_steps=7"))  # C GGGGG C: ends on a critic update
    metrics = trainer.callback_metrics
    assert math.isfinite(metrics["train/critic_loss"]) and math.isfinite(metrics["train/generator_loss"])
    # The critic maximises L: its loss is -L, rebuilt here from the six logged W terms of that last step.
    energy = sum(weight * metrics[f"train/w_{name}"] for name, (_, _, weight) in TERMS.items())
    assert metrics["train/critic_loss"] == pytest.approx(-float(energy), abs=1e-5)
    for prefix in ("generator.", "critic."):
        params = {k: v for k, v in model.named_parameters() if k.startswith(prefix)}
        assert params and all(not torch.equal(v, before[k]) for k, v in params.items())
