"""ImageDataModule: in-memory image tensors in [-1, 1], a seeded held-out split, resumable training order."""

from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset, TensorDataset

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
