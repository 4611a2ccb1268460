"""Saves a grid of `preview` images every N steps: as PNG files under the run folder and to every logger that
takes images (TensorBoard, MLflow, Weights & Biases). A model whose preview is a (rows, columns, C, H, W) grid
(a class-conditional model: one row per class) keeps its rows; other previews fill rows of `nrow` images."""

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only
from torchvision.utils import make_grid, save_image

from ganzoo.utils import eval_mode


class SampleGrid(Callback):
    def __init__(self, every_n_steps: int = 500, num_images: int = 64, nrow: int = 8, folder: str = "samples"):
        if every_n_steps < 1:
            raise ValueError(f"callbacks.sample_grid.every_n_steps must be >= 1, got {every_n_steps}.")
        self.every_n_steps = every_n_steps
        self.num_images = num_images
        self.nrow = nrow
        self.folder = folder
        self._last_step = -1

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            self.write(trainer, pl_module)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.write(trainer, pl_module)

    @rank_zero_only
    def write(self, trainer: Trainer, pl_module: LightningModule) -> Path | None:
        step = trainer.global_step
        if step == self._last_step:
            return None
        self._last_step = step
        with eval_mode(pl_module):
            images = pl_module.preview(self.num_images).float().cpu()
        nrow = images.shape[1] if images.dim() == 5 else self.nrow
        grid = make_grid(images.flatten(0, -4), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
        path = Path(trainer.default_root_dir) / self.folder / f"step_{step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path)
        for logger in trainer.loggers:  # every logger that takes images
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("samples", torch.clamp(grid, 0, 1), step)
            elif isinstance(logger, MLFlowLogger):
                logger.experiment.log_artifact(logger.run_id, str(path), artifact_path="samples")
            elif isinstance(logger, WandbLogger):
                logger.log_image(key="samples", images=[str(path)], step=step)
        return path
