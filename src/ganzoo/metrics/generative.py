"""GenerativeMetrics: FID, IS, KID, precision/recall/density/coverage and class coverage of generated images, and
the per-class metrics of class-conditional generators, on any number of processes."""

import logging
import math
import warnings
from collections.abc import Callable

import torch
import torch.distributed as dist
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn
from torchmetrics import Metric
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

from ganzoo.metrics.conditional import PerClassMetrics
from ganzoo.metrics.extractor import FeatureExtractor
from ganzoo.metrics.prdc import PrecisionRecallDensityCoverage
from ganzoo.random_state import seeded_cpu_stream

SampleFn = Callable[..., torch.Tensor]  # sample(n, generator), with labels=... for a class-conditional model

log = logging.getLogger(__name__)

# Values logged as val/<name> (the class histogram stays out of the logs), and those of class-conditional models,
# logged with their per-class values (<name>_<k>).
LOGGED = ("fid", "is", "is_std", "kid", "kid_std", "modes", "precision", "recall", "density", "coverage")
PER_CLASS = ("cond_acc", "intra_fid", "code_acc")


def logged(name: str) -> bool:
    """Whether the value `name` of `GenerativeMetrics.compute` is logged as val/<name>."""
    return name in LOGGED or name.startswith(PER_CLASS)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def agreed(values: dict[str, float]) -> dict[str, float]:
    """Rank 0's values on every rank, with a warning naming any rank that computed others. Every rank computes
    from the same gathered states, so they should agree exactly; a mean over ranks (what `sync_dist` logs)
    would otherwise hide a rank's fault inside a plausible-looking number."""
    gathered: list[dict[str, float]] = [{} for _ in range(dist.get_world_size())]
    dist.all_gather_object(gathered, values)
    reference = gathered[0]
    for rank, other in enumerate(gathered[1:], start=1):
        differing = {k: (reference.get(k), v) for k, v in other.items() if v != reference.get(k)}
        if differing and dist.get_rank() == 0:  # every rank holds the same list: one warning is enough
            log.warning(
                f"metrics: rank {rank} computed other values than rank 0 (rank 0, rank {rank}): {differing}; "
                "rank 0's are used. Please report this with the run's config."
            )
    return reference


def one_block_per_rank(metric: Metric, *states: str) -> None:
    """Concatenate this rank's list states into one tensor each, before torchmetrics gathers them.

    torchmetrics gathers a list state kept with `dist_reduce_fx=None` (KID's and IS's features) one list entry
    at a time: batches then arrive interleaved across ranks, and ranks holding different numbers of batches
    make different numbers of collective calls, which hangs. With one entry per rank the gathered features are
    rank 0's block, then rank 1's, ...: with contiguous blocks per rank, the order of one process. Every rank
    must hold at least one entry (a rank with none would still make no gather call).
    """
    for name in states:
        parts = getattr(metric, name)
        if isinstance(parts, list) and len(parts) > 1:
            setattr(metric, name, [torch.cat(parts)])


class ClassCoverage(Metric):
    """Histogram of predicted classes; `modes` counts classes that receive at least `threshold` of samples."""

    full_state_update = False

    def __init__(self, num_classes: int, threshold: float = 0.05) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.threshold = threshold
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor) -> None:
        self.counts += torch.bincount(logits.argmax(dim=1), minlength=self.num_classes)

    def compute(self) -> torch.Tensor:
        return self.counts.float() / self.counts.sum().clamp(min=1)


def inception_score_parts(logits: torch.Tensor) -> dict[str, float]:
    """IS (one split) = exp(H(y) - E_x H(y|x)): `class_entropy` H(y) of the mean prediction says how evenly the
    classes are drawn (at most ln of the class count), `mean_entropy` E_x H(y|x) how unsure the classifier is of
    each image. Tells a low IS from unbalanced classes apart from one from ambiguous images."""
    log_p = logits.double().log_softmax(dim=1)
    p = log_p.exp()
    marginal = p.mean(dim=0)
    class_entropy = float(-torch.special.xlogy(marginal, marginal).sum())  # 0 log 0 = 0: a class never drawn
    mean_entropy = float(-(p * log_p).sum(dim=1).mean())
    return {
        "is": math.exp(class_entropy - mean_entropy),
        "class_entropy": class_entropy,
        "mean_entropy": mean_entropy,
    }


