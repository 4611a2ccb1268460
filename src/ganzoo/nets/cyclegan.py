"""CycleGAN's networks (Zhu et al., 2017, appendix 7.2), sized for digits.

ResNetGenerator maps images to images: a 7x7 stem, `n_down` stride-2 convolutions, `n_blocks` residual blocks,
`n_up` stride-2 transposed convolutions and a 7x7 tanh head, with instance norm. Zhu et al.'s n_down = n_up = 2
keeps the size; the project report's asymmetric pair changes it: n_down=1, n_up=0 maps 28x28 to 14x14 by
strided convolutions only, n_down=0, n_up=1 maps 14x14 to 28x28 by transposed convolutions only.
PatchDiscriminator scores overlapping patches (N, 1, h, w) rather than whole images; `spectral_norm` wraps its
convolutions in Miyato et al.'s (2018) spectral normalisation (with norm="none": instance norm would undo it).
"""

from torch import Tensor, nn

from ganzoo.nets.layers import with_spectral_norm


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"Unknown norm {kind!r}: use 'instance' or 'none'.")


class ResidualBlock(nn.Module):
    """x + conv-norm-relu-conv-norm(x), reflection padded (Zhu et al.)."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(norm, channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """Image to image in [-1, 1]; output side = input side * 2 ** (n_up - n_down).

    Channels double at each downsampling and halve at each upsampling; the stem width is chosen so that the
    head sees `width` channels after upsampling and `width * 2 ** (n_down - n_up)` when it downsamples more.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        width: int = 32,
        n_blocks: int = 1,
        n_down: int = 2,
        n_up: int = 2,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if min(n_blocks, n_down, n_up) < 0:
            raise ValueError(f"n_blocks, n_down and n_up must be >= 0, got {n_blocks}, {n_down}, {n_up}.")
        c = width * 2 ** max(0, n_up - n_down)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, c, 7), _norm(norm, c), nn.ReLU(True)]
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), _norm(norm, 2 * c), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c, norm) for _ in range(n_blocks)]
        for _ in range(n_up):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
                _norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN critic: `n_layers` stride-2 4x4 convolutions (no norm on the first), one stride-1 convolution,
    then a stride-1 convolution to one logit per patch. 28x28 with n_layers=2, or 14x14 with n_layers=1,
    gives 5x5 patches whose receptive fields overlap."""

    def __init__(
        self,
        channels: int = 1,
        width: int = 64,
        n_layers: int = 2,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}.")
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(n_layers - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), _norm(norm, 2 * c), nn.LeakyReLU(0.2, True)]
            c *= 2
        layers += [nn.Conv2d(c, 2 * c, 4, stride=1, padding=1), _norm(norm, 2 * c), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(2 * c, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*layers)
        if spectral_norm:
            with_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
