"""`python -m ganzoo.train [group=option ...] [key=value ...]`: compose a config, train, return the metric."""

import copy
import logging
import os
import sys
from pathlib import Path

import hydra
import lightning.pytorch as pl
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ProgressBar as ProgressBarBase
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from ganzoo.callbacks import NonFiniteLossError, ValidationMetrics
from ganzoo.checkpoint import (
    is_optimizer_setting,
    override_key,
    read_checkpoint,
    resume_changes,
    resume_overrides,
    run_config,
)
from ganzoo.config import (
    FAILED_MARKER,
    FINISHED_MARKER,
    ConfigError,
    check_ddp_in_sweep,
    config_dir,
    instantiate_dict,
    quote_paths,
)
from ganzoo.data import DatasetNotFoundError
from ganzoo.metrics import InceptionWeightsError
from ganzoo.tensorboard import write_run_summary
from ganzoo.terminal import route_lightning_logs, show_config
from ganzoo.validate import check_config

log = logging.getLogger(__name__)


def build(cfg: DictConfig) -> tuple[pl.Trainer, pl.LightningModule, pl.LightningDataModule]:
    """Seed, then instantiate the datamodule, model, loggers, callbacks and trainer the config names."""
    pl.seed_everything(cfg.seed, workers=True)
    callbacks = instantiate_dict(cfg.get("callbacks"))
    metrics = next((c for c in callbacks if isinstance(c, ValidationMetrics)), None)
    if metrics is not None:
        metrics.build()  # first, so that missing metric weights stop the run at once
    datamodule = instantiate(cfg.data)
    model = build_model(cfg.model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    allow_mlflow_file_store(cfg.get("logger"))
    loggers = instantiate_dict(cfg.get("logger"))
    if not cfg.trainer.get("enable_progress_bar", True):  # Lightning refuses a bar callback with the bar off
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBarBase)]
    trainer = instantiate(
        cfg.trainer,
        callbacks=callbacks,
        logger=loggers or False,
        **validation_schedule(metrics),
    )
    for logger in loggers:
        logger.log_hyperparams(model.run_config)
        if isinstance(logger, TensorBoardLogger):
            write_run_summary(logger, model.run_config)
    return trainer, model, datamodule


def build_model(cfg: DictConfig) -> pl.LightningModule:
    """The model `cfg` names; a setting its constructor refuses (a ValueError naming the key, e.g. model.n_critic=0)
    becomes a ConfigError, printed as its one paragraph instead of Hydra's wrapper around it."""
    try:
        return instantiate(cfg)
    except InstantiationException as error:
        if isinstance(error.__cause__, ValueError):
            raise ConfigError(str(error.__cause__)) from error
        raise


# The last checkpoint saved_run read, by (path, size, mtime): {"key": ..., "saved": ...}. A plain dict, not
# functools.lru_cache: submitit pickles the task with this module as __main__, and an lru_cache wrapper pickles by
# name, which the job's own __main__ does not have.
_last_saved_run: dict = {}


def saved_run(ckpt_path: str) -> dict:
    """The config and overrides of the run that wrote `ckpt_path`. Both resume_config and check_resume need them,
    and a checkpoint with optimizer states is large, so a file is read once while it stays the same (size, mtime)."""
    path = Path(ckpt_path).expanduser()
    key = (str(path.resolve()), *_file_version(path))
    if _last_saved_run.get("key") != key:
        try:
            checkpoint = read_checkpoint(path)
            saved = {"config": run_config(checkpoint), "overrides": checkpoint["ganzoo"].get("overrides")}
        except (FileNotFoundError, ValueError) as error:
            raise ConfigError(str(error)) from error
        _last_saved_run.update(key=key, saved=saved)
    return copy.deepcopy(_last_saved_run["saved"])  # the caller's own copy


