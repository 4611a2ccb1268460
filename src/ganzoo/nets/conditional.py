"""Class-conditional layers and the DCGAN-style networks built from them, for 28x28 digits and 32x32 CIFAR-10.

Layers, each taking the class labels y (N,) beside its input:
- `LabelConcat`: a learned embedding of y joins the input along dimension 1, the conditional GAN of Mirza &
  Osindero (2014): a vector beside the latent code, an image-sized map beside the discriminator's input.
- `ConditionalBatchNorm2d`: BatchNorm without affine, then a gain and a bias chosen by the class (de Vries et al.,
  2017; Miyato & Koyama, 2018; the generators of SNGAN and BigGAN).
- `ProjectionHead`: Miyato & Koyama's (2018) projection discriminator output psi(phi) + <embed(y), phi> on
  features phi.
Networks: `ConditionalDCGANGenerator` (z, y) -> images in [-1, 1] by either conditioning; discriminators on the
DCGAN trunk of `DCGANDiscriminator`: `ConditionalDCGANDiscriminator` (label map joins the input),
`ProjectionDiscriminator`, `ACGANDiscriminator` (scores and class logits, Odena et al., 2017) and
`InfoGANDiscriminator` (scores and InfoGAN's Q of the codes, Chen et al., 2016).
"""

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as spectral_norm_of

from ganzoo.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.nets.layers import activation, with_spectral_norm

CONDITIONINGS = ("batchnorm", "concat")


class LabelConcat(nn.Module):
    """(x, y) -> cat([x, embed(y) shaped `shape`], dim=1): (N, D) + (D',) -> (N, D + D'); (N, C, H, W) +
    (C', H, W) -> (N, C + C', H, W)."""

    def __init__(self, num_classes: int, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.embed = nn.Embedding(num_classes, math.prod(self.shape))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.embed(y).view(len(y), *self.shape).to(x.dtype)], dim=1)


