"""The networks beyond their output shapes: what each computes, checked against its parts or a reference."""

import pytest
import torch
from torch import nn

from ganzoo.nets import DCGANDiscriminator, DCGANEncoder, JointCritic, MLPDiscriminator, MLPGenerator
from ganzoo.nets.cyclegan import ResidualBlock


def test_dcgan_encoder_is_the_discriminators_trunk_with_a_linear_embedding():
    torch.manual_seed(0)
    encoder = DCGANEncoder(embedding_dim=12, width=4, batchnorm=False)
    torch.manual_seed(0)
    critic = DCGANDiscriminator(width=4, batchnorm=False)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    # the same trunk, built from the same seed: the same features, then a map to 12 numbers instead of a logit
    assert torch.equal(encoder.features(x), critic.features(x))
    assert torch.allclose(encoder(x), encoder.features(x) @ encoder.head.weight.T + encoder.head.bias)
    assert encoder(x).shape == (5, 12) and encoder.head.in_features == critic.head.in_features
    # without BatchNorm each image is encoded on its own
    assert torch.allclose(encoder(x[2:3]), encoder(x)[2:3], atol=1e-6)


def test_joint_critic_scores_the_pair_through_both_embeddings():
    torch.manual_seed(1)
    critic = JointCritic(latent_dim=6, width=4, hidden=16, layernorm=True)
    x, z = torch.rand(4, 1, 28, 28) * 2 - 1, torch.randn(4, 6)
    expected = critic.joint(torch.cat([critic.x_features(x), critic.z_features(z)], dim=1)).squeeze(1)
    assert torch.equal(critic(x, z), expected)
    # it reads both halves of the pair: another code or another image changes the score
    assert not torch.allclose(critic(x, z), critic(x, z.flip(0)))
    assert not torch.allclose(critic(x, z), critic(x.flip(0), z))
    # per sample (layer norm, no BatchNorm): a pair's score does not depend on the rest of the batch
    assert torch.allclose(critic(x[1:2], z[1:2]), critic(x, z)[1:2], atol=1e-6)
    x, z = x.requires_grad_(True), z.requires_grad_(True)
    gx, gz = torch.autograd.grad(critic(x, z).sum(), (x, z))
    assert gx.abs().sum() > 0 and gz.abs().sum() > 0


@pytest.mark.parametrize("norm", ["instance", "none"])
def test_residual_block_adds_its_input_to_its_body(norm: str):
    torch.manual_seed(2)
    block = ResidualBlock(3, norm=norm)
    x = torch.randn(2, 3, 7, 7)
    assert torch.equal(block(x), x + block.body(x))
    last = [m for m in block.body if isinstance(m, nn.Conv2d)][-1]
    with torch.no_grad():  # a body that outputs zeros: the block is the identity
        last.weight.zero_()
        last.bias.zero_()
    torch.testing.assert_close(block(x), x, rtol=0, atol=1e-6)


def test_mlp_generator_is_tanh_of_its_last_layer_reshaped_row_by_row():
    torch.manual_seed(3)
    g = MLPGenerator(latent_dim=5, hidden=(7,), channels=2, image_size=4)
    z = torch.randn(3, 5)
    pre = g.net[:-1](z)  # every layer but the tanh
    assert torch.equal(g(z), torch.tanh(pre).view(3, 2, 4, 4))
    assert pre.abs().max() > 1  # so the tanh does squash something here


def test_mlp_discriminator_drops_units_in_training_only():
    torch.manual_seed(4)
    d = MLPDiscriminator(hidden=(32,), image_size=4, dropout=0.5)
    x = torch.rand(6, 1, 4, 4)
    d.eval()
    assert torch.equal(d(x), d(x)) and torch.equal(d(x), d.net(x).squeeze(1))
    d.train()
    assert not torch.equal(d(x), d(x))  # two dropout masks
