"""CIFAR-10 from torchvision's `cifar-10-batches-py` layout, kept in memory as 32x32 RGB tensors in [-1, 1]."""

import pickle
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from ganzoo.data.base import TorchvisionDataModule, to_unit_range

TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: uint8 images (N, 3, 32, 32) from the row-major (N, 3072) `data`, and `labels`."""
    with path.open("rb") as f:
        entry = pickle.load(f, encoding="latin1")  # the official files were pickled by Python 2
    images = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return images, np.asarray(entry["labels"], dtype=np.int64)


class CIFAR10DataModule(TorchvisionDataModule):
    """CIFAR-10, 50,000 train (minus the held-out split) and 10,000 test images, 32x32x3, 10 classes.

    torchvision downloads and checks the archive when the batches are missing (data.download=true, the default);
    ganzoo reads the pickled batches itself, so any folder with that layout works.
    """

    name = "CIFAR-10"
    folder = "cifar-10-batches-py"
    files = (*TRAIN_BATCHES, "test_batch", "batches.meta")
    urls = (datasets.CIFAR10.url,)

    def _dataset(self, root: Path, train: bool, download: bool) -> datasets.CIFAR10:
        return datasets.CIFAR10(str(root), train=train, download=download)

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        self.require_files()
        batches = [read_batch(self.data_dir / self.folder / f) for f in (TRAIN_BATCHES if train else ["test_batch"])]
        images = torch.from_numpy(np.concatenate([b[0] for b in batches]))
        labels = torch.from_numpy(np.concatenate([b[1] for b in batches]))
        return to_unit_range(images, self.image_size), labels
