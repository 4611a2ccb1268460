"""BiGAN's joint critic D(x, z) (Donahue et al., 2017): it judges an image together with a latent code.

Its encoder E: x -> z is `DCGANEncoder` with `embedding_dim` = the generator's latent size.
"""

import torch
from torch import nn

from ganzoo.nets.dcgan import DCGANDiscriminator


class JointCritic(nn.Module):
    """DCGAN convolutional features of x and a linear embedding of z, concatenated, then an MLP to one score.

    `layernorm` as in DCGANDiscriminator (for a gradient-penalised critic); there is no BatchNorm option, since
    both losses compare real and fake pairs per sample. Maps ((N, C, H, W), (N, latent_dim)) to (N,).
    """

    def __init__(
        self,
        latent_dim: int = 100,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        hidden: int = 512,
        layernorm: bool = False,
    ) -> None:
        super().__init__()
        trunk = DCGANDiscriminator(width=width, channels=channels, image_size=image_size, layernorm=layernorm)
        self.latent_dim = latent_dim
        self.x_features = trunk.features
        self.z_features = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(
            nn.Linear(trunk.head.in_features + hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.joint(torch.cat([self.x_features(x), self.z_features(z)], dim=1)).squeeze(1)
