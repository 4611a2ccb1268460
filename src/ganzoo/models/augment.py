"""Random affine jitter of a batch of [-1, 1] images, drawn from a given generator so that resuming stays exact.

CycleGAN's semantic term uses it (`model.semantic_augment`) to ask a generator to keep the digit's label under
small rotations, shifts and zooms of its input, in the manner of the consistency regularisation of domain
adaptation (French et al., 2018): the translator then generalises from the training digits to the test split.
"""

from dataclasses import dataclass

import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class AffineJitter:
    """Each image is rotated by U(-degrees, degrees), shifted by U(-translate, translate) of its side on each
    axis and zoomed by U(1 - scale, 1 + scale) about its centre; the uncovered background is black (-1)."""

    degrees: float = 0.0
    translate: float = 0.0
    scale: float = 0.0

    def __post_init__(self) -> None:
        if min(self.degrees, self.translate, self.scale) < 0 or self.scale >= 1 or self.translate >= 1:
            raise ValueError(f"Affine jitter needs degrees >= 0, 0 <= translate < 1 and 0 <= scale < 1; got {self}.")

    def parameters(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 4): angle in degrees, shift in fractions of the side (x, y), zoom factor; 4 draws per image."""
        u = torch.rand(n, 4, generator=generator, device=generator.device).cpu() * 2 - 1
        return torch.stack([u[:, 0] * self.degrees, u[:, 1] * self.translate, u[:, 2] * self.translate,
                            1 + u[:, 3] * self.scale], dim=1)  # fmt: skip

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        side = images.shape[-1]
        draws = self.parameters(len(images), generator).tolist()
        # torchvision's affine with fill -1 blends the fill in by a coverage mask; on images + 1 with the default
        # zero fill it is the plain bilinear resampling, so the background stays exactly -1
        moved = [
            TF.affine(image, angle=angle, translate=[dx * side, dy * side], scale=zoom, shear=[0.0, 0.0],
                      interpolation=InterpolationMode.BILINEAR)
            for image, (angle, dx, dy, zoom) in zip(images + 1, draws, strict=True)
        ]  # fmt: skip
        return torch.stack(moved) - 1