class ConditionalBatchNorm2d(nn.Module):
    """gain[y] * BatchNorm(x) + bias[y], BatchNorm without affine; gains start at 1 and biases at 0, so that
    it starts as a plain BatchNorm."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.gain(y)[:, :, None, None] * self.norm(x) + self.bias(y)[:, :, None, None]


class ProjectionHead(nn.Module):
    """Features phi (N, D) and labels -> psi(phi) + <embed(y), phi> (N,): `psi` a linear score, `embed` the
    class embeddings V whose inner product with phi is the projection (Miyato & Koyama, 2018)."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.psi = nn.Linear(in_features, 1)
        self.embed = nn.Embedding(num_classes, in_features)

    def forward(self, features: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.psi(features).squeeze(1) + (self.embed(y) * features).sum(dim=1)


class ConditionalDCGANGenerator(nn.Module):
    """DCGANGenerator conditioned on a class: (z (N, latent_dim), y (N,)) -> images in [-1, 1].

    `conditioning="batchnorm"`: every BatchNorm is a ConditionalBatchNorm2d (the projection GAN's generator); the
    first one normalises per channel of the reshaped projection, as in SNGAN. `conditioning="concat"`: an
    `embed_dim` embedding of y joins z in front of an unchanged DCGANGenerator (the conditional GAN).
    """

    def __init__(
        self,
        num_classes: int = 10,
        latent_dim: int = 100,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        act: str = "leaky_relu",
        start_conv: bool = True,
        conditioning: str = "batchnorm",
        embed_dim: int = 10,
    ) -> None:
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"Unknown conditioning {conditioning!r}: use one of {list(CONDITIONINGS)}.")
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.conditioning = conditioning
        body = DCGANGenerator(
            latent_dim + (embed_dim if conditioning == "concat" else 0), width, channels, image_size, act, start_conv
        )
        if conditioning == "concat":
            self.join = LabelConcat(num_classes, (embed_dim,))
            self.body = body
            return
        # The DCGAN layers with each BatchNorm replaced by its conditional version.
        self.start = body.start
        self.linear = body.project[0]
        self.layers = nn.ModuleList(
            [ConditionalBatchNorm2d(self.start[0], num_classes), activation(act)]
            + [
                ConditionalBatchNorm2d(m.num_features, num_classes) if isinstance(m, nn.BatchNorm2d) else m
                for m in body.convs
            ]
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.conditioning == "concat":
            return self.body(self.join(z, y))
        x = self.linear(z).view(len(z), *self.start)
        for layer in self.layers:
            x = layer(x, y) if isinstance(layer, ConditionalBatchNorm2d) else layer(x)
        return x


def _trunk(
    width: int, channels: int, image_size: int, batchnorm: bool, layernorm: bool, extra_layers: int
) -> tuple[nn.Sequential, int]:
    """DCGANDiscriminator's convolutional features (flattened) and their size."""
    d = DCGANDiscriminator(width, channels, image_size, batchnorm, layernorm, extra_layers)
    return d.features, d.head.in_features


class ConditionalDCGANDiscriminator(nn.Module):
    """The conditional GAN's discriminator: a learned `label_channels` x H x W map of y joins the image's channels
    in front of DCGANDiscriminator's layers. (images, y) -> scores (N,)."""

    def __init__(
        self,
        num_classes: int = 10,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        label_channels: int = 1,
        batchnorm: bool = False,
        layernorm: bool = False,
        extra_layers: int = 0,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.join = LabelConcat(num_classes, (label_channels, image_size, image_size))
        self.net = DCGANDiscriminator(
            width, channels + label_channels, image_size, batchnorm, layernorm, extra_layers, spectral_norm
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(self.join(x, y))


class ProjectionDiscriminator(nn.Module):
    """DCGAN features phi(x) and a ProjectionHead: (images, y) -> psi(phi) + <embed(y), phi> (N,). With
    `spectral_norm` (the default, as in the paper) every convolution, the linear psi and the class embeddings
    are spectrally normalised."""

    def __init__(
        self,
        num_classes: int = 10,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        extra_layers: int = 0,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features, dim = _trunk(width, channels, image_size, False, False, extra_layers)
        self.head = ProjectionHead(dim, num_classes)
        if spectral_norm:
            with_spectral_norm(self)
            spectral_norm_of(self.head.embed)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x), y)


class ACGANDiscriminator(nn.Module):
    """Shared DCGAN features, a real/fake `head` and a `classifier` of the class (Odena et al., 2017): images ->
    (scores (N,), class logits (N, num_classes))."""

    def __init__(
        self,
        num_classes: int = 10,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        batchnorm: bool = False,
        layernorm: bool = False,
        extra_layers: int = 0,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features, dim = _trunk(width, channels, image_size, batchnorm, layernorm, extra_layers)
        self.head = nn.Linear(dim, 1)
        self.classifier = nn.Linear(dim, num_classes)
        if spectral_norm:
            with_spectral_norm(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        phi = self.features(x)
        return self.head(phi).squeeze(1), self.classifier(phi)


class InfoGANDiscriminator(nn.Module):
    """Shared DCGAN features, a real/fake `head` and InfoGAN's Q (Chen et al., 2016): a hidden layer, then the
    logits of a `categories`-way code and the means of `continuous` codes (a Gaussian of fixed unit variance, as
    in the paper's code, so its log-likelihood is a squared error). images -> (scores (N,), code logits (N,
    categories), code means (N, continuous))."""

    def __init__(
        self,
        categories: int = 10,
        continuous: int = 2,
        width: int = 64,
        channels: int = 1,
        image_size: int = 28,
        q_hidden: int = 128,
        batchnorm: bool = False,
        layernorm: bool = False,
        extra_layers: int = 0,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if categories == 1 or min(categories, continuous) < 0 or categories + continuous == 0:
            raise ValueError(
                "InfoGANDiscriminator needs codes to recover: categories = 0 or >= 2, continuous >= 0, and not both "
                f"0; got categories={categories} and continuous={continuous}."
            )
        self.categories = categories
        self.continuous = continuous
        self.features, dim = _trunk(width, channels, image_size, batchnorm, layernorm, extra_layers)
        self.head = nn.Linear(dim, 1)
        self.q = nn.Sequential(
            nn.Linear(dim, q_hidden), nn.LeakyReLU(0.2), nn.Linear(q_hidden, categories + continuous)
        )
        if spectral_norm:
            with_spectral_norm(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        phi = self.features(x)
        codes = self.q(phi)
        return self.head(phi).squeeze(1), codes[:, : self.categories], codes[:, self.categories :]
