"""MNIST and USPS from torchvision's on-disk layouts, kept in memory as tensors in [-1, 1]."""

import socket
from pathlib import Path

import torch
from torchvision import datasets

from ganzoo.data.base import DatasetNotFoundError, ImageDataModule, to_unit_range

DOWNLOAD_TIMEOUT_S = 30


def _not_found(name: str, folder: Path, files: list[str], reason: str = "") -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{name} was not found in {folder.resolve()}{reason}. Expected torchvision's files there: "
        f"{', '.join(files)}. Point ganzoo at the folder that holds them with the environment variable "
        f"GANZOO_DATA_DIR=/path/to/datasets or the override paths.data_dir=/path/to/datasets, "
        f"or let torchvision fetch them with data.download=true (needs internet)."
    )


class _TorchvisionDigits(ImageDataModule):
    def _folder(self) -> Path:
        raise NotImplementedError

    def _files(self) -> list[str]:
        raise NotImplementedError

    def _dataset(self, train: bool, download: bool) -> datasets.VisionDataset:
        raise NotImplementedError

    def prepare_data(self) -> None:
        if not self.download or all((self._folder() / f).exists() for f in self._files()):
            return
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
        try:
            for train in (True, False):
                self._dataset(train, download=True)
        except Exception as error:  # torchvision raises RuntimeError, URLError or OSError offline
            reason = f" and downloading it failed ({type(error).__name__}: {error})"
            raise _not_found(self.name, self._folder(), self._files(), reason) from None
        finally:
            socket.setdefaulttimeout(previous)

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        missing = [f for f in self._files() if not (self._folder() / f).exists()]
        if missing:
            raise _not_found(self.name, self._folder(), self._files())
        dataset = self._dataset(train, download=False)
        images = torch.as_tensor(dataset.data)
        labels = torch.as_tensor(dataset.targets, dtype=torch.long)
        return to_unit_range(images, self.image_size), labels


class MNISTDataModule(_TorchvisionDigits):
    """MNIST, 60,000 train (minus the held-out split) and 10,000 test digits, 28x28."""

    name = "MNIST"

    def _folder(self) -> Path:
        return self.data_dir / "MNIST" / "raw"

    def _files(self) -> list[str]:
        return [f"{s}-{k}-idx{d}-ubyte" for s in ("train", "t10k") for k, d in (("images", 3), ("labels", 1))]

    def _dataset(self, train: bool, download: bool) -> datasets.MNIST:
        return datasets.MNIST(str(self.data_dir), train=train, download=download)


class USPSDataModule(_TorchvisionDigits):
    """USPS, 7,291 train (minus the held-out split) and 2,007 test digits, 16x16 resized to `image_size`."""

    name = "USPS"

    def _folder(self) -> Path:
        return self.data_dir / "usps"

    def _files(self) -> list[str]:
        return ["usps.bz2", "usps.t.bz2"]

    def _dataset(self, train: bool, download: bool) -> datasets.USPS:
        return datasets.USPS(str(self._folder()), train=train, download=download)
