"""GAN's critic objective with the hinge loss and the R1 penalty equals the formulas on the same batch; with
`reuse_fakes` the generator step scores the critic step's fakes."""

import copy

import pytest
import torch
from lightning.pytorch import Callback
from torch import nn

from ganzoo.config import ConfigError
from ganzoo.losses import discriminator_loss, generator_loss_nonsaturating, hinge_discriminator_loss
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


class GeneratorStepRecorder(Callback):
    """The latents of every training-mode generator forward, the critic after the first update, and the
    generator's weights and gradients right before the first generator update."""

    def __init__(self) -> None:
        self.latents: list[torch.Tensor] = []
        self.critic: nn.Module | None = None
        self.generator: nn.Module | None = None
        self.grads: list[torch.Tensor] = []

    def on_fit_start(self, trainer, module) -> None:
        module.generator.register_forward_pre_hook(
            lambda net, args: self.latents.append(args[0].detach().clone()) if net.training else None
        )

    def on_train_batch_end(self, trainer, module, *args) -> None:
        if trainer.global_step == 1:
            self.critic = copy.deepcopy(module.critic)

    def on_before_optimizer_step(self, trainer, module, optimizer) -> None:
        if trainer.global_step == 1:  # the second update, the generator's
            self.generator = copy.deepcopy(module.generator)
            self.grads = [p.grad.clone() for p in module.generator.parameters()]


@pytest.mark.parametrize("reuse", [True, False])
def test_reuse_fakes_scores_the_critic_steps_fakes_with_the_updated_critic(make_config, reuse: bool):
    # BatchNorm in both networks (dcgan_radford): the generator step must see the same batch statistics
    cfg = make_config(
        "model=dcgan_radford", *TINY["dcgan"], *SMALL_DATA, "trainer.max_steps=2", f"model.reuse_fakes={reuse}"
    )
    trainer, model, datamodule = build(cfg)
    recorder = GeneratorStepRecorder()
    trainer.callbacks.append(recorder)
    trainer.fit(model, datamodule=datamodule)
    # one generator forward per critic + generator cycle when reusing, else one per update
    assert len(recorder.latents) == (1 if reuse else 2)
    generator, critic = recorder.generator, recorder.critic
    loss = generator_loss_nonsaturating(critic(generator(recorder.latents[-1])))
    expected = torch.autograd.grad(loss, list(generator.parameters()))
    for got, want in zip(recorder.grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_reuse_fakes_is_refused_by_models_without_a_plain_generator_step(make_config):
    # build() turns the constructor's refusal into the one paragraph a user sees (ConfigError), not Hydra's wrapper
    with pytest.raises(ConfigError, match="OTGAN has none to reuse"):
        build(make_config("model=otgan", "+model.reuse_fakes=true", *SMALL_DATA))
