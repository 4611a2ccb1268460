"""The standard FID Inception-v3 (torch-fidelity's weights, as torchmetrics uses them), usable offline."""

import os
import socket
from pathlib import Path

import torch
from torch.hub import download_url_to_file, get_dir
from torchmetrics.image.fid import NoTrainInceptionV3

from ganzoo.metrics.extractor import FeatureExtractor

INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_FILE = INCEPTION_URL.rsplit("/", 1)[1]
ENV_VAR = "GANZOO_INCEPTION_WEIGHTS"
DOWNLOAD_TIMEOUT_S = 30


class InceptionWeightsError(FileNotFoundError):
    """metrics=inception cannot find its weights and cannot download them; raised at start-up."""


def _missing(reason: str) -> InceptionWeightsError:
    return InceptionWeightsError(
        f"metrics=inception needs torch-fidelity's Inception-v3 weights ({INCEPTION_FILE}, 91 MB): {reason}. "
        f"Fetch {INCEPTION_URL} on a machine with internet, then point ganzoo at the file with "
        f"metrics.inception_weights=/path/to/{INCEPTION_FILE} or the environment variable "
        f"{ENV_VAR}=/path/to/{INCEPTION_FILE}. For MNIST and USPS, metrics=digits needs no download."
    )


def resolve_inception_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file: the given path, else torch hub's cache, else downloaded into that cache."""
    if path:
        given = Path(path).expanduser()
        if not given.is_file():
            raise _missing(f"{given} does not exist")
        return given
    cached = Path(get_dir()) / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        download_url_to_file(INCEPTION_URL, str(cached), progress=False)
    except Exception as error:  # URLError, OSError, timeouts: all mean "offline" here
        raise _missing(f"no path was given and downloading failed ({type(error).__name__}: {error})") from None
    finally:
        socket.setdefaulttimeout(previous)
    return cached


def to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> uint8 RGB in [0, 255], rounded as a saved PNG would be; gray repeated to 3 channels."""
    x = images.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


class InceptionExtractor(FeatureExtractor):
    """2048-d pool features (FID, KID) and 1008 unbiased logits (IS) from one Inception pass, as torchmetrics."""

    num_features = 2048
    num_classes = 1008

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        path = resolve_inception_weights(weights)  # fails here, at start-up, rather than at the first validation
        self.net = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=[str(self.num_features), "logits_unbiased"],
            feature_extractor_weights_path=str(path),
        )
        self.freeze()

    def extract(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # torchmetrics' own forward (antialiased resize to 299, then (x - 128) / 128), asking for both outputs.
        features, logits = self.net._torch_fidelity_forward(to_inception_input(images))
        return features, logits
