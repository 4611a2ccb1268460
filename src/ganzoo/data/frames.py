"""The fixed maps between MNIST's and USPS's frames: MNIST digits fill a 20x20 box inside 28x28, USPS digits their
whole frame. They are the baselines a learned translation must beat (benchmarks/translation_baselines.py)."""

import torch
import torch.nn.functional as F


def enlarge_centre(images: torch.Tensor, crop: int) -> torch.Tensor:
    """The centre crop x crop of each image, resized back to the full side: MNIST -> USPS's frame at crop 20."""
    start = (images.shape[-1] - crop) // 2
    centre = images[..., start : start + crop, start : start + crop]
    return F.interpolate(centre, size=images.shape[-1], mode="bilinear", antialias=True)


def shrink_into_frame(images: torch.Tensor, size: int) -> torch.Tensor:
    """Each image resized to size x size and padded with background (-1): USPS -> MNIST's frame."""
    side = images.shape[-1]
    small = F.interpolate(images, size=size, mode="bilinear", antialias=True)
    before = (side - size) // 2
    return F.pad(small, (before, side - size - before) * 2, value=-1.0)
