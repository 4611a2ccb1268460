"""WGAN and WGAN-GP through the real configs: clipping, the n_critic schedule, a critic without BatchNorm."""

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from ganzoo.losses import gradient_penalty, random_interpolates
from ganzoo.models import WGANGP
from ganzoo.train import build
from helpers import SMALL_DATA, UpdateRecorder

TINY = ["model.generator.width=4", "model.critic.width=4", "model.generator.latent_dim=8"]


def test_a_wgan_critic_update_clips_every_critic_parameter_and_no_generator_parameter(make_config):
    # Five steps with n_critic=5 are five critic updates and no generator update.
    trainer, model, datamodule = build(make_config("model=wgan", *TINY, *SMALL_DATA, "trainer.max_steps=5"))
    c = model.clip_value
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
    generator_before = {k: v.detach().clone() for k, v in model.generator.named_parameters()}
    trainer.fit(model, datamodule=datamodule)

    assert (model.critic_updates, model.generator_updates) == (5, 0)
    critic = torch.cat([p.detach().flatten() for p in model.critic.parameters()])
    assert c == 0.01 and critic.abs().max() <= c
    assert (critic.abs() == c).any()  # weights started in [-0.5, 0.5]: clipping put some on the boundary
    for name, value in model.generator.named_parameters():  # (BatchNorm buffers move with every forward)
        torch.testing.assert_close(value.detach(), generator_before[name], rtol=0, atol=0)
    assert max(p.abs().max() for p in model.generator.parameters()) > 0.4


@pytest.mark.parametrize("name", ["wgan", "wgan_gp"])
def test_exactly_n_critic_critic_updates_per_generator_update(make_config, name: str):
    trainer, model, datamodule = build(make_config(f"model={name}", *TINY, *SMALL_DATA, "trainer.max_steps=14"))
    recorder = UpdateRecorder()
    trainer.callbacks.append(recorder)
    trainer.fit(model, datamodule=datamodule)
    assert model.n_critic == 5
    assert "".join(recorder.updates) == "CCCCCG" * 2 + "CC"
    assert (model.critic_updates, model.generator_updates) == (12, 2)


def _batchnorms(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def test_wgan_gp_critic_has_no_batchnorm(make_config):
    critic = instantiate(make_config("model=wgan_gp").model).critic
    assert _batchnorms(critic) == []
    assert [type(m) for m in critic.modules() if isinstance(m, nn.GroupNorm)] == [nn.GroupNorm] * 2
    plain = instantiate(make_config("model=wgan_gp", "model.critic.layernorm=false").model).critic
    assert _batchnorms(plain) == [] and not any(isinstance(m, nn.GroupNorm) for m in plain.modules())
    # The same check finds the BatchNorm of a critic that has one.
    assert len(_batchnorms(instantiate(make_config("model=dcgan_radford").model).critic)) == 1


def test_lazy_gradient_penalty_is_k_times_the_penalty_on_every_kth_critic_update_only(make_config):
    lazy = instantiate(make_config("model=wgan_gp", *TINY, "model.penalty_every=3").model)
    lazy.double()  # float64: the factor 3 is then exact to rounding, gradients included
    real, fake = torch.randn(4, 1, 28, 28, dtype=torch.float64), torch.randn(4, 1, 28, 28, dtype=torch.float64)
    # the same random points as the model draws from its stream seeded alike
    points = random_interpolates(real, fake, torch.Generator().manual_seed(7))
    direct = gradient_penalty(lazy.critic, points, lazy.penalty_weight)
    values = []
    for updates in range(7):
        lazy.critic_updates = updates
        lazy._rng = torch.Generator().manual_seed(7)
        values.append(lazy.penalty(real, fake))
    for updates, value in enumerate(values):
        if updates % 3:
            assert value is None
        else:
            torch.testing.assert_close(value, 3 * direct, rtol=1e-12, atol=0)
    # The lazy penalty keeps its graph: it trains the critic with 3 times the gradient of the plain one.
    (lazy_grad,) = torch.autograd.grad(values[0], next(lazy.critic.parameters()))
    (grad,) = torch.autograd.grad(direct, next(lazy.critic.parameters()))
    torch.testing.assert_close(lazy_grad, 3 * grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("every", [0, 1.5])
def test_penalty_every_below_1_or_not_an_integer_is_refused(every):
    with pytest.raises(ValueError, match="penalty_every must be an integer >= 1"):
        WGANGP(nn.Linear(2, 2), nn.Linear(2, 1), penalty_every=every, optimizer_critic=None, optimizer_generator=None)
