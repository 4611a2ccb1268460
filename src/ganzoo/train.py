"""`python -m ganzoo.train [group=option ...] [key=value ...]`: compose a config, train, return the metric."""

import logging
import sys
import warnings
from pathlib import Path

import hydra
import lightning.pytorch as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ganzoo.checkpoint import read_checkpoint, resume_changes, run_config
from ganzoo.config import ConfigError, check_ddp_in_sweep, config_dir, instantiate_dict
from ganzoo.data import DatasetNotFoundError
from ganzoo.metrics import GenerativeMetrics, InceptionWeightsError, build_metrics
from ganzoo.models import NonFiniteLossError

log = logging.getLogger(__name__)

# Manual optimization saves checkpoints after the step's update, which is what resuming wants.
warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")


def build(cfg: DictConfig) -> tuple[pl.Trainer, pl.LightningModule, pl.LightningDataModule]:
    """Seed, then instantiate the datamodule, model, loggers, callbacks and trainer the config names."""
    pl.seed_everything(cfg.seed, workers=True)
    metrics = build_metrics(cfg.get("metrics"))  # first, so that missing metric weights stop the run at once
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    model.attach_metrics(metrics)
    loggers = instantiate_dict(cfg.get("logger"))
    trainer = instantiate(
        cfg.trainer,
        callbacks=instantiate_dict(cfg.get("callbacks")),
        logger=loggers or False,
        **validation_schedule(metrics),
    )
    for logger in loggers:
        logger.log_hyperparams(model.run_config)
    return trainer, model, datamodule


def check_resume(cfg: DictConfig) -> None:
    """A checkpoint resumes exactly only under the model and data settings that wrote it; refuse others before
    they fail deep inside Lightning (other networks) or silently train something else (another n_critic)."""
    if not cfg.get("ckpt_path"):
        return
    try:
        saved = run_config(read_checkpoint(cfg.ckpt_path))
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(str(error)) from error
    changes = resume_changes(saved, OmegaConf.to_container(cfg, resolve=True))
    if changes:
        run = Path(cfg.ckpt_path).expanduser().resolve().parent.parent
        overrides = run / ".hydra" / "overrides.yaml"
        where = f" (they are in {overrides})" if overrides.is_file() else ""
        listed = "\n  ".join(changes[:10]) + (f"\n  ... {len(changes) - 10} more" if len(changes) > 10 else "")
        raise ConfigError(
            f"ckpt_path={cfg.ckpt_path} was written by a run with other model or data settings:\n  {listed}\n"
            f"Resume with the original run's overrides{where}; only trainer, logger and callback settings "
            "(e.g. trainer.max_steps) may change."
        )


def train(cfg: DictConfig) -> tuple[pl.Trainer, pl.LightningModule]:
    """Build and fit, resuming from `ckpt_path` when set."""
    check_resume(cfg)
    trainer, model, datamodule = build(cfg)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    return trainer, model


def validation_schedule(metrics: GenerativeMetrics | None) -> dict:
    """Validate every `metrics.every_n_steps` training batches (= steps), counted over epochs; never without
    metrics, since validation is where they run."""
    if metrics is None:
        return {"limit_val_batches": 0}
    return {"val_check_interval": metrics.every_n_steps, "check_val_every_n_epoch": None}


def objective(trainer: pl.Trainer, name: str | None) -> float | None:
    """The value a Hydra sweeper minimises: `optimized_metric` from the final logged metrics."""
    if not name:
        return None
    if name not in trainer.callback_metrics:
        if name.startswith("val/") and not any(k.startswith("val/") for k in trainer.callback_metrics):
            log.warning(f"optimized_metric={name} was never computed: the run ended before its first validation.")
            return None
        raise KeyError(f"optimized_metric={name!r} was never logged; logged: {sorted(trainer.callback_metrics)}.")
    return float(trainer.callback_metrics[name])


# Errors whose message says what to do: one paragraph, no traceback.
KNOWN_ERRORS = (ConfigError, DatasetNotFoundError, NonFiniteLossError, InceptionWeightsError)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def main(cfg: DictConfig) -> float | None:
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        check_ddp_in_sweep(cfg, multirun=multirun)
        trainer, _ = train(cfg)
    except KNOWN_ERRORS as error:
        log.error(str(error))
        if multirun:  # Hydra marks the job failed and the sweeper goes on to the next one
            raise
        sys.exit(1)
    return objective(trainer, cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
