import pytest
import torch
from torch import nn

from ganzoo.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


def output_shapes(model: nn.Module, x: torch.Tensor, kinds: tuple[type, ...]) -> list[tuple[int, ...]]:
    """Shapes after every layer of the given kinds, in forward order."""
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
        for m in model.modules()
        if isinstance(m, kinds)
    ]
    model(x)
    for h in hooks:
        h.remove()
    return shapes


def test_dcgan_generator_layers_match_the_report():
    g = DCGANGenerator(latent_dim=100, width=64)
    layers = output_shapes(g, torch.randn(2, 100), (nn.Linear, nn.ConvTranspose2d, nn.BatchNorm1d, nn.BatchNorm2d))
    assert layers == [
        (256 * 7 * 7,),  # Linear 100 -> 256x7x7
        (256 * 7 * 7,),  # BatchNorm
        (128, 7, 7),  # ConvT 5x5 stride 1
        (128, 7, 7),
        (64, 14, 14),  # ConvT 5x5 stride 2
        (64, 14, 14),
        (1, 28, 28),  # ConvT 5x5 stride 2
    ]
    kernels = [(m.kernel_size, m.stride) for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert kernels == [((5, 5), (1, 1)), ((5, 5), (2, 2)), ((5, 5), (2, 2))]
    assert isinstance(g.convs[-1], nn.Tanh)
    assert sum(isinstance(m, nn.LeakyReLU) for m in g.modules()) == 3


def test_dcgan_generator_without_start_conv_projects_straight_to_the_first_upsampling():
    g = DCGANGenerator(latent_dim=100, width=64, start_conv=False)
    layers = output_shapes(g, torch.randn(2, 100), (nn.Linear, nn.ConvTranspose2d))
    assert layers == [(128 * 7 * 7,), (64, 14, 14), (1, 28, 28)]
    strides = [m.stride for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert strides == [(2, 2), (2, 2)]
    full = DCGANGenerator(latent_dim=100, width=64)
    # what is left is the same layers as the report's generator after its stride-1 ConvT, the Linear narrower
    assert [p.shape for p in g.convs.parameters()] == [p.shape for p in full.convs[3:].parameters()]


def test_dcgan_discriminator_layers_match_the_report():
    d = DCGANDiscriminator(width=64)
    layers = output_shapes(d, torch.randn(2, 1, 28, 28), (nn.Conv2d, nn.Linear))
    assert layers == [(64, 14, 14), (128, 7, 7), (1,)]
    assert not any(isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) for m in d.modules())
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    assert d(torch.randn(3, 1, 28, 28)).shape == (3,)


def test_radford_variant_has_batchnorm_in_both_and_relu_in_generator():
    g = DCGANGenerator(width=4, act="relu")
    d = DCGANDiscriminator(width=4, batchnorm=True)
    assert any(isinstance(m, nn.ReLU) for m in g.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in g.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in d.modules())


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_generators_emit_tanh_images_of_the_data_shape(size: int, channels: int):
    z = torch.randn(5, 16)
    dcgan = DCGANGenerator(latent_dim=16, width=4, channels=channels, image_size=size)
    mlp = MLPGenerator(latent_dim=16, hidden=(8,), channels=channels, image_size=size)
    # each ends in tanh of its last layer, so images lie in the data's [-1, 1]
    pre = {
        "dcgan": dcgan.convs[:-1](dcgan.project(z).view(5, *dcgan.start)),
        "mlp": mlp.net[:-1](z).view(5, channels, size, size),
    }
    for name, g in (("dcgan", dcgan), ("mlp", mlp)):
        x = g(z)
        assert x.shape == (5, channels, size, size)
        torch.testing.assert_close(x, torch.tanh(pre[name]), rtol=0, atol=0)
    for d in (
        DCGANDiscriminator(width=4, channels=channels, image_size=size),
        MLPDiscriminator(hidden=(8,), channels=channels, image_size=size),
    ):
        assert d(x).shape == (5,)


def test_bad_generator_size_and_activation_are_refused():
    with pytest.raises(ValueError, match="divisible by 4"):
        DCGANGenerator(image_size=30)
    with pytest.raises(ValueError, match="Unknown activation"):
        DCGANGenerator(act="gelu")


def test_spectral_norm_makes_every_discriminator_layer_have_unit_largest_singular_value():
    torch.manual_seed(0)
    d = DCGANDiscriminator(width=8, batchnorm=True, spectral_norm=True)
    for _ in range(60):  # each training forward runs one power iteration per layer
        d(torch.randn(4, 1, 28, 28))
    layers = [m for m in d.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == 3
    for layer in layers:
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1) < 1e-3
        raw = torch.linalg.matrix_norm(layer.parametrizations.weight.original.detach().flatten(1), ord=2)
        assert torch.allclose(layer.weight, layer.parametrizations.weight.original / raw, rtol=1e-3, atol=1e-6)
