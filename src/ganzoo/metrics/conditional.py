"""Per-class metrics of class-conditional generators, correct on any number of processes (summed states).

- `ConditionalAccuracy`: the share of generated images that a classifier reads as the class they were asked for,
  overall and per class.
- `IntraClassFID`: FID between the generated and the real images of each class, averaged over classes (as
  Miyato & Koyama, 2018, report it), with torchmetrics' FID formula on the same features as `val/fid`.
- `CodeAccuracy`: for InfoGAN, trained without labels, how well its categorical code matches the classes: the
  accuracy after the best one-to-one assignment of codes to classes (Hungarian algorithm).
Each takes features or classifier logits, not images, so that one extractor pass serves every metric;
`PerClassMetrics` chooses those that fit a model and holds them.
"""

import logging

import torch
import torch.distributed as dist
from scipy.optimize import linear_sum_assignment
from torch import nn
from torchmetrics import Metric
from torchmetrics.image.fid import _compute_fid

log = logging.getLogger(__name__)


def _check_labels(labels: torch.Tensor, num_classes: int, what: str) -> None:
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"{what} must lie in 0..{num_classes - 1}, got values from {int(labels.min())} to {int(labels.max())}: "
            "pass class indices of the metric's num_classes."
        )


class ConditionalAccuracy(Metric):
    """`cond_acc`: generated images whose predicted class (argmax of the classifier's logits) is the class asked
    for, over all generated images; `cond_acc_k`: the same among those asked to be class k (nan if none were)."""

    full_state_update = False

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.add_state("correct", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """`logits` (N, num_classes) of the classifier on images generated for `labels` (N,)."""
        _check_labels(labels, self.num_classes, "ConditionalAccuracy's labels")
        hit = logits.argmax(dim=1) == labels
        self.total += torch.bincount(labels, minlength=self.num_classes)
        self.correct += torch.bincount(labels[hit], minlength=self.num_classes)

    def compute(self) -> dict[str, float]:
        per_class = self.correct.double() / self.total.double()  # 0/0: nan for a class never asked for
        values = {"cond_acc": int(self.correct.sum()) / max(int(self.total.sum()), 1)}
        return values | {f"cond_acc_{k}": float(v) for k, v in enumerate(per_class)}


class IntraClassFID(Metric):
    """`intra_fid`: the mean over classes of `intra_fid_k`, the FID between generated and real features of class
    k. Per class it keeps what torchmetrics' FrechetInceptionDistance keeps (sum, sum of outer products, count, in
    double precision) and computes the distance with the same formula; real statistics stay across `reset`, as
    with `reset_real_features=False`. The states hold 2 x num_classes matrices of num_features^2: 2.6 MB for
    the digit classifiers' 128 features, 670 MB for Inception's 2048 over 10 classes."""

    full_state_update = False

    def __init__(self, num_features: int, num_classes: int = 10) -> None:
        super().__init__()
        self.num_features = num_features
        self.num_classes = num_classes
        for side in ("real", "fake"):
            self.add_state(f"{side}_sum", torch.zeros(num_classes, num_features, dtype=torch.double), "sum")
            self.add_state(
                f"{side}_cov_sum", torch.zeros(num_classes, num_features, num_features, dtype=torch.double), "sum"
            )
            self.add_state(f"{side}_count", torch.zeros(num_classes, dtype=torch.long), "sum")

    def update(self, features: torch.Tensor, labels: torch.Tensor, real: bool) -> None:
        """`features` (N, num_features) of real images of classes `labels`, or of images generated for them."""
        _check_labels(labels, self.num_classes, "IntraClassFID's labels")
        side = "real" if real else "fake"
        total, cov_total = getattr(self, f"{side}_sum"), getattr(self, f"{side}_cov_sum")
        for k in labels.unique().tolist():
            f = features[labels == k].double()
            total[k] += f.sum(dim=0)
            cov_total[k] += f.t().mm(f)
        getattr(self, f"{side}_count").add_(torch.bincount(labels, minlength=self.num_classes))

    def compute(self) -> dict[str, float]:
        short = [k for k in range(self.num_classes) if min(int(self.real_count[k]), int(self.fake_count[k])) < 2]
        if short:
            raise ValueError(
                f"Intra-class FID needs at least 2 real and 2 generated images of every class; classes {short} have "
                f"{[int(self.real_count[k]) for k in short]} real and {[int(self.fake_count[k]) for k in short]} "
                "generated: give more real images of each class or draw more generated ones (metrics.num_samples)."
            )
        per_class = [
            float(_compute_fid(*self._moments("real", k), *self._moments("fake", k))) for k in range(self.num_classes)
        ]
        return {"intra_fid": sum(per_class) / self.num_classes} | {f"intra_fid_{k}": v for k, v in enumerate(per_class)}

    def _moments(self, side: str, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and unbiased covariance of class k's features, as FrechetInceptionDistance.compute forms them."""
        n = getattr(self, f"{side}_count")[k]
        mean = getattr(self, f"{side}_sum")[k] / n
        cov = (getattr(self, f"{side}_cov_sum")[k] - n * torch.outer(mean, mean)) / (n - 1)
        return mean, cov

    def reset(self) -> None:
        """Forget the generated features; the real statistics stay."""
        real = {name: getattr(self, name).clone() for name in ("real_sum", "real_cov_sum", "real_count")}
        super().reset()
        for name, value in real.items():
            setattr(self, name, value)


class CodeAccuracy(Metric):
    """`code_acc`: InfoGAN's categorical code as a clustering of the classes. It counts how often images generated
    with code c are read as class k, then assigns codes to classes one to one so that the most images agree
    (`scipy.optimize.linear_sum_assignment`), and reports the share of images whose class is their code's."""

    full_state_update = False

    def __init__(self, num_codes: int = 10, num_classes: int = 10) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.num_classes = num_classes
        self.add_state("counts", torch.zeros(num_codes, num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, codes: torch.Tensor, logits: torch.Tensor) -> None:
        """`codes` (N,): the categorical code each image was generated with; `logits`: the classifier's on it."""
        _check_labels(codes, self.num_codes, "CodeAccuracy's codes")
        pairs = codes * self.num_classes + logits.argmax(dim=1)
        self.counts += torch.bincount(pairs, minlength=self.counts.numel()).view_as(self.counts)

    def compute(self) -> dict[str, float]:
        matched = match_codes(self.counts)
        agree = sum(int(self.counts[c, k]) for c, k in matched.items())
        return {"code_acc": agree / max(int(self.counts.sum()), 1)}


def match_codes(counts: torch.Tensor) -> dict[int, int]:
    """The one-to-one assignment of codes (rows of `counts`) to classes (columns) under which the most images
    agree; with more codes than classes, the codes left over stay unmatched."""
    codes, classes = linear_sum_assignment(counts.cpu().numpy(), maximize=True)
    return dict(zip(codes.tolist(), classes.tolist(), strict=True))


class PerClassMetrics(nn.Module):
    """What a class-conditional generator is judged by beside FID, on the features and logits of one extractor.

    Labels that are the data's classes get `ConditionalAccuracy` (when the logits are those classes: the digit
    classifiers) and `IntraClassFID`; InfoGAN's categorical codes, learned without labels, get `CodeAccuracy`. The
    generated images ask for the classes in turn (`labels(n)`: equal shares), the real ones come with their labels.
    """

    def __init__(
        self, num_classes: int, labels_are_classes: bool, num_features: int, logit_classes: int | None
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        classes = labels_are_classes and logit_classes is not None and num_classes <= logit_classes
        self.accuracy = ConditionalAccuracy(num_classes) if classes else None
        self.intra_fid = IntraClassFID(num_features, num_classes) if labels_are_classes else None
        codes = not labels_are_classes and logit_classes is not None
        self.code_accuracy = CodeAccuracy(num_classes, logit_classes) if codes else None

    def labels(self, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """0, 1, ..., num_classes - 1, 0, 1, ...: what n generated images are asked for."""
        return torch.arange(n, device=device) % self.num_classes

    @torch.no_grad()
    def update(self, features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, real: bool) -> None:
        """Extractor outputs of real images of classes `labels`, or of images generated for them."""
        if self.intra_fid is not None:
            self.intra_fid.update(features, labels, real=real)
        if real:
            return
        if self.accuracy is not None:
            self.accuracy.update(logits, labels)
        if self.code_accuracy is not None:
            self.code_accuracy.update(labels, logits)

    def compute(self) -> dict[str, float]:
        values: dict[str, float] = {}
        if self.accuracy is not None:
            values |= self.accuracy.compute()
        if self.code_accuracy is not None:
            values |= self.code_accuracy.compute()
        if self.intra_fid is not None:
            counts = torch.stack([self.intra_fid.real_count, self.intra_fid.fake_count])
            if dist.is_available() and dist.is_initialized():  # what compute would gather, decided on every rank
                counts = counts.clone()
                dist.all_reduce(counts)
            if int(counts.min()) >= 2:
                values |= self.intra_fid.compute()
            else:
                log.warning(
                    "Intra-class FID needs at least 2 real and 2 generated images of every class and has "
                    f"{counts[0].tolist()} real and {counts[1].tolist()} generated: not computed."
                )
        return values

    def reset(self) -> None:
        """Forget the generated images; real statistics stay."""
        for metric in (self.accuracy, self.intra_fid, self.code_accuracy):
            if metric is not None:
                metric.reset()
