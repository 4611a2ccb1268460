"""MNIST and USPS from torchvision's on-disk layouts, kept in memory as tensors in [-1, 1]."""

from pathlib import Path

from torchvision import datasets

from ganzoo.data.base import TorchvisionDataModule


class MNISTDataModule(TorchvisionDataModule):
    """MNIST, 60,000 train (minus the held-out split) and 10,000 test digits, 28x28."""

    name = "MNIST"

    def _folder(self) -> Path:
        return self.data_dir / "MNIST" / "raw"

    def _files(self) -> list[str]:
        return [f"{s}-{k}-idx{d}-ubyte" for s in ("train", "t10k") for k, d in (("images", 3), ("labels", 1))]

    def _dataset(self, train: bool, download: bool) -> datasets.MNIST:
        return datasets.MNIST(str(self.data_dir), train=train, download=download)


class USPSDataModule(TorchvisionDataModule):
    """USPS, 7,291 train (minus the held-out split) and 2,007 test digits, 16x16 resized to `image_size`."""

    name = "USPS"

    def _folder(self) -> Path:
        return self.data_dir / "usps"

    def _files(self) -> list[str]:
        return ["usps.bz2", "usps.t.bz2"]

    def _dataset(self, train: bool, download: bool) -> datasets.USPS:
        return datasets.USPS(str(self._folder()), train=train, download=download)
