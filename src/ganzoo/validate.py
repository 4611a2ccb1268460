"""Settings that cannot work, refused before any data is read, each in one paragraph that names its key."""

import importlib.util
from collections.abc import Mapping
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from ganzoo.config import ConfigError
from ganzoo.metrics.digits import CLASSIFIERS

GPU_ACCELERATORS = ("gpu", "cuda")


def check_config(cfg: DictConfig) -> None:
    """Raise ConfigError for the first setting of `cfg` that would fail later, deep inside a library."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    _check_data(resolved.get("data") or {})
    _check_model_fits_data(resolved.get("model") or {}, resolved.get("data") or {})
    _check_trainer(resolved.get("trainer") or {})
    _check_spectral_norm_fits_strategy(resolved.get("model") or {}, resolved.get("trainer") or {})
    _check_metrics(resolved.get("metrics") or {})
    _check_loggers(resolved.get("logger") or {})


def _check_data(data: Mapping[str, Any]) -> None:
    batch_size = data.get("batch_size")
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ConfigError(f"data.batch_size must be a whole number >= 1 (images per step), got {batch_size!r}.")
    workers = data.get("num_workers")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ConfigError(f"data.num_workers must be >= 0 (0 loads batches in the training process), got {workers!r}.")


def _data_name(data: Mapping[str, Any]) -> str:
    return str(data.get("_target_", "?")).rsplit(".", 1)[-1].removesuffix("DataModule") or "?"


def _check_model_fits_data(model: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    two_domain_model, two_domain_data = "domains" in model, "domains" in data
    if two_domain_model and not two_domain_data:
        raise ConfigError(
            f"The model translates between {model['domains']} and needs unpaired batches of both (data=mnist_usps); "
            f"data={_data_name(data).lower()} has one domain. Use data=mnist_usps, or a generative model on this data."
        )
    if two_domain_data and not two_domain_model:
        raise ConfigError(
            f"data=mnist_usps gives unpaired two-domain batches, which only a translation model (model=cyclegan, "
            f"model=cyclegan_asym) takes; {str(model.get('_target_', '?')).rsplit('.', 1)[-1]} generates one "
            "domain. Use data=mnist or data=usps."
        )
    for name, net in model.items():
        if not isinstance(net, Mapping):
            continue
        for key in ("image_size", "channels"):
            if key in net and key in data and net[key] != data[key]:
                raise ConfigError(
                    f"model.{name}.{key}={net[key]} does not fit the data: data.{key}={data[key]}. Leave "
                    f"model.{name}.{key} at its default (${{data.{key}}}) or set data.{key}."
                )


def _check_trainer(trainer: Mapping[str, Any]) -> None:
    if str(trainer.get("accelerator", "auto")) in GPU_ACCELERATORS and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={trainer['accelerator']} (trainer=gpu or trainer=ddp) needs a CUDA GPU, and none "
            "is visible here. Use trainer=cpu, or trainer=ddp_cpu for several CPU processes."
        )


def _check_spectral_norm_fits_strategy(model: Mapping[str, Any], trainer: Mapping[str, Any]) -> None:
    strategy = str(trainer.get("strategy", ""))
    normed = [name for name, net in model.items() if isinstance(net, Mapping) and net.get("spectral_norm")]
    if normed and "spawn" in strategy:
        raise ConfigError(
            f"model.{normed[0]}.spectral_norm=true cannot run under trainer.strategy={strategy}: spawned processes "
            "receive the model pickled, and torch's spectral-norm parametrization cannot be pickled. Use "
            "trainer=ddp (processes started from the command, also with trainer.accelerator=cpu), or train on "
            "one process."
        )


def _check_metrics(metrics: Mapping[str, Any]) -> None:
    extractor = metrics.get("extractor") or {}
    classifier = extractor.get("classifier")
    if str(extractor.get("_target_", "")).endswith("DigitExtractor") and classifier not in ("auto", *CLASSIFIERS):
        raise ConfigError(
            f"metrics.extractor.classifier={classifier!r} is not one of ganzoo's digit classifiers: "
            f"{['auto', *CLASSIFIERS]}."
        )
    num_samples, batch_size = metrics.get("num_samples"), metrics.get("batch_size")
    if isinstance(num_samples, int) and isinstance(batch_size, int) and num_samples < batch_size:
        raise ConfigError(
            f"metrics.num_samples={num_samples} is smaller than one generation batch (metrics.batch_size="
            f"{batch_size}); FID and KID on so few samples mean little. Raise metrics.num_samples (10000 is "
            "the standard) or lower metrics.batch_size."
        )


# Loggers whose package is an optional extra: (class name, module, extra).
OPTIONAL_LOGGERS = (("MLFlowLogger", "mlflow", "mlflow"), ("WandbLogger", "wandb", "wandb"))


def _check_loggers(loggers: Mapping[str, Any]) -> None:
    for name, logger in loggers.items():
        target = str((logger or {}).get("_target_", ""))
        for cls, module, extra in OPTIONAL_LOGGERS:
            if target.endswith(cls) and importlib.util.find_spec(module) is None:
                raise ConfigError(f"logger={name} needs the {module} package: pip install -e '.[{extra}]'.")
