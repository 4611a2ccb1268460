"""Validation is evaluation: the `metrics` config group measured on what a model makes, through its sampling API.

A model that generates from noise is judged by `GenerativeMetrics` on `sample(n, generator)`: the held-out split's
real statistics are gathered once, and every validation logs `val/fid`, `val/is`, `val/kid` (and `val/modes` for
digit classifiers) on freshly generated samples, drawn from the metrics' own seeds, never from the model's random
stream, so that validating leaves training untouched. A class-conditional model (one with `num_classes`) is asked
for its classes in turn, and judged per class too: `val/cond_acc` and `val/intra_fid` (with their values per class,
`val/cond_acc_<k>`, `val/intra_fid_<k>`), or, for InfoGAN's codes, `val/code_acc`. A two-domain model (one with
`domains`) is judged by `TranslationMetrics` on `translate(images, domain)`: each domain's images with their labels,
one loader per domain. A model with an encoder (`encode`, and `decode` from codes) also gets `val/probe_acc` and
`val/reconstruction_error` (`EncoderMetrics`).

The metrics live here, outside the model's module tree, so that their frozen feature networks stay out of
checkpoints, optimizers and DDP, and any run resumes under any metric choice.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import nn

from ganzoo.metrics import GenerativeMetrics, build_metrics, logged
from ganzoo.metrics.probe import EncoderMetrics
from ganzoo.metrics.translation import TranslationMetrics
from ganzoo.utils import eval_mode

log = logging.getLogger(__name__)
# What the terminal shows of each validation.
SHOWN = ("fid", "is", "kid", "modes", "cond_acc", "intra_fid", "code_acc")


def own_copies(module: nn.Module) -> None:
    """Give this process its own copy of every tensor of `module` that sits in shared memory.

    DDP by spawn pickles the trainer with its callbacks for each rank, and torch.multiprocessing pickles a CPU
    tensor by sharing its storage. Lightning un-shares the LightningModule's own tree, not the metrics held here:
    every rank would add its features into the same sums (counting the other ranks' samples twice after the
    gather), and concurrent `+=` would lose updates at random, which gave a DDP FID of -11.6 or 724.7 for 32.9.
    """
    module._apply(lambda t: t.clone() if t.is_shared() else t)


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(images, labels) of a validation batch; labels None where the data has none."""
    if isinstance(batch, list | tuple):
        return batch[0], batch[1] if len(batch) > 1 else None
    return batch, None


