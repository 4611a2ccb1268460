"""Class-conditional generation: the sampling API of models whose generator takes a label beside its noise.

A label is a class of the data (cGAN, ACGAN, the projection GAN: `labels_are_classes`) or a categorical code that
the model learns to use without labels (InfoGAN). Training draws the labels of its fakes uniformly from the module's
random stream; everything that generates for a user asks for labels explicitly, or takes the classes in turn
(equal shares), and sample grids give each class a row.
"""

from typing import Any

import torch

from ganzoo.models.base import PREVIEW_SEED


def labelled(batch: Any, model: object) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) of a training batch, refused with advice when the data has no labels."""
    if isinstance(batch, list | tuple) and len(batch) == 2 and batch[1] is not None and batch[1].dim() == 1:
        return batch[0], batch[1]
    raise ValueError(
        f"{type(model).__name__} learns from (images, labels) batches, as ganzoo's single-domain datamodules yield "
        "them (data=mnist, usps, cifar10 or synthetic); this data gives none. Train it on labelled data."
    )


class Conditional:
    """Mixed in before `AdversarialModule`. A subclass writes `generate(z, labels)` when its generator takes the
    label otherwise than as `generator(z, labels)` (InfoGAN), and `num_classes` when the generator does not say."""

    # Whether label k asks for the data's class k; InfoGAN's labels are codes whose meaning it learns.
    labels_are_classes = True

    @property
    def num_classes(self) -> int:
        return int(self.generator.num_classes)

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Images for latent codes z and labels, from `network("generator")` (its average under EMA)."""
        return self.network("generator")(z, labels)

    def random_labels(self, n: int) -> torch.Tensor:
        """n labels drawn uniformly from the module's random stream: the classes of a training step's fakes."""
        return torch.randint(self.num_classes, (n,), generator=self.rng, device=self.device)

    def check_labels(self, labels: torch.Tensor) -> None:
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            bad = sorted({int(k) for k in labels.flatten() if not 0 <= int(k) < self.num_classes})
            raise ValueError(
                f"{type(self).__name__} generates labels 0 to {self.num_classes - 1} and was asked for {bad}: "
                f"ask for labels between 0 and {self.num_classes - 1}."
            )

    def class_labels(self, n: int) -> torch.Tensor:
        """0, 1, ..., num_classes - 1, 0, 1, ...: n labels in equal shares, as n allows."""
        return torch.arange(n, device=self.device) % self.num_classes

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """n images in [-1, 1] for `labels` (n,), by default `class_labels(n)`, from latents of `generator`."""
        labels = self.class_labels(n) if labels is None else labels.to(self.device)
        if len(labels) != n:
            raise ValueError(f"sample(n={n}) needs one label per image, got {len(labels)}.")
        self.check_labels(labels)
        return self.generate(self.latent(n, generator), labels)

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """A (num_classes, columns, C, H, W) grid, columns = n // num_classes (at least 1): row k asks for class
        k, and column j holds the j-th of a fixed batch of latents in every row."""
        columns = max(1, n // self.num_classes)
        z = self.latent(columns, torch.Generator(device=self.device).manual_seed(PREVIEW_SEED))
        labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(columns)
        images = self.generate(z.repeat(self.num_classes, 1), labels)
        return images.view(self.num_classes, columns, *images.shape[1:])
