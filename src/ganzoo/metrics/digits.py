"""The project's metric classifiers: `DigitClassifier`s whose features drive FID/KID and whose softmax drives IS."""

from pathlib import Path

import torch

from ganzoo.config import ConfigError
from ganzoo.metrics.extractor import FeatureExtractor
from ganzoo.nets.digits import DigitClassifier, read_digit_classifier, save_digit_classifier, to_digit_input

__all__ = [
    "CLASSIFIERS",
    "DigitClassifier",
    "DigitExtractor",
    "load_digit_classifier",
    "save_digit_classifier",
    "to_digit_input",
    "weights_path",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CLASSIFIERS = ("mnist", "usps")


def weights_path(name: str) -> Path:
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown digit classifier {name!r}: choose one of {list(CLASSIFIERS)}.")
    return WEIGHTS_DIR / f"{name}.pt"


def load_digit_classifier(name_or_path: str | Path) -> DigitClassifier:
    """A shipped classifier by name (`mnist`, `usps`) or a file written by `python -m ganzoo.classifier`."""
    return read_digit_classifier(weights_path(name_or_path) if str(name_or_path) in CLASSIFIERS else Path(name_or_path))


class DigitExtractor(FeatureExtractor):
    """Features of ganzoo's MNIST or USPS classifier; `classifier=auto` picks the one matching `data`."""

    num_features = 128
    num_classes = 10
    class_coverage = True

    def __init__(self, classifier: str = "auto", data: str | None = None) -> None:
        super().__init__()
        if data and "cifar" in data.lower():
            raise ConfigError(
                "metrics=digits measures images with ganzoo's MNIST/USPS digit classifiers, which mean nothing on "
                "CIFAR-10: use metrics=inception (the standard for CIFAR-10) or metrics=none."
            )
        if classifier == "auto":
            classifier = "usps" if data and "usps" in data.lower() else "mnist"
        self.classifier = classifier
        self.net = load_digit_classifier(classifier)
        self.num_features = self.net.arch["feature_dim"]
        self.freeze()

    def extract(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.net.features(to_digit_input(images))
        return features, self.net.head(features)
