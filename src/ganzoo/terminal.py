"""One stream of messages: Lightning's go where Hydra sends ganzoo's (the terminal and the run's train.log)."""

import logging
import warnings

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

# Lightning's advertisements for its cloud logger and checkpoint registry, printed at every run: noise, not warnings.
NOISE = ("litlogger", "litmodels")


def _not_noise(record: logging.LogRecord) -> bool:
    return not any(text in record.getMessage() for text in NOISE)


def route_lightning_logs() -> None:
    """Train and evaluate call this first. Lightning gives its loggers their own console handler and stops them
    propagating when it is imported before logging is configured, so Hydra's file handler never saw them."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_not_noise)
    # Manual optimization saves checkpoints after the step's update, which is what resuming wants.
    warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")
    # Lightning's own use of a deprecated torch.utils._pytree API, at every fit: nothing a user can act on.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")


def show_config(cfg: DictConfig) -> None:
    """The config of a run that passed its checks, once before training (print_config=false turns it off)."""
    where = "as in .hydra/config.yaml of the run folder, plus a resumed checkpoint's own overrides"
    log.info(f"Config ({where}):\n" + OmegaConf.to_yaml(cfg, resolve=False))