class ValidationMetrics(Callback):
    """`metrics`: the `metrics` config group (null or empty: nothing measured), or a built `GenerativeMetrics`;
    `domains`: a two-domain model's domains (the config's `model.domains`), whose translations are measured."""

    def __init__(
        self, metrics: Mapping[str, Any] | GenerativeMetrics | None = None, domains: Sequence[str] | None = None
    ) -> None:
        self.config = None if isinstance(metrics, GenerativeMetrics) else metrics
        self.domains = tuple(domains) if domains else None
        self.metrics: GenerativeMetrics | TranslationMetrics | None = (
            metrics if isinstance(metrics, GenerativeMetrics) else None
        )
        self.encoder_metrics: EncoderMetrics | None = None
        self._every_n_steps: int | None = None
        # per direction, counts [true source label, predicted target class] of the last validation (ganzoo.evaluate)
        self.confusion: dict[str, torch.Tensor] | None = None

    def build(self) -> GenerativeMetrics | TranslationMetrics | None:
        """The metrics, built once; building the extractor checks its weights, so a run calls this early."""
        if self.metrics is None and self.config:
            self.metrics = build_metrics(self.config)
        if isinstance(self.metrics, GenerativeMetrics):
            self._every_n_steps = self.metrics.every_n_steps
        if self.domains and isinstance(self.metrics, GenerativeMetrics):
            # the config's extractor decides FID features; accuracy always uses the digit classifiers
            self.metrics = TranslationMetrics.from_metrics(self.domains, self.metrics)
        return self.metrics

    @property
    def every_n_steps(self) -> int | None:
        """Steps between validations (`metrics.every_n_steps`); None when nothing is measured."""
        self.build()
        return self._every_n_steps

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self.domains = self.domains or getattr(pl_module, "domains", None)
        metrics = self.build()
        if metrics is None:
            return
        own_copies(metrics)
        if isinstance(metrics, GenerativeMetrics):  # refused now, not at the first validation
            metrics.check_world_size(trainer.world_size)
            if hasattr(pl_module, "num_classes"):
                metrics.condition_on(pl_module.num_classes, pl_module.labels_are_classes)
        if callable(getattr(pl_module, "encode", None)):
            self.encoder_metrics = EncoderMetrics()

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.metrics is not None:
            with torch.inference_mode(False):  # parameters moved inside inference mode could not be used outside
                self.metrics.to(pl_module.device)
        if self.encoder_metrics is not None:
            self.encoder_metrics.reset()

    def on_validation_batch_end(
        self, trainer: Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        metrics = self.metrics
        images, labels = split_batch(batch)
        if isinstance(metrics, TranslationMetrics):
            # loader i holds domain i's images: their real statistics once, then their translations
            source = pl_module.domains[dataloader_idx]
            if not metrics.has_real:
                metrics.update_real(images, source)
            metrics.update_translated(pl_module.translate(images, source), labels, source)
        elif metrics is not None and not metrics.has_real:  # this rank's shard of the held-out split, once per run
            if metrics.per_class is None:
                metrics.update(images, real=True)
            else:
                metrics.update_real_labelled(images, labels)
        if self.encoder_metrics is not None:
            codes = pl_module.encode(images)
            self.encoder_metrics.update(images, codes, pl_module.decode(codes), labels)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: Any) -> None:
        if isinstance(self.metrics, TranslationMetrics):
            self._translation_end(pl_module)
        elif self.metrics is not None:
            self._generative_end(trainer, pl_module)
        if self.encoder_metrics is not None:
            self._encoder_end(trainer, pl_module)

    def _generative_end(self, trainer: Trainer, pl_module: Any) -> None:
        """The generated side, on every rank: this rank's share of `metrics.num_samples` images."""
        metrics = self.metrics
        assert isinstance(metrics, GenerativeMetrics)
        metrics.has_real = True
        start = time.perf_counter()
        if trainer.global_rank == 0:  # tens of seconds on a CPU: say so, rather than leave the bar frozen
            log.info(f"step {trainer.global_step}: generating {metrics.num_samples} samples for the metrics ...")
        with eval_mode(pl_module):
            metrics.update_generated(pl_module.sample, pl_module.device, trainer.global_rank, trainer.world_size)
        values = metrics.compute()
        metrics.reset()
        pl_module.log_dict({f"val/{k}": v for k, v in values.items() if logged(k)}, sync_dist=True)
        if trainer.global_rank == 0:
            shown = ", ".join(f"{k} {values[k]:.4g}" for k in SHOWN if k in values)
            log.info(f"step {trainer.global_step}: {shown} ({time.perf_counter() - start:.0f} s)")

    def _translation_end(self, pl_module: Any) -> None:
        metrics = self.metrics
        assert isinstance(metrics, TranslationMetrics)
        metrics.has_real = True
        values = metrics.compute()
        self.confusion = metrics.confusion()
        metrics.reset()
        pl_module.log_dict({f"val/{k}": v for k, v in values.items()}, sync_dist=True)
        if pl_module.global_rank == 0:  # the result in the terminal and train.log, as the one-domain models do
            shown = ", ".join(f"{k} {float(v):.4g}" for k, v in values.items() if k.startswith("acc_"))
            log.info(f"step {pl_module.global_step}: {shown}")

    def _encoder_end(self, trainer: Trainer, pl_module: Any) -> None:
        """Under DDP each process probes its own shard of the held-out split; the logged value is the mean."""
        encoder = self.encoder_metrics
        assert encoder is not None
        has_errors, has_codes = encoder.has_errors, encoder.has_codes
        if trainer.world_size > 1:  # every rank must log the same keys, or sync_dist waits forever
            has_errors = trainer.strategy.reduce_boolean_decision(has_errors, all=True)
            has_codes = trainer.strategy.reduce_boolean_decision(has_codes, all=True)
        values = encoder.compute(errors=has_errors, probe=has_codes)
        encoder.reset()
        if values:
            pl_module.log_dict({f"val/{k}": v.to(pl_module.device) for k, v in values.items()}, sync_dist=True)
