"""Stop a run at its first NaN or infinite loss, with the weights from before that update saved."""

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; raised after the weights were saved."""


class StopOnNonFinite(Callback):
    """Checks every loss before its backward pass (all ranks agree under DDP). A non-finite one writes
    `nonfinite-step_<N>.ckpt` beside the other checkpoints, taken before the update that would have spoiled the
    weights, and raises `NonFiniteLossError` with the command that goes on from it with a lower learning rate."""

    def on_before_backward(self, trainer: Trainer, pl_module: LightningModule, loss: torch.Tensor) -> None:
        finite = bool(torch.isfinite(loss).all())
        if trainer.world_size > 1:
            finite = trainer.strategy.reduce_boolean_decision(finite, all=True)
        if finite:
            return
        phase = "critic" if getattr(pl_module, "step_is_critic", True) else "generator"
        step = trainer.global_step
        folder = Path(getattr(trainer.checkpoint_callback, "dirpath", None) or trainer.default_root_dir)
        path = folder / f"nonfinite-step_{step}.ckpt"
        trainer.save_checkpoint(path, weights_only=False)
        counts = _update_counts(pl_module)
        raise NonFiniteLossError(
            f"train/{phase}_loss became {loss.item()} at step {step}{counts}. The weights before this update are in "
            f"{path}. Go on from it with a lower learning rate (python -m ganzoo.train ckpt_path={path} "
            f"model.optimizer_{phase}.lr=...), or check the data; ~callbacks.stop_on_nonfinite trains on regardless."
        )


def _update_counts(pl_module: Any) -> str:
    if not hasattr(pl_module, "critic_updates"):
        return ""
    return f" (critic updates {pl_module.critic_updates}, generator updates {pl_module.generator_updates})"
