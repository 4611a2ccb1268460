"""The project's digit classifiers: a small CNN whose features drive FID/KID and whose softmax drives IS."""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.config import ConfigError
from ganzoo.metrics.extractor import FeatureExtractor

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CLASSIFIERS = ("mnist", "usps")


class DigitClassifier(nn.Module):
    """28x28 digits in [-1, 1] -> 10 logits; `features` is the 128-d penultimate layer (after ReLU)."""

    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (16, 32, 64), feature_dim: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            layers += [nn.MaxPool2d(2)]
            c = w
        self.body = nn.Sequential(*layers, nn.Flatten())
        side = 28 // 2 ** len(widths)
        self.embed = nn.Sequential(nn.Linear(c * side * side, feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, 10)
        self.arch = {"channels": channels, "widths": list(widths), "feature_dim": feature_dim}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


def weights_path(name: str) -> Path:
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown digit classifier {name!r}: choose one of {list(CLASSIFIERS)}.")
    return WEIGHTS_DIR / f"{name}.pt"


def save_digit_classifier(net: DigitClassifier, path: Path, **info: float | str) -> None:
    """Weights, architecture and provenance (dataset, test accuracy) in one small file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "arch": net.arch, **info}, path)


def load_digit_classifier(name_or_path: str | Path) -> DigitClassifier:
    """A shipped classifier by name (`mnist`, `usps`) or a file written by `python -m ganzoo.classifier`."""
    path = weights_path(name_or_path) if str(name_or_path) in CLASSIFIERS else Path(name_or_path)
    if not path.exists():
        raise FileNotFoundError(
            f"Digit classifier weights {path} are missing; train them with `python -m ganzoo.classifier`."
        )
    saved = torch.load(path, map_location="cpu", weights_only=True)
    arch = saved["arch"]
    net = DigitClassifier(arch["channels"], tuple(arch["widths"]), arch["feature_dim"])
    net.load_state_dict(saved["state_dict"])
    return net.eval()


def to_digit_input(images: torch.Tensor) -> torch.Tensor:
    """Any generator output in [-1, 1] as the classifiers' input: one channel, 28x28."""
    x = images.float()
    if x.shape[1] != 1:
        x = x.mean(dim=1, keepdim=True)
    if x.shape[-2:] != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x


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
