"""Rebuild a trained model from a checkpoint alone: its run config travels in checkpoint["ganzoo"]["config"]."""

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch import LightningModule


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path.resolve()}; pass ckpt_path=<run>/checkpoints/last.ckpt.")
    # ganzoo's own checkpoints hold Lightning's loop state besides tensors, hence weights_only=False.
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise ValueError(
            f"{path.resolve()} is not a readable checkpoint (truncated or corrupt: {error}); resume from another "
            "one in its folder (e.g. a periodic step_*.ckpt) or start afresh."
        ) from error


def run_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The resolved Hydra config of the run that wrote the checkpoint, without retired model settings."""
    config = checkpoint.get("ganzoo", {}).get("config")
    if not config:
        raise ValueError("This checkpoint holds no ganzoo run config; it was not written by `ganzoo.train`.")
    if isinstance(config.get("model"), Mapping):
        config = {**config, "model": without_retired(config["model"])}
    return config


# Model settings that ganzoo dropped, with the values under which a run trained as it would without them: such a
# checkpoint still builds and resumes. (stop_on_nonfinite became the callback `stop_on_nonfinite`.)
RETIRED = {
    "stop_on_nonfinite": (True, False),
    "real_label": (1.0,),
    "top_k": (None,),
    "top_k_decay": (0.99,),
    "penalty_at": ("interpolates",),
    "info_codes": (0,),
    "info_weight": (1.0,),
    "loss": ("wasserstein",),
    "adversarial_loss": ("least_squares",),
}


def without_retired(model: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if not (k in RETIRED and v in RETIRED[k])}


# Settings a resumed run may change: where the data lives and how it is read, not what is trained on what.
FREE_ON_RESUME = frozenset({"data_dir", "num_workers", "download"})


def flat_settings(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested settings as {"model.critic.width": 4, ...}."""
    if not isinstance(tree, Mapping):
        return {prefix: tree}
    return {
        k: v
        for key, value in tree.items()
        for k, v in flat_settings(value, f"{prefix}.{key}" if prefix else key).items()
    }


def resume_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """`key: saved -> current` for each `model` and `data` setting in which a resumed run differs from the run
    that wrote its checkpoint (trainer, logger and callback settings may change: e.g. max_steps to go on)."""
    old, new = (flat_settings({k: config.get(k) for k in ("model", "data")}) for config in (saved, current))
    pairs = ((key, old.get(key, "<absent>"), new.get(key, "<absent>")) for key in sorted(old.keys() | new.keys()))
    return [f"{key}: {a} -> {b}" for key, a, b in pairs if a != b and key.rsplit(".", 1)[-1] not in FREE_ON_RESUME]


def is_optimizer_setting(change: str) -> bool:
    """Optimizer and scheduler hyper-parameters (learning rates, betas) may change on resume: the way out of a
    non-finite loss is to go on from its checkpoint with a lower rate."""
    return change.startswith(("model.optimizer_", "model.scheduler_"))


# Override keys (before the first "." or "/") that decide what is trained on what, restored on a resume.
RESTORED_ON_RESUME = frozenset({"model", "data", "experiment", "schedule", "seed"})


def override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def resume_overrides(saved: list[str], typed: list[str]) -> list[str]:
    """The overrides a resume composes: the saved run's model, data, experiment, schedule and seed overrides,
    then every override typed now, which wins over a saved one of the same key."""
    typed_keys = {override_key(o) for o in typed}
    kept = [
        o
        for o in saved
        if override_key(o).replace("/", ".").split(".")[0] in RESTORED_ON_RESUME and override_key(o) not in typed_keys
    ]
    return kept + list(typed)


def load_model(path: str | Path) -> tuple[LightningModule, dict[str, Any]]:
    """The model in eval mode on the CPU, with its weights and counters, and the run config."""
    checkpoint = read_checkpoint(path)
    config = run_config(checkpoint)
    try:
        model: LightningModule = instantiate(config["model"])
    except InstantiationException as error:  # e.g. a setting that a later ganzoo renamed or removed
        reason = " ".join(str(error).split())  # Hydra's message spans lines; the error is one paragraph
        raise ValueError(
            f"The model config saved in {Path(path).resolve()} no longer builds: {reason} If it names a setting that "
            "this version of ganzoo dropped (docs/ say which), use the version that wrote the checkpoint, or delete "
            "that key from checkpoint['ganzoo']['config']['model'] when it only held its default."
        ) from error
    model.on_load_checkpoint(checkpoint)  # first, as Lightning does: it builds the EMA averages the state holds
    model.load_state_dict(checkpoint["state_dict"])
    model.run_config = config
    return model.eval(), config
