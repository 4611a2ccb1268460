"""TranslationMetrics: how well a two-domain model translates, per direction a -> b.

`acc_a2b` is the accuracy of domain b's digit classifier on translated test images of a against their a labels
(the translation must keep the digit); `fid_a2b` is FID between translated a images and b's real test images, in
the features of b's digit classifier (or of the configured extractor, e.g. Inception, when it is not a digit
classifier). `acc` and `fid` average the two directions. Works on any number of processes (torchmetrics states).
"""

import warnings
from collections.abc import Sequence

import torch
from torch import nn
from torchmetrics.classification import MulticlassConfusionMatrix
from torchmetrics.image import FrechetInceptionDistance

from ganzoo.metrics.digits import DigitExtractor
from ganzoo.metrics.extractor import FeatureExtractor
from ganzoo.metrics.generative import GenerativeMetrics


class TranslationMetrics(nn.Module):
    def __init__(
        self,
        domains: Sequence[str],
        classifiers: dict[str, FeatureExtractor],
        fid_extractors: dict[str, FeatureExtractor] | None = None,
    ) -> None:
        super().__init__()
        a, b = domains
        self.directions = ((a, b), (b, a))
        self.classifiers = nn.ModuleDict(classifiers)
        extractors = fid_extractors or classifiers
        self.accuracy = nn.ModuleDict()
        self.fid = nn.ModuleDict()
        for source, target in self.directions:
            name = f"{source}2{target}"
            self.accuracy[name] = MulticlassConfusionMatrix(classifiers[target].num_classes)
            self.fid[name] = FrechetInceptionDistance(feature=extractors[target].head(0), reset_real_features=False)
        # Each network caches its last batch (FeatureExtractor); cleared after every update.
        self._cached = list({id(e): e for e in (*classifiers.values(), *extractors.values())}.values())
        self.has_real = False

    @classmethod
    def from_metrics(cls, domains: Sequence[str], metrics: GenerativeMetrics) -> "TranslationMetrics":
        """Digit classifiers named after the domains judge accuracy; FID uses them too unless `metrics` was
        configured with another extractor (metrics=inception), which then serves both directions."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            classifiers = {d: DigitExtractor(classifier=d) for d in domains}
        shared = None if isinstance(metrics.extractor, DigitExtractor) else metrics.extractor
        return cls(domains, classifiers, {d: shared for d in domains} if shared is not None else None)

    def target_of(self, source: str) -> str:
        return next(t for s, t in self.directions if s == source)

    @torch.no_grad()
    def update_real(self, images: torch.Tensor, domain: str) -> None:
        """Real test images of `domain`: the reference of FID for translations into it (kept across resets)."""
        for source, target in self.directions:
            if target == domain:
                self.fid[f"{source}2{target}"].update(images, real=True)
        self._clear()

    @torch.no_grad()
    def update_translated(self, translated: torch.Tensor, labels: torch.Tensor, source: str) -> None:
        """Translations of `source` test images, with the source labels."""
        target = self.target_of(source)
        name = f"{source}2{target}"
        self.fid[name].update(translated, real=False)
        self.accuracy[name].update(self.classifiers[target](translated)[1], labels)
        self._clear()

    def compute(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for source, target in self.directions:
            name = f"{source}2{target}"
            confusion = self.accuracy[name].compute()
            values[f"acc_{name}"] = float(confusion.trace() / confusion.sum().clamp(min=1))
            values[f"fid_{name}"] = float(self.fid[name].compute())
        names = [f"{s}2{t}" for s, t in self.directions]
        values["acc"] = sum(values[f"acc_{n}"] for n in names) / len(names)
        values["fid"] = sum(values[f"fid_{n}"] for n in names) / len(names)
        return values

    def confusion(self) -> dict[str, torch.Tensor]:
        """Per direction, counts [true source label, predicted target class] over the translated test images."""
        return {name: metric.compute().cpu() for name, metric in self.accuracy.items()}

    def reset(self) -> None:
        """Forget the translations; the real statistics stay."""
        for metric in (*self.accuracy.values(), *self.fid.values()):
            metric.reset()

    def _clear(self) -> None:
        for extractor in self._cached:
            extractor.clear_cache()
