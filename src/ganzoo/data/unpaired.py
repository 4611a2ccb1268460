"""Two image domains drawn independently (no pairing) for translation models such as CycleGAN.

A training batch is a pair (x_a, x_b) of images from domains a and b. Each domain is an endless stream of
permutations, one per epoch of that domain, so every image appears once per pass over its own domain; a loader
epoch covers the longer domain once and the shorter one keeps cycling. Validation reads each domain's held-out
split (taken from its training split, seeded) and test each domain's test split, with labels, one loader per
domain, for translation accuracy.
"""

from collections.abc import Mapping
from pathlib import Path

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ganzoo.data.base import ImageDataModule
from ganzoo.data.sampling import ResumableSampler, _rank_and_world, resumable_loader


class UnpairedSampler(ResumableSampler):
    """Yields index pairs (i_a, i_b): position t of domain d is permutation t // n_d of d, entry t % n_d.

    One epoch is the longer domain's length, trimmed to whole batches on every rank so that nothing is dropped
    and both streams continue without gaps into the next epoch. Each rank takes a contiguous block of positions,
    as ResumableSampler does, and mid-epoch resume works the same way (see ResumableLoader).
    """

    def __init__(self, sizes: tuple[int, int], batch_size: int, seed: int = 0) -> None:
        super().__init__(max(sizes), seed=seed, shuffle=True, even=True)
        self.sizes = sizes
        self.batch_size = batch_size

    def epoch_length(self) -> int:
        """Positions per epoch over all ranks: whole batches of the longer domain on every rank."""
        _, world = _rank_and_world()
        chunk = world * self.batch_size
        length = max(self.sizes) // chunk * chunk
        if length == 0:
            raise ValueError(f"Domains of sizes {self.sizes} hold no batch of {self.batch_size} per rank.")
        return length

    def stream(self, domain: int, positions: torch.Tensor) -> torch.Tensor:
        """Indices of `domain` at global stream positions: each pass over the domain is its own permutation."""
        size = self.sizes[domain]
        passes, offsets = positions // size, positions % size
        indices = torch.empty_like(positions)
        for p in passes.unique().tolist():
            generator = torch.Generator().manual_seed(self.seed + p + (domain << 32))
            chosen = passes == p
            indices[chosen] = torch.randperm(size, generator=generator)[offsets[chosen]]
        return indices

    def _indices(self) -> list[tuple[int, int]]:  # type: ignore[override]
        rank, world = _rank_and_world()
        length = self.epoch_length()
        positions = self.epoch * length + torch.tensor_split(torch.arange(length), world)[rank]
        return list(zip(self.stream(0, positions).tolist(), self.stream(1, positions).tolist(), strict=True))

    def __len__(self) -> int:
        return self.epoch_length() // _rank_and_world()[1]


class PairDataset(Dataset):
    """Item (i, j) is (image i of domain a, image j of domain b); labels stay out of training."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor) -> None:
        self.a, self.b = a, b

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, index: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a[index[0]], self.b[index[1]]


class UnpairedDataModule(LightningDataModule):
    """Two single-domain datamodules (e.g. MNIST and USPS), used for their splits only, trained unpaired.

    `domains` maps a name to its datamodule; the order is the order of images in a batch. Each domain trains on
    its datamodule's train_set, validates on its val_set (`val_size` images held out of the training split) and
    tests on its test_set, so that choices made by validation never look at the test split.
    """

    def __init__(
        self,
        domains: Mapping[str, ImageDataModule],
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
        channels: int | None = None,
        image_size: int | None = None,
        data_dir: str | None = None,
    ) -> None:
        super().__init__()
        if len(domains) != 2:
            raise ValueError(f"An unpaired datamodule takes exactly two domains, got {list(domains)}.")
        self.domains: dict[str, ImageDataModule] = dict(domains)
        if data_dir is not None:  # one data root for both domains (ganzoo.evaluate sets it for this machine)
            for datamodule in self.domains.values():
                datamodule.data_dir = Path(data_dir).expanduser()
        # The first domain's shape, for configs that read data.channels / data.image_size (ganzoo.validate refuses a
        # single-domain model on two-domain data before anything is built).
        first = next(iter(self.domains.values()))
        self.channels = first.channels if channels is None else channels
        self.image_size = first.image_size if image_size is None else image_size
        if (self.channels, self.image_size) != (first.channels, first.image_size):
            raise ValueError(
                f"channels and image_size are the first domain's ({first.channels}, {first.image_size}); "
                f"got ({channels}, {image_size})."
            )
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.train_sets: dict[str, TensorDataset] = {}
        self.val_sets: dict[str, TensorDataset] = {}
        self.test_sets: dict[str, TensorDataset] = {}

    @property
    def names(self) -> tuple[str, str]:
        a, b = self.domains
        return a, b

    def size_of(self, domain: str) -> int:
        return self.domains[domain].image_size

    def prepare_data(self) -> None:
        for datamodule in self.domains.values():
            datamodule.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        if self.train_sets:
            return
        for name, datamodule in self.domains.items():
            datamodule.setup(stage)
            splits = (datamodule.train_set, datamodule.val_set, datamodule.test_set)
            if not all(isinstance(split, TensorDataset) for split in splits):
                raise TypeError(f"Domain {name!r} must be an ImageDataModule holding TensorDatasets.")
            if not len(datamodule.val_set):
                raise ValueError(
                    f"Domain {name!r} holds out no validation images (data.domains.{name}.val_size=0); validation "
                    f"must not read the test split. Set data.domains.{name}.val_size to a positive number."
                )
            self.train_sets[name], self.val_sets[name], self.test_sets[name] = splits

    def train_dataloader(self) -> DataLoader:
        if not self.train_sets:
            raise RuntimeError("Call setup() before asking for a dataloader.")
        a, b = (self.train_sets[n].tensors[0] for n in self.names)
        sampler = UnpairedSampler((len(a), len(b)), batch_size=self.batch_size, seed=self.seed)
        return self._loader(PairDataset(a, b), sampler, drop_last=True)

    def _loader(self, dataset: Dataset, sampler: ResumableSampler, drop_last: bool) -> DataLoader:
        return resumable_loader(dataset, sampler, self.batch_size, self.num_workers, drop_last)

    def _eval_loaders(self, sets: dict[str, TensorDataset]) -> list[DataLoader]:
        """One loader per domain (dataloader_idx follows `names`), in order: (images, labels)."""
        if not sets:
            raise RuntimeError("Call setup() before asking for a dataloader.")
        return [
            self._loader(sets[n], ResumableSampler(len(sets[n]), shuffle=False, even=False), False) for n in self.names
        ]

    def val_dataloader(self) -> list[DataLoader]:
        return self._eval_loaders(self.val_sets)

    def test_dataloader(self) -> list[DataLoader]:
        return self._eval_loaders(self.test_sets)

    def fixed_batch(self, n: int) -> dict[str, torch.Tensor]:
        """The first n validation images of each domain: the same real images in every preview grid of a run."""
        if not self.val_sets:
            self.setup()
        return {name: self.val_sets[name].tensors[0][:n] for name in self.names}
