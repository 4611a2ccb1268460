"""The digit classifier CNN: the network behind metrics=digits (ganzoo.metrics.digits), CycleGAN's teachers and
labellers (ganzoo.nets.teachers), and `python -m ganzoo.classifier`."""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


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


def save_digit_classifier(net: DigitClassifier, path: Path, **info: float | str) -> None:
    """Weights, architecture and provenance (dataset, test accuracy) in one small file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "arch": net.arch, **info}, path)


def read_digit_classifier(path: Path) -> DigitClassifier:
    """A classifier file written by `save_digit_classifier` (`python -m ganzoo.classifier`), in eval mode."""
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