class GenerativeMetrics(nn.Module):
    """torchmetrics' FID, IS and KID on one FeatureExtractor, with a fixed, device-independent sample set.

    Real statistics are computed once and kept (`reset_real_features=False`); `reset` clears the generated
    side only. Generated images come in batches of `batch_size`, batch b drawn from a torch.Generator seeded
    `seed + b`; process r of w draws the r-th contiguous block of batches, so 1 or N processes see the same
    samples, gathered in the same order, and compute the same FID, and, since their random splits and subsets
    index that order, the same IS and KID. Every process must call `update`, `update_generated` and `compute`.
    After `condition_on`, generated batches ask a class-conditional model for the classes in turn, and
    `per_class` measures them.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        num_samples: int = 10000,
        batch_size: int = 500,
        seed: int = 0,
        every_n_steps: int = 1000,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        is_splits: int = 10,
        mode_threshold: float = 0.05,
        prdc_k: int | None = 5,
    ) -> None:
        super().__init__()
        for name, value in (("num_samples", num_samples), ("batch_size", batch_size), ("every_n_steps", every_n_steps)):
            if value < 1:
                raise ValueError(f"metrics.{name} must be >= 1, got {value}.")
        self.extractor = extractor
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.every_n_steps = every_n_steps
        self.kid_subset_size = kid_subset_size
        with warnings.catch_warnings():  # IS and KID warn that they keep features in memory; that is intended
            warnings.simplefilter("ignore", UserWarning)
            self.fid = FrechetInceptionDistance(feature=extractor.head(0), reset_real_features=False)
            self.kid = KernelInceptionDistance(
                feature=extractor.head(0), subsets=kid_subsets, subset_size=kid_subset_size, reset_real_features=False
            )
            self.inception_score = InceptionScore(feature=extractor.head(1), splits=is_splits)
        self.coverage = ClassCoverage(extractor.num_classes, mode_threshold) if extractor.class_coverage else None
        # precision, recall, density, coverage on the same features (null: not computed)
        self.prdc = PrecisionRecallDensityCoverage(prdc_k) if prdc_k else None
        self.per_class: PerClassMetrics | None = None
        self.has_real = False

    def condition_on(self, num_classes: int, labels_are_classes: bool) -> None:
        """Measure a class-conditional model: labels 0..num_classes - 1 that are the data's classes, or codes."""
        if self.per_class is None:
            logits = self.extractor.num_classes if self.extractor.class_coverage else None
            self.per_class = PerClassMetrics(num_classes, labels_are_classes, self.extractor.num_features, logits)

    @torch.no_grad()
    def update_real_labelled(self, images: torch.Tensor, labels: torch.Tensor | None) -> None:
        """`update(images, real=True)`, and the per-class statistics of images of classes `labels`."""
        if self.per_class is not None and labels is not None:
            self.per_class.update(*self.extractor(images), labels.to(images.device), real=True)
        self.update(images, real=True)  # the extractor's output is cached: one pass serves both

    @torch.no_grad()
    def update(self, images: torch.Tensor, real: bool) -> None:
        """Add a batch of real or generated images in [-1, 1]; the extractor runs once for all metrics."""
        self.fid.update(images, real=real)
        self.kid.update(images, real=real)
        if self.prdc is not None:
            self.prdc.update(self.extractor(images)[0], real=real)
        if not real:
            self.inception_score.update(images)
            if self.coverage is not None:
                self.coverage.update(self.extractor(images)[1])
        self.extractor.clear_cache()

    @property
    def num_batches(self) -> int:
        """How many generated batches make `num_samples` (the last one may be short)."""
        return -(-self.num_samples // self.batch_size)

    def check_world_size(self, world_size: int) -> None:
        """Every process must draw at least one generated batch (see `one_block_per_rank`)."""
        batches = self.num_batches
        if batches < world_size:
            raise ValueError(
                f"metrics.num_samples={self.num_samples} in batches of metrics.batch_size={self.batch_size} gives "
                f"{batches} batches for {world_size} processes, and every process needs one: lower "
                "metrics.batch_size or raise metrics.num_samples."
            )

    @torch.no_grad()
    def update_generated(self, sample: SampleFn, device: torch.device, rank: int = 0, world_size: int = 1) -> int:
        """Draw this process's share of `num_samples` images with `sample(n, generator)`; returns how many."""
        drawn = 0
        self.check_world_size(world_size)
        batches = torch.arange(self.num_batches)
        for b in torch.tensor_split(batches, world_size)[rank].tolist():
            n = min(self.batch_size, self.num_samples - b * self.batch_size)
            generator = torch.Generator(device=device).manual_seed(self.seed + b)
            if self.per_class is None:
                self.update(sample(n, generator), real=False)
            else:
                labels = self.per_class.labels(n, device)
                images = sample(n, generator, labels=labels)
                self.per_class.update(*self.extractor(images), labels, real=False)
                self.update(images, real=False)
            drawn += n
        return drawn

    def compute(self) -> dict[str, float]:
        """All metrics, identical on every process: states are gathered, and IS/KID subsets use `seed`."""
        n_real = int(self.fid.real_features_num_samples)
        if _distributed():
            count = torch.tensor(n_real, device=self.fid.real_features_sum.device)
            dist.all_reduce(count)
            n_real = int(count)
            one_block_per_rank(self.kid, "real_features", "fake_features")
            one_block_per_rank(self.inception_score, "features")
        self.kid.subset_size = min(self.kid_subset_size, n_real, self.num_samples)
        values = {"fid": float(self.fid.compute())}
        with seeded_cpu_stream(self.seed):  # the global random streams stay untouched (exact resume)
            is_mean, is_std = self.inception_score.compute()
            kid_mean, kid_std = self.kid.compute()
        values |= {"is": float(is_mean), "is_std": float(is_std), "kid": float(kid_mean), "kid_std": float(kid_std)}
        if self.prdc is not None:
            values |= self.prdc.compute()
        if self.coverage is not None:
            fractions = self.coverage.compute()
            values["modes"] = float((fractions >= self.coverage.threshold).sum())
            values |= {f"class_{k}": float(f) for k, f in enumerate(fractions)}
        if self.per_class is not None:
            values |= self.per_class.compute()
        return agreed(values) if _distributed() else values

    def reset(self) -> None:
        """Forget the generated samples; the real statistics stay."""
        for metric in (self.fid, self.kid, self.inception_score, self.coverage, self.prdc, self.per_class):
            if metric is not None:
                metric.reset()


SETTINGS = (
    "num_samples",
    "batch_size",
    "seed",
    "every_n_steps",
    "kid_subsets",
    "kid_subset_size",
    "is_splits",
    "mode_threshold",
    "prdc_k",
)


def build_metrics(cfg: DictConfig | None) -> GenerativeMetrics | None:
    """The `metrics` config group as an object, None for metrics=none; building the extractor checks weights."""
    if not cfg or cfg.get("extractor") is None:
        return None
    # Through a partial, so that the extractor's own errors (missing weights) arrive unwrapped by Hydra; with the
    # global random stream forked, so that a model built next is initialised the same with or without metrics.
    with torch.random.fork_rng(devices=[]):
        extractor = instantiate(cfg.extractor, _partial_=True)()
    return GenerativeMetrics(extractor, **{k: cfg[k] for k in SETTINGS if k in cfg})
