"""Shared fixtures: compose the real Hydra configs into a temporary run folder, tiny and on CPU."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from ganzoo.config import config_dir

DATA_DIR = Path(os.environ.get("GANZOO_DATA_DIR", "data"))
HAS_MNIST = (DATA_DIR / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()
HAS_USPS = (DATA_DIR / "usps" / "usps.bz2").exists()
requires_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"MNIST not in {DATA_DIR}; set GANZOO_DATA_DIR")
requires_usps = pytest.mark.skipif(not HAS_USPS, reason=f"USPS not in {DATA_DIR}; set GANZOO_DATA_DIR")

# Keeps runs fast and quiet: CPU, no progress bar, synthetic data unless a test says otherwise.
QUIET = [
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.log_every_n_steps=1",
]


def compose_config(output_dir: Path, overrides: list[str]) -> DictConfig:
    """The config `python -m ganzoo.train <overrides>` would run, writing into `output_dir`."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(
            config_name="train",
            overrides=[f"paths.output_dir={output_dir}", f"paths.data_dir={DATA_DIR}", *QUIET, *overrides],
        )


def compose_evaluate_config(output_dir: Path, *overrides: str) -> DictConfig:
    """The config `python -m ganzoo.evaluate <overrides>` would run on the CPU, writing into `output_dir`."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        fixed = [f"paths.output_dir={output_dir}", f"paths.data_dir={DATA_DIR}", "trainer.accelerator=cpu"]
        return compose(config_name="evaluate", overrides=[*fixed, "trainer.enable_progress_bar=false", *overrides])


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """make_config(*overrides, run="run") composes a config whose run folder is tmp_path/run."""

    def make(*overrides: str, run: str = "run") -> DictConfig:
        return compose_config(tmp_path / run, list(overrides))

    return make


@pytest.fixture
def one_thread():
    """Tiny networks gain nothing from threads, and lose much on a shared machine (opt in per module)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
