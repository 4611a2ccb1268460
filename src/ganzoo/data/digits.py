"""MNIST and USPS from torchvision's on-disk layouts, kept in memory as tensors in [-1, 1]."""

from pathlib import Path

from torchvision import datasets

from ganzoo.data.base import TorchvisionDataModule


class MNISTDataModule(TorchvisionDataModule):
    """MNIST, 60,000 train (minus the held-out split) and 10,000 test digits, 28x28."""

    name = "MNIST"
    folder = "MNIST/raw"
    files = tuple(f"{s}-{k}-idx{d}-ubyte" for s in ("train", "t10k") for k, d in (("images", 3), ("labels", 1)))
    urls = tuple(datasets.MNIST.mirrors)

    def _dataset(self, root: Path, train: bool, download: bool) -> datasets.MNIST:
        return datasets.MNIST(str(root), train=train, download=download)


class USPSDataModule(TorchvisionDataModule):
    """USPS, 7,291 train (minus the held-out split) and 2,007 test digits, 16x16 resized to `image_size`."""

    name = "USPS"
    folder = "usps"
    files = ("usps.bz2", "usps.t.bz2")
    urls = tuple(url for url, _, _ in datasets.USPS.split_list.values())

    def _dataset(self, root: Path, train: bool, download: bool) -> datasets.USPS:
        return datasets.USPS(str(root / self.folder), train=train, download=download)
