"""Test-only callbacks and tiny model settings."""

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from omegaconf import open_dict

# Overrides that shrink each foundation model to a few thousand parameters.
TINY = {
    "gan": ["model.generator.hidden=[16,16]", "model.critic.hidden=[16]", "model.generator.latent_dim=8"],
    "dcgan": ["model.generator.width=4", "model.critic.width=4", "model.generator.latent_dim=8"],
    "dcgan_radford": ["model.generator.width=4", "model.critic.width=4", "model.generator.latent_dim=8"],
}
# The class-conditional models (they train on labelled data: SMALL_DATA's synthetic classes).
TINY_CONDITIONAL = {
    "cgan": TINY["dcgan"],
    "acgan": TINY["dcgan"],
    "projection": TINY["dcgan"],
    "infogan": [
        "model.generator.width=4",
        "model.critic.width=4",
        "model.critic.q_hidden=8",
        "model.generator.latent_dim=16",  # 4 noise, 2 continuous, 10 categories
    ],
}
# CycleGAN apart from TINY: it needs two domains, so loops over TINY's single-domain models must not meet it.
# Both generators are named: model=cyclegan sets F on its own, so it does not follow G's width.
TINY_CYCLEGAN = [
    "model.generators.mnist2usps.width=4",
    "model.generators.usps2mnist.width=4",
    "model.critics.mnist.width=4",
]
Params = dict[str, torch.Tensor]
SMALL_DATA = ["data=synthetic", "data.num_samples=96", "data.val_size=16", "data.batch_size=16"]
# Two synthetic domains named like the real ones (data=mnist_usps): 96 and 40 training images, 24 and 10 test images.
SYNTHETIC_PAIR = [
    "data=mnist_usps",
    "data.batch_size=16",
    "data.domains.mnist._target_=ganzoo.data.SyntheticDataModule",
    "+data.domains.mnist.num_samples=96",
    "data.domains.usps._target_=ganzoo.data.SyntheticDataModule",
    "+data.domains.usps.num_samples=40",
    "+data.domains.usps.seed=1",
    "data.domains.mnist.val_size=12",
    "data.domains.usps.val_size=5",
]


class UpdateRecorder(Callback):
    """Records 'C' or 'G' for every optimizer.step() actually taken, in order (via optimizer hooks)."""

    def __init__(self) -> None:
        self.updates: list[str] = []

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for tag, optimizer in zip("CG", trainer.optimizers, strict=True):
            optimizer.register_step_post_hook(lambda *_, tag=tag: self.updates.append(tag))


class RankParameterDump(Callback):
    """Each DDP rank saves its parameters at the end of fit, so a test can compare ranks.

    Buffers (BatchNorm statistics) are left out: DDP broadcasts them from rank 0 at the start of every
    forward, so after the last step each rank still holds the statistics of its own last batch.
    """

    def __init__(self, folder: str, buffers: bool = False) -> None:
        self.folder = Path(folder)
        self.buffers = buffers

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        state = {k: v.detach().cpu().clone() for k, v in pl_module.named_parameters()}
        if self.buffers:  # only those that must agree: the EMA's averaged statistics
            state.update({k: v.detach().cpu().clone() for k, v in pl_module.named_buffers() if k.startswith("ema.")})
        torch.save(state, self.folder / f"rank{trainer.global_rank}.pt")


def fit_on_two_ranks(cfg: Any, folder: Path, buffers: bool = False) -> tuple[Params, Params, Params]:
    """Fit `cfg` with trainer=ddp_cpu; returns the initial parameters and each rank's after training (with the
    EMA's buffers when `buffers`)."""
    from ganzoo.train import build

    with open_dict(cfg):
        cfg.callbacks.dump = {"_target_": "helpers.RankParameterDump", "folder": str(folder), "buffers": buffers}
    trainer, model, datamodule = build(cfg)
    initial = {k: v.detach().clone() for k, v in model.named_parameters()}
    trainer.fit(model, datamodule=datamodule)
    return initial, torch.load(folder / "rank0.pt"), torch.load(folder / "rank1.pt")


def fit_recording(cfg: Any) -> tuple[Trainer, LightningModule, list[str], Params]:
    """Fit `cfg`; returns the trainer, the model, the 'C'/'G' update sequence and the initial parameters."""
    from ganzoo.train import build

    trainer, model, datamodule = build(cfg)
    recorder = UpdateRecorder()
    trainer.callbacks.append(recorder)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    return trainer, model, recorder.updates, before


def metrics_of(trainer: Trainer) -> torch.nn.Module | None:
    """The metrics that the run's ValidationMetrics callback measures with (None without one)."""
    from ganzoo.callbacks import ValidationMetrics

    return next((c.metrics for c in trainer.callbacks if isinstance(c, ValidationMetrics)), None)


def tensors_of(metrics: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Parameters, buffers and torchmetrics states (which are neither), by name."""
    found = dict(metrics.state_dict(keep_vars=True))
    for name, module in metrics.named_modules():
        for state in getattr(module, "_defaults", {}):
            if isinstance(getattr(module, state), torch.Tensor):
                found[f"{name}.{state}"] = getattr(module, state)
    return {k: v.detach().clone() for k, v in found.items()}
