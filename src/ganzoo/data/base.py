"""ImageDataModule: in-memory image tensors in [-1, 1], a seeded held-out split, resumable training order;
TorchvisionDataModule: the same over a dataset in torchvision's on-disk layout, with clear missing-data errors."""

import socket
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision import datasets

from ganzoo.data.sampling import ResumableSampler, resumable_loader


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are not where the config says, and downloading is off or failed."""


def to_unit_range(images: torch.Tensor, image_size: int | None = None) -> torch.Tensor:
    """uint8 (N, H, W) or (N, C, H, W) -> float (N, C, S, S) in [-1, 1], resized with antialiasing if asked."""
    x = images.float().div(255)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if image_size is not None and x.shape[-1] != image_size:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0, 1).mul(2).sub(1)


class ImageDataModule(LightningDataModule):
    """Subclasses load (images, labels) per split; this class splits, shards and batches them."""

    name = "images"

    def __init__(
        self,
        data_dir: str = "data",
        batch_size: int = 64,
        num_workers: int = 0,
        val_size: int = 5000,
        image_size: int = 28,
        channels: int = 1,
        download: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.data_dir = Path(data_dir).expanduser()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.val_size = val_size
        self.image_size = image_size
        self.channels = channels
        self.download = download
        self.seed = seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] of shape (N, C, S, S) and integer labels (N,)."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        images, labels = self.load_split(train=True)
        if images.shape[1] != self.channels:
            raise ValueError(f"{self.name} images have {images.shape[1]} channel(s); set data.channels to that.")
        if not 0 <= self.val_size < len(images):
            raise ValueError(f"data.val_size must lie in [0, {len(images)}), got {self.val_size}.")
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.seed))
        val, train = order[: self.val_size], order[self.val_size :]
        self.train_set = TensorDataset(images[train], labels[train])
        self.val_set = TensorDataset(images[val], labels[val])
        self.test_set = TensorDataset(*self.load_split(train=False))

    def _loader(self, dataset: Dataset | None, train: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError("Call setup() before asking for a dataloader.")
        sampler = ResumableSampler(len(dataset), seed=self.seed, shuffle=train, even=train)
        return resumable_loader(dataset, sampler, self.batch_size, self.num_workers, drop_last=train)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, train=False)


DOWNLOAD_TIMEOUT_S = 30


def not_found_error(name: str, folder: Path, files: list[str], reason: str = "") -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{name} was not found in {folder.resolve()}{reason}. Expected torchvision's files there: "
        f"{', '.join(files)}. Point ganzoo at the folder that holds them with the environment variable "
        f"GANZOO_DATA_DIR=/path/to/datasets or the override paths.data_dir=/path/to/datasets, "
        f"or let torchvision fetch them with data.download=true (needs internet)."
    )


class TorchvisionDataModule(ImageDataModule):
    """A dataset in torchvision's on-disk layout: downloads only when allowed, and says clearly what is missing."""

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
            raise not_found_error(self.name, self._folder(), self._files(), reason) from None
        finally:
            socket.setdefaulttimeout(previous)

    def require_files(self) -> None:
        if any(not (self._folder() / f).exists() for f in self._files()):
            raise not_found_error(self.name, self._folder(), self._files())

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """torchvision's `data` (uint8, N x H x W) and `targets`, as MNIST and USPS keep them."""
        self.require_files()
        dataset = self._dataset(train, download=False)
        images = torch.as_tensor(dataset.data)
        labels = torch.as_tensor(dataset.targets, dtype=torch.long)
        return to_unit_range(images, self.image_size), labels
