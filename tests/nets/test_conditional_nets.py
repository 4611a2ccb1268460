"""Conditional layers and networks: shapes, and that the label acts exactly where the papers put it."""

import pytest
import torch
from torch import nn

from ganzoo.nets import (
    ACGANDiscriminator,
    ConditionalBatchNorm2d,
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    DCGANDiscriminator,
    InfoGANDiscriminator,
    LabelConcat,
    ProjectionDiscriminator,
    ProjectionHead,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def randomise(net: nn.Module) -> nn.Module:
    """Non-trivial values for every parameter (conditional BatchNorm starts with gains 1 and biases 0)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return net


def test_label_concat_appends_the_embedding_of_each_label_as_a_vector_or_an_image_map():
    vector, image = LabelConcat(10, (3,)), LabelConcat(10, (2, 4, 4))
    y = torch.tensor([3, 0, 3])
    z, x = torch.randn(3, 5), torch.randn(3, 1, 4, 4)
    joined = vector(z, y)
    assert joined.shape == (3, 8)
    assert torch.equal(joined[:, :5], z) and torch.equal(joined[:, 5:], vector.embed.weight[y])
    maps = image(x, y)
    assert maps.shape == (3, 3, 4, 4) and torch.equal(maps[:, :1], x)
    assert torch.equal(maps[1, 1:], image.embed.weight[0].view(2, 4, 4))
    assert torch.equal(maps[0, 1:], maps[2, 1:]) and not torch.equal(maps[0, 1:], maps[1, 1:])


def test_conditional_batchnorm_with_the_same_gain_and_bias_for_every_class_is_batchnorm_with_that_affine():
    torch.manual_seed(0)
    cbn, bn = ConditionalBatchNorm2d(6, num_classes=4), nn.BatchNorm2d(6)
    gain, bias = torch.randn(6), torch.randn(6)
    with torch.no_grad():
        cbn.gain.weight.copy_(gain.expand(4, 6))
        cbn.bias.weight.copy_(bias.expand(4, 6))
        bn.weight.copy_(gain)
        bn.bias.copy_(bias)
    for _ in range(3):  # training mode: batch statistics, and the same running statistics
        x, y = torch.randn(8, 6, 5, 5) * 3 + 1, torch.randint(4, (8,))
        torch.testing.assert_close(cbn(x, y), bn(x))
    torch.testing.assert_close(cbn.norm.running_mean, bn.running_mean)
    torch.testing.assert_close(cbn.norm.running_var, bn.running_var)
    cbn.eval(), bn.eval()
    torch.testing.assert_close(cbn(x, y), bn(x))


def test_conditional_batchnorm_applies_the_gain_and_bias_of_each_samples_class():
    cbn = randomise(ConditionalBatchNorm2d(3, num_classes=5))
    x, y = torch.randn(6, 3, 4, 4), torch.tensor([0, 4, 4, 2, 1, 0])
    normed = nn.functional.batch_norm(x, None, None, training=True, eps=cbn.norm.eps)
    expected = torch.stack(
        [
            cbn.gain.weight[k][:, None, None] * n + cbn.bias.weight[k][:, None, None]
            for n, k in zip(normed, y, strict=True)
        ]
    )
    torch.testing.assert_close(cbn(x, y), expected)


def test_conditional_batchnorm_starts_as_plain_batchnorm():
    cbn, x = ConditionalBatchNorm2d(3, num_classes=5), torch.randn(6, 3, 4, 4)
    torch.testing.assert_close(cbn(x, torch.arange(6) % 5), nn.BatchNorm2d(3)(x))


def test_projection_head_is_psi_of_the_features_plus_their_inner_product_with_the_class_embedding():
    head = randomise(ProjectionHead(7, num_classes=3))
    phi, y = torch.randn(4, 7), torch.tensor([2, 0, 1, 2])
    by_hand = torch.stack(
        [phi[i] @ head.psi.weight[0] + head.psi.bias[0] + phi[i] @ head.embed.weight[y[i]] for i in range(4)]
    )
    torch.testing.assert_close(head(phi, y), by_hand)


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_projection_discriminator_changes_with_the_label_only_by_the_inner_product_term(spectral_norm: bool):
    torch.manual_seed(0)
    d = ProjectionDiscriminator(num_classes=10, width=4, spectral_norm=spectral_norm).eval()
    x = torch.randn(5, 1, 28, 28)
    a, b = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([7, 7, 0, 4, 9])
    phi = d.features(x)
    difference = ((d.head.embed.weight[a] - d.head.embed.weight[b]) * phi).sum(dim=1)
    torch.testing.assert_close(d(x, a) - d(x, b), difference)
    assert (d(x, a) - d(x, b)).abs()[[0, 1, 2, 4]].min() > 0 and d(x, a)[3] == d(x, b)[3]


def test_spectral_norm_brings_every_projection_discriminator_layer_and_the_class_embedding_near_unit_norm():
    torch.manual_seed(0)
    d = ProjectionDiscriminator(num_classes=10, width=8)
    with torch.no_grad():  # a large start, so that the test sees the normalisation act
        d.head.embed.parametrizations.weight.original.mul_(50)
    for _ in range(60):  # each training forward runs one power iteration per layer
        d(torch.randn(4, 1, 28, 28), torch.randint(10, (4,)))
    layers = [m for m in d.modules() if isinstance(m, nn.Conv2d | nn.Linear | nn.Embedding)]
    assert len(layers) == 4  # two convolutions, psi, the embeddings
    for layer in layers:
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1) < 1e-3, layer


@pytest.mark.parametrize("conditioning", ["batchnorm", "concat"])
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_conditional_generators_emit_images_in_unit_range_that_depend_on_the_label(conditioning, size, channels):
    torch.manual_seed(0)
    g = randomise(
        ConditionalDCGANGenerator(10, 16, width=4, channels=channels, image_size=size, conditioning=conditioning)
    )
    z = torch.randn(6, 16)
    x = g(z, torch.arange(6))
    assert x.shape == (6, channels, size, size) and x.abs().max() <= 1
    g.eval()
    same, other = g(z, torch.full((6,), 3)), g(z, torch.full((6,), 4))
    assert torch.equal(same, g(z, torch.full((6,), 3))) and (same - other).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def test_concat_generator_is_a_dcgan_generator_on_the_latent_code_joined_by_the_label_embedding():
    g = ConditionalDCGANGenerator(10, 16, width=4, conditioning="concat", embed_dim=5).eval()
    z, y = torch.randn(3, 16), torch.tensor([9, 0, 9])
    assert g.latent_dim == 16 and g.body.latent_dim == 21
    torch.testing.assert_close(g(z, y), g.body(torch.cat([z, g.join.embed.weight[y]], dim=1)))


def test_batchnorm_generator_ignores_the_label_when_every_class_has_the_same_gains_and_biases():
    g = ConditionalDCGANGenerator(10, 16, width=4, start_conv=False)
    cbns = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert [m.norm.num_features for m in cbns] == [8, 4]  # the projection's, then the first upsampling's
    assert not any(type(m) in (nn.BatchNorm1d, nn.BatchNorm2d) for m in g.layers)
    with torch.no_grad():
        for m in cbns:
            m.gain.weight.copy_(torch.randn(m.norm.num_features).expand_as(m.gain.weight))
            m.bias.weight.copy_(torch.randn(m.norm.num_features).expand_as(m.bias.weight))
    z = torch.randn(4, 16)
    torch.testing.assert_close(g(z, torch.tensor([0, 1, 2, 3])), g(z, torch.tensor([9, 9, 5, 5])))
    randomise(g)
    assert not torch.allclose(g(z, torch.tensor([0, 1, 2, 3])), g(z, torch.tensor([9, 9, 5, 5])))


def test_conditional_discriminator_is_a_dcgan_discriminator_with_a_label_map_as_extra_channels():
    torch.manual_seed(0)
    d = ConditionalDCGANDiscriminator(10, width=4, channels=3, image_size=32, label_channels=2).eval()
    assert isinstance(d.net, DCGANDiscriminator) and d.net.features[0].in_channels == 5
    x, y = torch.randn(3, 3, 32, 32), torch.tensor([1, 1, 8])
    maps = d.join.embed.weight[y].view(3, 2, 32, 32)
    torch.testing.assert_close(d(x, y), d.net(torch.cat([x, maps], dim=1)))
    assert d(x, y).shape == (3,) and d(x, torch.tensor([2, 1, 8]))[0] != d(x, y)[0]


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_acgan_and_infogan_discriminators_read_scores_and_codes_from_the_same_features(size, channels):
    torch.manual_seed(0)
    x = torch.randn(4, channels, size, size)
    ac = ACGANDiscriminator(10, width=4, channels=channels, image_size=size).eval()
    scores, logits = ac(x)
    assert scores.shape == (4,) and logits.shape == (4, 10)
    phi = ac.features(x)
    torch.testing.assert_close(scores, ac.head(phi).squeeze(1))
    torch.testing.assert_close(logits, ac.classifier(phi))
    info = InfoGANDiscriminator(10, 2, width=4, channels=channels, image_size=size).eval()
    scores, categories, continuous = info(x)
    assert scores.shape == (4,) and categories.shape == (4, 10) and continuous.shape == (4, 2)
    q = info.q(info.features(x))
    torch.testing.assert_close(torch.cat([categories, continuous], dim=1), q)


def test_spectral_norm_option_wraps_every_layer_of_the_acgan_and_infogan_discriminators():
    ac, info = ACGANDiscriminator(width=4, spectral_norm=True), InfoGANDiscriminator(width=4, spectral_norm=True)
    for d, count in ((ac, 4), (info, 5)):  # two convolutions, the real/fake head, the class head or Q's two layers
        layers = [m for m in d.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        assert len(layers) == count and all(hasattr(m, "parametrizations") for m in layers)


def test_bad_conditioning_and_codes_are_refused():
    with pytest.raises(ValueError, match="Unknown conditioning 'film'"):
        ConditionalDCGANGenerator(conditioning="film")
    with pytest.raises(ValueError, match="categories=1"):
        InfoGANDiscriminator(categories=1)
    with pytest.raises(ValueError, match="categories=0 and continuous=0"):
        InfoGANDiscriminator(categories=0, continuous=0)
