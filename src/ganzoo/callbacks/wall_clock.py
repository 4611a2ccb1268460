"""Checkpoints at marks of training wall-clock time: how good is a model after 1, 2, 4, 8 minutes?"""

import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class WallClockMarks(Callback):
    """Saves `checkpoints/minute_<m>.ckpt` when training has run `m` minutes, for each m in `minutes`, and stops
    after the last. Time spent validating or in these saves is not counted, so marks measure training alone
    (evaluate the checkpoints afterwards, e.g. with `ganzoo.evaluate`)."""

    def __init__(self, minutes: list[float], folder: str = "checkpoints", stop: bool = True) -> None:
        marks = sorted(float(m) for m in minutes)
        if not marks or marks[0] <= 0:
            raise ValueError(f"callbacks.wall_clock_marks.minutes must be positive numbers, got {minutes!r}.")
        self.marks = marks
        self.folder = folder
        self.stop = stop
        self._elapsed = 0.0
        self._since: float | None = None

    @property
    def elapsed_minutes(self) -> float:
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return (self._elapsed + running) / 60

    def _pause(self) -> None:
        if self._since is not None:
            self._elapsed += time.perf_counter() - self._since
            self._since = None

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._since = time.perf_counter()

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._pause()

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._since = time.perf_counter()

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        if not self.marks or self.elapsed_minutes < self.marks[0]:
            return
        self._pause()
        while self.marks and self._elapsed / 60 >= self.marks[0]:
            mark = self.marks.pop(0)
            trainer.save_checkpoint(
                Path(trainer.default_root_dir) / self.folder / f"minute_{mark:g}.ckpt", weights_only=False
            )
        if not self.marks and self.stop:
            trainer.should_stop = True
        self._since = time.perf_counter()
