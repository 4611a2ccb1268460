"""Random class-conditioned images: lets every model train end to end where no dataset is on disk."""

from typing import Any

import torch

from ganzoo.data.base import ImageDataModule


class SyntheticDataModule(ImageDataModule):
    """`num_samples` train and `num_samples // 4` test images; class k is a fixed pattern plus noise."""

    name = "synthetic"

    def __init__(self, num_samples: int = 512, num_classes: int = 10, **kwargs: Any) -> None:
        kwargs.setdefault("val_size", num_samples // 8)
        super().__init__(**kwargs)
        self.num_samples = num_samples
        self.num_classes = num_classes

    def load_split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed)
        shape = (self.channels, self.image_size, self.image_size)
        patterns = torch.randn(self.num_classes, *shape, generator=g)
        g.manual_seed(self.seed + (1 if train else 2))
        n = self.num_samples if train else self.num_samples // 4
        labels = torch.randint(self.num_classes, (n,), generator=g)
        images = torch.tanh(patterns[labels] + 0.3 * torch.randn(n, *shape, generator=g))
        return images, labels