def _file_version(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (-1, -1)  # read_checkpoint then says what to pass instead
    return (stat.st_size, stat.st_mtime_ns)


def resume_config(cfg: DictConfig, typed: list[str]) -> DictConfig:
    """With `ckpt_path` set, the config composed from the checkpoint's own model and data overrides plus those
    typed now (`typed`), so that `ckpt_path=...` alone resumes the run that wrote it. Needs Hydra initialised
    (inside `ganzoo.train`, or `hydra.initialize_config_dir`)."""
    if not cfg.get("ckpt_path"):
        return cfg
    saved = saved_run(cfg.ckpt_path)["overrides"]
    if saved is None:  # written before checkpoints held their overrides: retype them (check_resume lists them)
        return cfg
    overrides = resume_overrides(saved, typed)
    restored = [o for o in overrides if o not in typed]
    log.info(f"Resuming {cfg.ckpt_path} with its run's settings: {' '.join(restored) or '(the defaults)'}")
    return hydra.compose(config_name="train", overrides=overrides)


def allow_mlflow_file_store(loggers: DictConfig | None) -> None:
    """MLflow 3 refuses a local file store (`file:` tracking URI) unless MLFLOW_ALLOW_FILE_STORE is set;
    logger=mlflow asks for exactly that store, so allow it (an explicit setting of the variable wins)."""
    for logger in (loggers or {}).values():
        mlflow = logger and str(logger.get("_target_", "")).endswith("MLFlowLogger")
        if mlflow and str(logger.get("tracking_uri", "")).startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def check_resume(cfg: DictConfig) -> None:
    """A checkpoint resumes exactly only under the model and data settings that wrote it; refuse others before
    they fail deep inside Lightning (other networks) or silently train something else (another n_critic).
    Optimizer and scheduler settings may change, with a warning."""
    if not cfg.get("ckpt_path"):
        return
    saved = saved_run(cfg.ckpt_path)["config"]
    changes = resume_changes(saved, OmegaConf.to_container(cfg, resolve=True))
    retuned = [change for change in changes if is_optimizer_setting(change)]
    if retuned:
        log.warning("Resuming with other optimizer settings than the checkpoint's: " + "; ".join(retuned))
    changes = [change for change in changes if not is_optimizer_setting(change)]
    if changes:
        run = Path(cfg.ckpt_path).expanduser().resolve().parent.parent
        overrides = run / ".hydra" / "overrides.yaml"
        where = f" (they are in {overrides})" if overrides.is_file() else ""
        listed = "\n  ".join(changes[:10]) + (f"\n  ... {len(changes) - 10} more" if len(changes) > 10 else "")
        raise ConfigError(
            f"ckpt_path={cfg.ckpt_path} was written by a run with other model or data settings:\n  {listed}\n"
            f"Resume with the original run's overrides{where}; only trainer, logger, callback and optimizer "
            "settings (e.g. trainer.max_steps, model.optimizer_critic.lr) may change."
        )


def prepare(
    cfg: DictConfig, overrides: list[str] | None = None
) -> tuple[pl.Trainer, pl.LightningModule, pl.LightningDataModule]:
    """Check the settings and build everything, so that a run that cannot work stops before it prints or trains.
    `overrides`, the command line that composed `cfg`, travel in the checkpoints, so that a resume can restore the
    run's settings from them."""
    check_config(cfg)
    check_resume(cfg)
    trainer, model, datamodule = build(cfg)
    model.run_overrides = [o for o in overrides or [] if override_key(o) != "ckpt_path"]
    return trainer, model, datamodule


def fit(trainer: pl.Trainer, model: pl.LightningModule, datamodule: pl.LightningDataModule, cfg: DictConfig) -> None:
    """Train, resuming from `ckpt_path` when set."""
    # weights_only=False: ganzoo checkpoints hold loop and random states besides tensors (its own files)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"), weights_only=False)


def train(cfg: DictConfig, overrides: list[str] | None = None) -> tuple[pl.Trainer, pl.LightningModule]:
    """Check, build and fit (see `prepare`), resuming from `ckpt_path` when set."""
    trainer, model, datamodule = prepare(cfg, overrides)
    fit(trainer, model, datamodule, cfg)
    return trainer, model


def validation_schedule(metrics: ValidationMetrics | None) -> dict:
    """Validate every `metrics.every_n_steps` training batches (= steps), counted over epochs; never without
    metrics, since validation is where they run."""
    if metrics is None or metrics.every_n_steps is None:
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
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    route_lightning_logs()
    try:
        check_ddp_in_sweep(cfg, multirun=multirun)
        typed = list(HydraConfig.get().overrides.task)
        cfg = resume_config(cfg, typed)
        trainer, model, datamodule = prepare(cfg, typed)  # a refused run stops here, before the config is printed
        if cfg.get("print_config", True):
            show_config(cfg)
        fit(trainer, model, datamodule, cfg)
    except KNOWN_ERRORS as error:
        log.error(str(error))
        (run_dir / FAILED_MARKER).write_text(f"{type(error).__name__}: {error}\n")
        if multirun:  # Hydra marks the job failed and the sweeper goes on to the next one
            raise
        sys.exit(1)
    if trainer.is_global_zero:  # fit returned: the run stopped on its own (Ctrl-C and kill never get here)
        (run_dir / FINISHED_MARKER).write_text(f"step {trainer.global_step}\n")
    return objective(trainer, cfg.get("optimized_metric"))


def cli() -> None:
    """`python -m ganzoo.train` and the `ganzoo-train` command: any checkpoint path unquoted
    (ganzoo.config.quote_paths), then Hydra."""
    sys.argv[1:] = quote_paths(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli()
