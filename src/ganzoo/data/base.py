"""ImageDataModule: in-memory image tensors in [-1, 1], a seeded held-out split, resumable training order;
TorchvisionDataModule: the same over a dataset in torchvision's on-disk layout, fetched when missing and allowed."""

from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision import datasets

from ganzoo.data.download import fetch
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
        download: bool = True,
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


class TorchvisionDataModule(ImageDataModule):
    """A dataset in torchvision's on-disk layout: the files that are there are used as they are; missing ones are
    downloaded by torchvision when `download` allows it and a server answers, else a clear error says what to do."""

    folder: str  # where the files lie, under data_dir
    files: tuple[str, ...]
    urls: tuple[str, ...]  # torchvision's servers for them, checked for reachability before downloading

    def _dataset(self, root: Path, train: bool, download: bool) -> datasets.VisionDataset:
        """torchvision's dataset with `root` as its data root (data_dir, or a staging folder while downloading)."""
        raise NotImplementedError

    def missing_files(self) -> list[str]:
        return [f for f in self.files if not (self.data_dir / self.folder / f).exists()]

    def prepare_data(self) -> None:
        """Download the missing files, if any and if allowed. Lightning calls this on one process per node before
        `setup`; `require_files` calls it too, for entry points that call only `setup`."""
        missing = self.missing_files()
        if not missing or not self.download:
            return

        def download(root: Path) -> None:
            for train in (True, False):
                self._dataset(root, train, download=True)

        try:
            fetch(download, self.data_dir, self.folder, missing, self.urls)
        except Exception as error:  # torchvision raises RuntimeError, URLError, OSError, HTTPException, ...
            reason = f" and downloading it failed ({type(error).__name__}: {error})"
            fix = "run where the internet can be reached: torchvision then fetches them by itself (data.download=true)"
            raise self._not_found(reason, fix) from None

    def require_files(self) -> None:
        """Fetch what is missing where allowed, then raise the clear error if anything still is."""
        self.prepare_data()
        if self.missing_files():
            reason = "" if self.download else " and data.download=false forbids downloading it"
            raise self._not_found(reason, "let torchvision fetch them with data.download=true (needs internet)")

    def _not_found(self, reason: str, fix: str) -> DatasetNotFoundError:
        """One paragraph: which folder, which files, and the ways to provide them."""
        return DatasetNotFoundError(
            f"{self.name} was not found in {(self.data_dir / self.folder).resolve()}{reason}. Expected torchvision's "
            f"files there: {', '.join(self.files)}. Point ganzoo at the folder that holds them with the environment "
            f"variable GANZOO_DATA_DIR=/path/to/datasets or the override paths.data_dir=/path/to/datasets, or {fix}."
        )

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """torchvision's `data` (uint8, N x H x W) and `targets`, as MNIST and USPS keep them."""
        self.require_files()
        dataset = self._dataset(self.data_dir, train, download=False)
        images = torch.as_tensor(dataset.data)
        labels = torch.as_tensor(dataset.targets, dtype=torch.long)
        return to_unit_range(images, self.image_size), labels
