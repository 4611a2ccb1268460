"""Finding the Hydra configs and turning config groups into objects."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ganzoo.run_names import sweep_subdir

# What `ganzoo.train` leaves in a run folder when the run ends with a known error or on its own (ganzoo.report reads
# them): a run killed or interrupted has neither.
FAILED_MARKER = "failed.txt"
FINISHED_MARKER = "finished.txt"


class ConfigError(ValueError):
    """A combination of settings that cannot work, found before anything is built."""


def config_dir() -> Path:
    """`conf/` inside an installed wheel, else the repository's top-level `conf/` (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parents[1] / "conf"):
        if (candidate / "train.yaml").exists():
            return candidate
    raise FileNotFoundError(f"ganzoo's Hydra configs (conf/train.yaml) are neither in {here} nor the repository.")


# Overrides whose value is a file path.
PATH_KEYS = ("ckpt_path",)


def quote_paths(args: list[str]) -> list[str]:
    """The command line with each `ckpt_path=<path>` quoted for Hydra when the path exists or holds "=", so that a
    checkpoint is typed as `ls` shows it even inside a folder whose name Hydra's grammar would reject (sweep folders
    of earlier versions: `0_model=gan,seed=1`). A sweep over paths (`ckpt_path=a.ckpt,b.ckpt`) stays as it is."""
    quoted = []
    for arg in args:
        key, sep, value = arg.partition("=")
        quote = next((q for q in "'\"" if q not in value), None)
        typed_path = sep and key in PATH_KEYS and value and quote and value[0] not in "'\""
        if typed_path and ("=" in value or os.path.exists(os.path.expanduser(value))):
            arg = f"{key}={quote}{value}{quote}"
        quoted.append(arg)
    return quoted


def schedule_steps(constant: int, decay: int, n_critic: int = 1, n_gen: int = 1) -> int:
    """Steps that take a schedule of `constant` + `decay` generator updates to its end: a step updates one side,
    and a cycle of n_critic + n_gen steps makes n_gen generator updates."""
    return -(-(constant + decay) * (n_critic + n_gen) // n_gen)


def objective_mode(metric: str) -> str:
    """Whether a logged metric improves downwards ("min": FID, KID, losses) or upwards ("max": IS, accuracies)."""
    name = metric.rsplit("/", 1)[-1]
    return "max" if name in ("is", "modes", "precision", "recall", "density", "coverage") or "acc" in name else "min"


def _sweep_subdir(num: int, overrides: Any, keys: Any) -> str:
    return sweep_subdir(num, list(overrides), None if keys is None else list(keys))


# Registered on import, before Hydra resolves them: conf/hydra/default.yaml names sweep folders through the first,
# conf/schedule/ sets trainer.max_steps through the second, conf/callbacks/best_checkpoint.yaml its mode by the third.
OmegaConf.register_new_resolver("ganzoo.sweep_subdir", _sweep_subdir, replace=True)
OmegaConf.register_new_resolver("ganzoo.schedule_steps", schedule_steps, replace=True)
OmegaConf.register_new_resolver("ganzoo.objective_mode", objective_mode, replace=True)
OmegaConf.register_new_resolver("ganzoo.basename", lambda path: Path(str(path)).name, replace=True)


def instantiate_dict(cfg: DictConfig | None) -> list[Any]:
    """A group such as `callbacks` or `logger` is a mapping of named objects; entries set to null drop out."""
    if not cfg:
        return []
    return [instantiate(entry) for entry in cfg.values() if entry is not None and "_target_" in entry]


def check_ddp_in_sweep(cfg: DictConfig, multirun: bool, env: Mapping[str, str] = os.environ) -> None:
    """Lightning's default DDP starts the other ranks by re-running the command line; inside a local
    multirun that command is the whole sweep, which would start again once per extra device."""
    strategy = str(cfg.trainer.get("strategy", ""))
    devices = cfg.trainer.get("devices", 1)
    relaunches = strategy.startswith("ddp") and "spawn" not in strategy and "fork" not in strategy
    if multirun and relaunches and str(devices) not in ("1", "[0]") and "SLURM_JOB_ID" not in env:
        raise ConfigError(
            f"trainer.strategy={strategy} starts its other processes by re-running the command line, which in a "
            "local multirun (-m) would restart the whole sweep. In local sweeps use trainer=ddp_cpu or "
            "trainer.strategy=ddp_spawn_find_unused_parameters_true; on a cluster use hydra/launcher=slurm."
        )
