"""Embedding critics: images to vectors, for costs learned in feature space (OT-GAN's cosine cost)."""

from typing import Any

import torch
from torch import nn

from ganzoo.nets.dcgan import DCGANDiscriminator


class DCGANEncoder(nn.Module):
    """DCGANDiscriminator's convolutional features, then a linear map to an embedding instead of one logit.

    `options` are DCGANDiscriminator's (width, channels, image_size, batchnorm, ...), so the trunk stays the
    one the other models train. Maps (N, C, H, W) to (N, embedding_dim).
    """

    def __init__(self, embedding_dim: int = 256, **options: Any) -> None:
        super().__init__()
        trunk = DCGANDiscriminator(**options)
        self.embedding_dim = embedding_dim
        self.features = trunk.features
        self.head = nn.Linear(trunk.head.in_features, embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
