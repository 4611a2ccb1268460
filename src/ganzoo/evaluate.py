"""`python -m ganzoo.evaluate ckpt_path=... [metrics=digits|inception]`: FID, IS, KID of a checkpoint's generator,
and for a class-conditional model its per-class metrics (listed per class as `per_class_cond_acc`, ...).

Runs the same validation as training (so any trainer, e.g. trainer=ddp_cpu, works), against the test split by
default, prints a table and writes it next to the checkpoint as eval_<checkpoint>_<split>_<features>_<weights>.json
(or to `out=`), so that evaluations with other splits, features or weights do not overwrite each other.
"""

import hashlib
import json
import logging
import sys
from pathlib import Path

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from ganzoo.callbacks import ValidationMetrics
from ganzoo.checkpoint import load_model
from ganzoo.config import config_dir, quote_paths
from ganzoo.data import DatasetNotFoundError
from ganzoo.metrics import InceptionWeightsError, build_metrics
from ganzoo.metrics.translation import TranslationMetrics
from ganzoo.terminal import route_lightning_logs

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict:
    """Metrics of the checkpoint `cfg.ckpt_path`, also written to `report_path(cfg, report)`."""
    model, run = load_model(cfg.ckpt_path)
    model.use_weights(cfg.weights)
    with open_dict(cfg):  # the run's own data settings, with this machine's data folder
        cfg.data = OmegaConf.merge(run["data"], cfg.get("data") or {})
    metrics = build_metrics(cfg.get("metrics"))
    if metrics is None:
        raise ValueError("metrics=none leaves nothing to evaluate; choose metrics=digits or metrics=inception.")
    measure = ValidationMetrics(metrics, domains=run["model"].get("domains"))
    datamodule = instantiate(cfg.data)
    datamodule.setup("validate")
    if cfg.split not in ("test", "val"):
        raise ValueError(f"split must be test or val, got {cfg.split!r}.")
    loader = datamodule.test_dataloader() if cfg.split == "test" else datamodule.val_dataloader()
    trainer = instantiate(cfg.trainer, callbacks=[measure])
    trainer.validate(model, dataloaders=loader, verbose=False)
    values = {k.removeprefix("val/"): float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    path = Path(cfg.ckpt_path).expanduser()
    num_real = sum(len(d.dataset) for d in (loader if isinstance(loader, list) else [loader]))
    report: dict[str, float | int | str | list[float]] = {
        "checkpoint": str(path.resolve()),
        "step": model.critic_updates + model.generator_updates,
        "features": feature_name(metrics.extractor),
        # which weights made the features: another classifier gives other FIDs
        "features_sha256": weights_hash(metrics.extractor),
        "split": cfg.split,
        "weights": "ema" if model.ema is not None and model.weights == "ema" else "raw",
        # two-domain data (CycleGAN) gives one loader per domain, and every real image is translated once
        "num_real": num_real,
        "num_samples": num_real if isinstance(measure.metrics, TranslationMetrics) else metrics.num_samples,
        **fold_per_class(values),
    }
    if measure.confusion is not None:
        report.update(per_class(measure.confusion))
    out = report_path(cfg, report)
    out.write_text(json.dumps(report, indent=2) + "\n")
    report["written_to"] = str(out)
    return report


def feature_name(extractor: torch.nn.Module) -> str:
    """`DigitExtractor-mnist`, `InceptionExtractor`: the features' class and, for digits, the classifier."""
    classifier = getattr(extractor, "classifier", None)
    return type(extractor).__name__ + (f"-{classifier}" if isinstance(classifier, str) else "")


def weights_hash(module: torch.nn.Module) -> str:
    """SHA-256 over the module's tensors in state-dict order: equal exactly when the weights are."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def report_path(cfg: DictConfig, report: dict) -> Path:
    if cfg.get("out"):
        return Path(cfg.out).expanduser()
    checkpoint = Path(cfg.ckpt_path).expanduser()
    return checkpoint.parent / f"eval_{checkpoint.stem}_{report['split']}_{report['features']}_{report['weights']}.json"


def per_class(confusion: dict[str, torch.Tensor]) -> dict[str, list]:
    """`per_class_acc_<direction>` (accuracy on each source digit) and `confusion_<direction>` (counts, rows the
    source label, columns the class the target domain's classifier saw)."""
    report: dict[str, list] = {}
    for name, counts in confusion.items():
        report[f"per_class_acc_{name}"] = (counts.diag() / counts.sum(1).clamp(min=1)).tolist()
        report[f"confusion_{name}"] = counts.long().tolist()
    return report


def fold_per_class(values: dict[str, float]) -> dict[str, float | list[float]]:
    """`cond_acc_<k>` and `intra_fid_<k>` as the lists `per_class_cond_acc` and `per_class_intra_fid`."""
    folded: dict[str, float | list[float]] = {}
    lists: dict[str, dict[int, float]] = {}
    for key, value in values.items():
        name, _, k = key.rpartition("_")
        if name in ("cond_acc", "intra_fid") and k.isdigit():
            lists.setdefault(f"per_class_{name}", {})[int(k)] = value
        else:
            folded[key] = value
    return folded | {name: [by_class[k] for k in sorted(by_class)] for name, by_class in lists.items()}


def table(report: dict) -> str:
    rows = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in report.items() if not isinstance(v, list)]
    for key, value in report.items():
        if key.startswith("per_class_"):
            rows.append((key, " ".join(f"{i}:{a:.3f}" for i, a in enumerate(value))))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="evaluate")
def main(cfg: DictConfig) -> float:
    route_lightning_logs()
    try:
        report = evaluate(cfg)
    except (DatasetNotFoundError, InceptionWeightsError, FileNotFoundError, ValueError) as error:
        log.error(str(error))
        sys.exit(1)
    print(table(report))
    print(f"written to {report.pop('written_to')}")
    return float(report["fid"])


def cli() -> None:
    """`python -m ganzoo.evaluate`: any checkpoint path unquoted (ganzoo.config.quote_paths), then Hydra."""
    sys.argv[1:] = quote_paths(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli()
