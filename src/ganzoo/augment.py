"""Random affine jitter of batches of [-1, 1] images (Simard et al., 2003), drawn from a given generator so that
resuming stays exact: one batched resampling, `affine_warp`, cheap on a GPU.

CycleGAN jitters a domain's training images with `AffineJitter` (`model.source_augment`): the translator then
learns from small rotations, shifts and zooms of the few training digits too, as a classifier does from augmented
data. `python -m ganzoo.classifier` jitters its training batches with `classifier_jitter`, the recipe the shipped
metric classifiers and teachers were trained with (its draws differ from `AffineJitter`'s, so it stays as it is,
and retraining reproduces them).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AffineJitter:
    """Each image is turned by U(-degrees, degrees) (clockwise on screen for positive angles, as torchvision's
    `affine`), shifted by U(-translate, translate) of its width and height and zoomed by U(1 - scale, 1 + scale)
    about its centre; the uncovered background is black (-1). One batched resampling, so it is cheap on a GPU."""

    degrees: float = 0.0
    translate: float = 0.0
    scale: float = 0.0

    def __post_init__(self) -> None:
        if not (self.degrees >= 0 and 0 <= self.translate < 1 and 0 <= self.scale < 1):  # also refuses NaN
            raise ValueError(
                f"model.source_augment needs degrees >= 0, 0 <= translate < 1 and 0 <= scale < 1; got {self}."
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, float]) -> "AffineJitter":
        """From a config mapping, naming unknown keys (the dataclass alone would raise a bare TypeError)."""
        known = {f.name for f in fields(cls)}
        if not set(settings) <= known:
            raise ValueError(
                f"model.source_augment takes {sorted(known)}; got unknown {sorted(set(settings) - known)}."
            )
        return cls(**settings)

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 4): angle in degrees, shift in fractions of the width and height, zoom factor; 4 draws per image."""
        u = torch.rand(n, 4, generator=generator, device=generator.device) * 2 - 1
        scale = torch.tensor([self.degrees, self.translate, self.translate, self.scale], device=u.device)
        return u * scale + torch.tensor([0.0, 0.0, 0.0, 1.0], device=u.device)

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """`images` (N, C, H, W) in [-1, 1], each moved by its own draw from `generator`."""
        angle, dx, dy, zoom = self.draw(len(images), generator).to(images.device, images.dtype).unbind(1)
        radians = angle * (math.pi / 180)
        cos, sin = torch.cos(radians) / zoom, torch.sin(radians) / zoom
        aspect = images.shape[-2] / images.shape[-1]  # height / width: the rotation is one in pixels
        # affine_grid maps each output point to the input point it reads (the inverse of the move), in coordinates
        # running over [-1, 1] across each side, where a shift of `dx` of the width is 2 dx
        tx, ty = 2 * dx, 2 * dy
        rows = [(cos, sin * aspect), (-sin / aspect, cos)]
        return affine_warp(images, torch.stack([torch.stack([a, b, -(a * tx + b * ty)], 1) for a, b in rows], 1))


def classifier_jitter(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random rotation (+-10 deg), scale (0.9-1.1) and shift (+-2 px) per image: `python -m ganzoo.classifier`'s."""
    n = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.empty(n).uniform_(low, high, generator=generator)

    angle, scale = uniform(-math.pi / 18, math.pi / 18), uniform(0.9, 1.1)
    shift = torch.stack([uniform(-1, 1), uniform(-1, 1)], dim=1) * (2 * 2 / images.shape[-1])
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    return affine_warp(images, torch.cat([theta, shift[:, :, None]], dim=2))


def affine_warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """`images` (N, C, H, W) in [-1, 1] resampled bilinearly under `theta` (N, 2, 3), which maps each output point
    to the input point it reads, in coordinates running over [-1, 1] across each side (`F.affine_grid`)."""
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # zero padding on images + 1 keeps the uncovered background exactly at -1
    return F.grid_sample(images + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
