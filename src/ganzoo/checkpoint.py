"""Rebuild a trained model from a checkpoint alone: its run config travels in checkpoint["ganzoo"]["config"]."""

from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate

from ganzoo.models import AdversarialModule


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path.resolve()}; pass ckpt_path=<run>/checkpoints/last.ckpt.")
    # ganzoo's own checkpoints hold Lightning's loop state besides tensors, hence weights_only=False.
    return torch.load(path, map_location="cpu", weights_only=False)


def run_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The resolved Hydra config of the run that wrote the checkpoint."""
    config = checkpoint.get("ganzoo", {}).get("config")
    if not config:
        raise ValueError("This checkpoint holds no ganzoo run config; it was not written by `ganzoo.train`.")
    return config


def load_model(path: str | Path) -> tuple[AdversarialModule, dict[str, Any]]:
    """The model in eval mode on the CPU, with its weights and counters, and the run config."""
    checkpoint = read_checkpoint(path)
    config = run_config(checkpoint)
    model: AdversarialModule = instantiate(config["model"])
    model.load_state_dict(checkpoint["state_dict"])
    model.on_load_checkpoint(checkpoint)
    model.run_config = config
    return model.eval(), config
