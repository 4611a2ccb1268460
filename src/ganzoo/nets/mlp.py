"""Fully connected networks of the original GAN paper (Goodfellow et al., 2014)."""

from collections.abc import Sequence

import torch
from torch import nn

from ganzoo.nets.layers import activation


class MLPGenerator(nn.Module):
    """z -> hidden layers -> tanh image, so outputs match data scaled to [-1, 1]."""

    def __init__(
        self,
        latent_dim: int = 100,
        hidden: Sequence[int] = (256, 512, 1024),
        channels: int = 1,
        image_size: int = 28,
        act: str = "leaky_relu",
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.image_shape = (channels, image_size, image_size)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), activation(act)]
            width = h
        layers += [nn.Linear(width, channels * image_size * image_size), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """Image -> hidden layers -> one logit; dropout as in the paper's discriminator."""

    def __init__(
        self,
        hidden: Sequence[int] = (512, 256),
        channels: int = 1,
        image_size: int = 28,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = channels * image_size * image_size
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
