"""ModelCheckpoint whose last.ckpt is never stale and, when a run stops mid-epoch, resumes exactly."""

from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint


class ResumableCheckpoint(ModelCheckpoint):
    """Also writes last.ckpt after the step at which training stops (max_steps, max_time, early stopping).

    Lightning's own end-of-training save is skipped once any periodic last.ckpt exists, which leaves it up to
    `every_n_train_steps` behind; and when it does save, the fit loop has already closed the epoch, so a resumed
    run would start a new epoch and replay data in another order. Saved at the final step's batch end instead,
    the checkpoint holds the loop mid-epoch, as periodic saves do, and a resumed run continues bit for bit.
    (Checkpoint callbacks run after all others, so `should_stop` set by a timer or early stopping is seen.)
    """

    _final_step: int | None = None

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        if trainer.should_stop or 0 < trainer.max_steps <= trainer.global_step:
            self._save_last_now(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # e.g. max_epochs: the epoch is complete, so a resumed run rightly starts the next one
        if self._final_step != trainer.global_step:
            self._save_last_now(trainer)

    def _save_last_now(self, trainer: Trainer) -> None:
        if self.save_last and self.dirpath is not None:
            trainer.save_checkpoint(Path(self.dirpath) / f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}")
            self._final_step = trainer.global_step
