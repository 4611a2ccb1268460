"""Data order that survives a checkpoint: shuffled by (seed, epoch), sharded over ranks, resumable mid-epoch."""

from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, Sampler


def _rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class ResumableSampler(Sampler[int]):
    """Each rank gets its contiguous block of one permutation per epoch; `even=True` trims so every rank gets as
    many. Contiguous, not interleaved: features gathered rank after rank are then in the order one process sees,
    so order-dependent metrics (KID's subsets, IS's splits) equal one process's."""

    def __init__(self, size: int, seed: int = 0, shuffle: bool = True, even: bool = True) -> None:
        self.size = size
        self.seed = seed
        self.shuffle = shuffle
        self.even = even
        self.epoch = 0
        self._resume: tuple[int, int] | None = None  # (epoch, samples to skip)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume(self, epoch: int, skip: int) -> None:
        """Skip the first `skip` samples of this rank's block the next time `epoch` is iterated."""
        self._resume = (epoch, skip)

    def _indices(self) -> list[int]:
        rank, world = _rank_and_world()
        if self.shuffle:
            order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        else:
            order = torch.arange(self.size)
        end = self.size - self.size % world if self.even else self.size
        return torch.tensor_split(order[:end], world)[rank].tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self._indices()
        if self._resume is not None and self._resume[0] == self.epoch:
            indices = indices[self._resume[1] :]
        self._resume = None
        return iter(indices)

    def __len__(self) -> int:
        return len(self._indices())


class ResumableLoader(DataLoader):
    """A DataLoader over a ResumableSampler that Lightning checkpoints, since it has `state_dict`.

    The state is the epoch and the number of batches handed out in it. Lightning fetches no batch ahead
    from a loader whose length it knows (ours always is), so that is the number of batches trained on.
    """

    sampler: ResumableSampler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._epoch = 0
        self._yielded = 0

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        self._epoch = self.sampler.epoch
        resume = self.sampler._resume
        self._yielded = resume[1] // self.batch_size if resume and resume[0] == self._epoch else 0
        for batch in super().__iter__():
            self._yielded += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self._epoch, "batches": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.resume(state["epoch"], state["batches"] * self.batch_size)


def resumable_loader(
    dataset: Dataset, sampler: ResumableSampler, batch_size: int, num_workers: int, drop_last: bool
) -> ResumableLoader:
    """The one way ganzoo's datamodules batch a dataset: in `sampler`'s order, checkpointable."""
    return ResumableLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
