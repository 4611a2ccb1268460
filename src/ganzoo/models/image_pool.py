"""The history of generated images that CycleGAN's critics learn from (Shrivastava et al., 2017, sec. 2.3).

A critic trained on older translations as well as the latest ones oscillates less. Until the pool holds
`capacity` images, every fresh image is stored and returned as is; afterwards each fresh image is, with
probability 1/2, swapped for a uniformly chosen stored one (returned, and replaced by the fresh image), else
returned itself. The coins come from the caller's torch.Generator, so a resumed run draws the same ones.
"""

from typing import Any

import torch


class ImagePool:
    """At most `capacity` images of one domain."""

    def __init__(self, capacity: int = 50) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"model.pool_size must be a whole number >= 1 (images per domain), got {capacity!r}.")
        self.capacity = capacity
        self.images: torch.Tensor | None = None  # (count, C, H, W), count <= capacity

    def __len__(self) -> int:
        return 0 if self.images is None else len(self.images)

    @torch.no_grad()
    def query(self, fresh: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The images the critic sees instead of `fresh` (same shape); the pool is updated in place."""
        fresh = fresh.detach()
        out = fresh.clone()
        # Drawn for the whole batch whether used or not, so the random stream advances by a fixed amount.
        coins = torch.rand(len(fresh), generator=generator, device=generator.device).tolist()
        slots = torch.randint(self.capacity, (len(fresh),), generator=generator, device=generator.device).tolist()
        stored = self.images.to(fresh.device) if self.images is not None else fresh[:0].clone()
        for i, image in enumerate(fresh):
            if len(stored) < self.capacity:
                stored = torch.cat([stored, image[None]])
            elif coins[i] < 0.5:
                out[i] = stored[slots[i]]
                stored[slots[i]] = image
        self.images = stored
        return out

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        return {"images": None if self.images is None else self.images.cpu().clone()}

    def load_state_dict(self, state: dict[str, torch.Tensor | None]) -> None:
        images = state.get("images")
        if images is not None and len(images) > self.capacity:
            raise ValueError(f"A pool of capacity {self.capacity} cannot hold {len(images)} saved images.")
        self.images = None if images is None else images.clone()


def gather_pool(pool: ImagePool, module: Any) -> torch.Tensor | None:
    """The pool's images of every rank, stacked rank by rank, for a checkpoint (a collective under DDP)."""
    images = pool.state_dict()["images"]
    if images is None:
        return None
    if module.trainer.world_size > 1:  # every rank has its own pool
        return module.all_gather(images.to(module.device)).cpu()
    return images[None]
