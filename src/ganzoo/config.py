"""Finding the Hydra configs and turning config groups into objects."""

from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig


def config_dir() -> Path:
    """`conf/` inside an installed wheel, else the repository's top-level `conf/` (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parents[1] / "conf"):
        if (candidate / "train.yaml").exists():
            return candidate
    raise FileNotFoundError(f"ganzoo's Hydra configs (conf/train.yaml) are neither in {here} nor the repository.")


def instantiate_dict(cfg: DictConfig | None) -> list[Any]:
    """A group such as `callbacks` or `logger` is a mapping of named objects; entries set to null drop out."""
    if not cfg:
        return []
    return [instantiate(entry) for entry in cfg.values() if entry is not None and "_target_" in entry]
