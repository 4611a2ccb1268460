"""WallClockMarks: checkpoints at marks of training time, validation and saves not counted, then a stop."""

from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback

from ganzoo.callbacks import WallClockMarks
from helpers import SMALL_DATA, TINY

pytestmark = pytest.mark.usefixtures("one_thread")


class Clock:
    """A perf_counter that only `Tick` moves: one second per training batch, 100 s per validation batch."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tick(Callback):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def on_train_batch_start(self, *args) -> None:
        self.clock.now += 1.0

    def on_validation_batch_start(self, *args) -> None:
        self.clock.now += 100.0


def test_checkpoints_at_each_mark_of_training_time_then_stops(make_config, monkeypatch):
    clock = Clock()
    monkeypatch.setattr("ganzoo.callbacks.wall_clock.time.perf_counter", clock)
    cfg = make_config(
        *TINY["dcgan"], *SMALL_DATA, "trainer.max_steps=100", "metrics=digits", "metrics.num_samples=32",
        "metrics.batch_size=16", "metrics.kid_subset_size=8", "metrics.every_n_steps=3",
        "+callbacks.marks={_target_:ganzoo.callbacks.WallClockMarks,minutes:[0.1,0.05]}",
    )  # fmt: skip
    from ganzoo.train import build

    trainer, model, datamodule = build(cfg)
    trainer.callbacks.insert(0, Tick(clock))
    trainer.fit(model, datamodule=datamodule)
    folder = Path(cfg.paths.output_dir) / "checkpoints"
    steps = {m: torch.load(folder / f"minute_{m}.ckpt", weights_only=False)["global_step"] for m in ("0.05", "0.1")}
    # one second per batch: 3 s and 6 s of training are steps 3 and 6, whatever the validations cost
    assert steps == {"0.05": 3, "0.1": 6}
    assert trainer.global_step == 6


def test_marks_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        WallClockMarks(minutes=[0, 1])
    assert WallClockMarks(minutes=[4, 1, 2]).marks == [1.0, 2.0, 4.0]
