"""ModelCheckpoint whose last.ckpt at the end of a `max_steps` run resumes exactly."""

from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint


class ResumableCheckpoint(ModelCheckpoint):
    """Writes last.ckpt right after the final step as well.

    Lightning's own end-of-training save comes after the fit loop has closed the epoch, so resuming from it
    starts a new epoch and replays data in another order. Saved at the final step's batch end instead, the
    checkpoint holds the loop mid-epoch, as the periodic saves do, and a resumed run continues bit for bit.
    """

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        if self.save_last and 0 < trainer.max_steps <= trainer.global_step and self.dirpath is not None:
            trainer.save_checkpoint(Path(self.dirpath) / f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}")
            self._saved_final_step = True

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not getattr(self, "_saved_final_step", False):
            super().on_train_end(trainer, pl_module)
