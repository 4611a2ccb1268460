"""ModelCheckpoint whose last.ckpt is never stale and, when a run stops mid-epoch, resumes exactly."""

from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info

from ganzoo.callbacks.nonfinite import NonFiniteLossError


class ResumableCheckpoint(ModelCheckpoint):
    """Also writes last.ckpt after the step at which training stops (max_steps, max_time, early stopping).

    Lightning's own end-of-training save is skipped once any periodic last.ckpt exists, which leaves it up to
    `every_n_train_steps` behind; and when it does save, the fit loop has already closed the epoch, so a resumed
    run would start a new epoch and replay data in another order. Saved at the final step's batch end instead,
    the checkpoint holds the loop mid-epoch, as periodic saves do, and a resumed run continues bit for bit.
    (Checkpoint callbacks run after all others, so `should_stop` set by a timer or early stopping is seen.)

    With `save_on_exception`, a crash or Ctrl-C also writes `interrupted-step_<N>.ckpt`. That one is taken in the
    middle of a step (the batch in flight is counted as seen and some of its noise drawn), so it resumes with the
    latest weights but not bit-exactly; `last.ckpt` is left as the last step boundary, which resumes exactly.
    """

    _final_step: int | None = None

    def __init__(self, *args: Any, save_on_exception: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.save_interrupted = save_on_exception

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        # a non-finite loss has saved its own nonfinite-step_<N>.ckpt already
        if not self.save_interrupted or self.dirpath is None or isinstance(exception, NonFiniteLossError):
            return
        if not trainer.training or trainer.global_step == 0 or trainer.fast_dev_run:  # nothing worth keeping
            return
        path = Path(self.dirpath) / f"interrupted-step_{trainer.global_step}{self.FILE_EXTENSION}"
        trainer.save_checkpoint(path, weights_only=False)
        rank_zero_info(
            f"{type(exception).__name__}: weights saved to {path} (mid-step: resumes, not bit-exactly); "
            f"{Path(self.dirpath) / 'last.ckpt'} resumes exactly from the last periodic save."
        )

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        if trainer.should_stop or 0 < trainer.max_steps <= trainer.global_step:
            self._save_last_now(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # e.g. max_epochs: the epoch is complete, so a resumed run rightly starts the next one
        if self._final_step != trainer.global_step:
            self._save_last_now(trainer)

    def _save_last_now(self, trainer: Trainer) -> None:
        if self.save_last and self.dirpath is not None and not trainer.fast_dev_run:
            trainer.save_checkpoint(
                Path(self.dirpath) / f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}", weights_only=False
            )
            self._final_step = trainer.global_step
