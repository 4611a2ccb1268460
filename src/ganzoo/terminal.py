"""One stream of messages: Lightning's go where Hydra sends ganzoo's (the terminal and the run's train.log)."""

import logging

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

# Lightning's advertisement for its cloud logger, printed at every run: noise, not a warning.
NOISE = ("litlogger",)


def _not_noise(record: logging.LogRecord) -> bool:
    return not any(text in record.getMessage() for text in NOISE)


def route_lightning_logs() -> None:
    """Lightning gives its loggers their own console handler and stops them propagating when it is imported
    before logging is configured, so Hydra's file handler never sees them: train.log stayed empty."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_not_noise)


def show_config(cfg: DictConfig) -> None:
    """The composed config, once at the start (print_config=false turns it off)."""
    log.info("Config (also in .hydra/config.yaml of the run folder):\n" + OmegaConf.to_yaml(cfg, resolve=False))
