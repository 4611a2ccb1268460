"""`python -m ganzoo.train [group=option ...] [key=value ...]`: compose a config, train, return the metric."""

import logging
import sys
import warnings

import hydra
import lightning.pytorch as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ganzoo.config import config_dir, instantiate_dict
from ganzoo.data import DatasetNotFoundError
from ganzoo.models import NonFiniteLossError

log = logging.getLogger(__name__)

# Manual optimization saves checkpoints after the step's update, which is what resuming wants.
warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")


def train(cfg: DictConfig) -> tuple[pl.Trainer, pl.LightningModule]:
    """Build everything the config names and fit; returns the trainer and model for callers and tests."""
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    loggers = instantiate_dict(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=instantiate_dict(cfg.get("callbacks")), logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(model.run_config)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    return trainer, model


def objective(trainer: pl.Trainer, name: str | None) -> float | None:
    """The value a Hydra sweeper minimises: `optimized_metric` from the final logged metrics."""
    if not name:
        return None
    if name not in trainer.callback_metrics:
        raise KeyError(f"optimized_metric={name!r} was never logged; logged: {sorted(trainer.callback_metrics)}.")
    return float(trainer.callback_metrics[name])


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        trainer, _ = train(cfg)
    except (DatasetNotFoundError, NonFiniteLossError) as error:
        log.error(str(error))
        sys.exit(1)
    return objective(trainer, cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
