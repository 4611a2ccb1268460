"""What a run shows in the terminal: one readable progress bar and a one-line summary per network."""

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.utilities import rank_zero_info


class ProgressBar(RichProgressBar):
    """Lightning's rich bar with metric names short enough for one line (`train/critic_loss` -> `critic_loss`)
    and no "Epoch 0/-2" on runs bounded by steps alone (`max_epochs: -1`)."""

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return {key.removeprefix("train/").removeprefix("val/"): value for key, value in metrics.items()}

    def _get_train_description(self, current_epoch: int) -> str:
        description = super()._get_train_description(current_epoch)
        if self.trainer.max_epochs is not None and self.trainer.max_epochs < 0:
            description = f"Epoch {current_epoch}".ljust(len(description))
        return description


class NetworkSummary(Callback):
    """One line per network (its class and parameters) instead of Lightning's table, whose FLOPs column reads
    0 for models without an example input."""

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        lines = [
            f"  {name}: {type(module).__name__}, {sum(p.numel() for p in module.parameters()):,} parameters"
            for name, module in pl_module.named_children()
            if any(True for _ in module.parameters())
        ]
        rank_zero_info(f"{type(pl_module).__name__}:\n" + "\n".join(lines))
