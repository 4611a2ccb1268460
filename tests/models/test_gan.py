"""GAN's critic objective with the hinge loss and the R1 penalty equals the formulas on the same batch."""

import torch

from ganzoo.losses import discriminator_loss, hinge_discriminator_loss
from ganzoo.train import build
from helpers import SMALL_DATA, TINY


def _critic_loss_and_reference(make_config, *overrides: str):
    _, model, datamodule = build(make_config(*TINY["dcgan"], *SMALL_DATA, *overrides))
    datamodule.setup("fit")
    real = next(iter(datamodule.train_dataloader()))[0]
    model.eval()  # BatchNorm-free critic here, but keep the comparison free of running-stat updates
    state = model.rng.get_state()
    loss = model.critic_step((real, None))
    model.rng.set_state(state)  # the same fakes for the reference
    with torch.no_grad():
        fake = model.generator(model.latent(real.shape[0]))
    x = real.clone().requires_grad_(True)
    real_logits = model.critic(x)
    (grad,) = torch.autograd.grad(real_logits.sum(), x)
    return loss, real_logits.detach(), model.critic(fake).detach(), grad.flatten(1).pow(2).sum(1).mean()


def test_the_bce_critic_loss_with_r1_adds_gamma_over_two_times_the_gradient_norm(make_config):
    loss, real, fake, grad_sq = _critic_loss_and_reference(make_config, "model.r1_gamma=10")
    expected = discriminator_loss(real, fake) + 5 * grad_sq
    assert torch.allclose(loss, expected, rtol=1e-5)
    assert grad_sq > 0


def test_the_hinge_critic_loss_is_used_when_chosen(make_config):
    loss, real, fake, _ = _critic_loss_and_reference(make_config, "model.critic_loss=hinge")
    assert torch.allclose(loss, hinge_discriminator_loss(real, fake), rtol=1e-6)
    assert not torch.allclose(loss, discriminator_loss(real, fake))
