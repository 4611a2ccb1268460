"""CycleGAN's generators and PatchGAN critic: sizes, ranges, and what the asymmetric pair is made of."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganzoo.nets import PatchDiscriminator, ResNetGenerator


def layers(net: nn.Module, kind: type) -> list[nn.Module]:
    return [m for m in net.modules() if type(m) is kind]


@pytest.mark.parametrize(
    ("n_down", "n_up", "side_in", "side_out"), [(2, 2, 28, 28), (1, 0, 28, 14), (0, 1, 14, 28), (2, 2, 16, 16)]
)
def test_generator_output_size_and_range(n_down: int, n_up: int, side_in: int, side_out: int):
    g = ResNetGenerator(width=4, n_blocks=1, n_down=n_down, n_up=n_up)
    out = g(10 * torch.randn(3, 1, side_in, side_in))
    assert out.shape == (3, 1, side_out, side_out)
    assert out.abs().max() <= 1


def test_asymmetric_pair_uses_strided_convolutions_one_way_and_transposed_ones_back():
    down, up = ResNetGenerator(width=4, n_down=1, n_up=0), ResNetGenerator(width=4, n_down=0, n_up=1)
    assert not layers(down, nn.ConvTranspose2d) and [c.stride for c in layers(down, nn.Conv2d)].count((2, 2)) == 1
    assert len(layers(up, nn.ConvTranspose2d)) == 1 and all(c.stride == (1, 1) for c in layers(up, nn.Conv2d))
    # the head of each sees the same width (4 * 2 = 8 channels at 14x14, 4 at 28x28)
    assert layers(down, nn.Conv2d)[-1].in_channels == 8 and layers(up, nn.Conv2d)[-1].in_channels == 4


def test_residual_blocks_and_instance_norm_are_configurable():
    counts = [
        sum(type(m).__name__ == "ResidualBlock" for m in ResNetGenerator(width=4, n_blocks=k).modules())
        for k in (0, 1, 3)
    ]
    assert counts == [0, 1, 3]
    assert layers(ResNetGenerator(width=4), nn.InstanceNorm2d)
    assert not layers(ResNetGenerator(width=4, norm="none"), nn.InstanceNorm2d)
    with pytest.raises(ValueError, match="norm"):
        ResNetGenerator(norm="batch")


@pytest.mark.parametrize(("side", "n_layers"), [(28, 2), (14, 1)])
def test_patch_critic_scores_five_by_five_patches(side: int, n_layers: int):
    d = PatchDiscriminator(width=4, n_layers=n_layers)
    assert d(torch.randn(2, 1, side, side)).shape == (2, 1, 5, 5)
    assert [c.stride for c in layers(d, nn.Conv2d)] == [(2, 2)] * n_layers + [(1, 1)] * 2


def test_spectral_norm_gives_every_patch_critic_convolution_unit_largest_singular_value():
    torch.manual_seed(0)
    d = PatchDiscriminator(width=4, norm="none", spectral_norm=True)
    for _ in range(60):  # one power iteration per training forward
        d(torch.randn(2, 1, 28, 28))
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(parametrize.is_parametrized(c, "weight") for c in convs)
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1) < 1e-3
    assert not any(parametrize.is_parametrized(m) for m in PatchDiscriminator(width=4).modules())
