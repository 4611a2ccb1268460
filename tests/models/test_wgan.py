"""WGAN and WGAN-GP through the real configs: clipping, the n_critic schedule, a critic without BatchNorm."""

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from torch import nn

from ganzoo.losses import gradient_penalty
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
    # penalty_at=real_fake draws no random points, so each update's penalty can be computed again directly.
    lazy = instantiate(make_config("model=wgan_gp", *TINY, "model.penalty_every=3", "model.penalty_at=real_fake").model)
    lazy.double()  # float64: the factor 3 is then exact to rounding, gradients included
    real, fake = torch.randn(4, 1, 28, 28, dtype=torch.float64), torch.randn(4, 1, 28, 28, dtype=torch.float64)
    direct = sum(gradient_penalty(lazy.critic, x, lazy.penalty_weight) for x in (real, fake))
    values = []
    for updates in range(7):
        lazy.critic_updates = updates
        values.append(lazy.penalty(real, fake))
    for updates, value in enumerate(values):
        if updates % 3:
            assert value == 0.0
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


@pytest.mark.parametrize(("epoch", "k"), [(0, 10), (3, 8), (7, 5)])  # 0.9**3 = 0.729 of 10 is 7.29: 8 kept
def test_top_k_generator_loss_learns_from_the_highest_scored_fakes_only(make_config, monkeypatch, epoch: int, k: int):
    model = instantiate(make_config("model=wgan_gp", *TINY, "model.top_k=0.5", "model.top_k_decay=0.9").model)
    monkeypatch.setattr(WGANGP, "current_epoch", property(lambda self: epoch))
    assert model.top_k_fraction() == max(0.5, 0.9**epoch)
    scores = torch.randn(10, 1, requires_grad=True)
    kept = model.best_scores(scores)
    descending = scores.detach().flatten().sort(descending=True).values
    torch.testing.assert_close(kept.detach().flatten().sort(descending=True).values, descending[:k], rtol=0, atol=0)
    # Sinha et al.'s loss: the mean over the k best only, so the others get no gradient at all.
    (grad,) = torch.autograd.grad(-kept.mean(), scores)
    best = scores.detach().flatten().argsort(descending=True)[:k]
    expected = torch.zeros(10)
    expected[best] = -1 / k
    torch.testing.assert_close(grad.flatten(), expected, rtol=0, atol=0)


def test_without_top_k_every_fake_counts_and_bad_shares_are_refused(make_config):
    model = instantiate(make_config("model=wgan", *TINY).model)
    scores = torch.randn(6, 1)
    assert model.top_k is None and model.best_scores(scores) is scores
    for name, value in (("top_k", 0), ("top_k", 1.5), ("top_k_decay", 0)):
        with pytest.raises(ValueError, match=rf"model\.{name} must be in \(0, 1\], got {value}"):
            WGANGP(nn.Linear(2, 2), nn.Linear(2, 1), **{name: value}, optimizer_critic=None, optimizer_generator=None)


INFO = ["model=wgan_gp", *TINY, "model.info_codes=4", "model.info_weight=0.5"]


def test_info_latents_end_in_a_uniform_one_hot_category_after_normal_noise(make_config):
    model = instantiate(make_config(*INFO).model)
    z = model.latent(4000, torch.Generator().manual_seed(0))
    noise, code = z[:, :-4], z[:, -4:]
    assert z.shape == (4000, model.generator.latent_dim) and noise.shape[1] == model.generator.latent_dim - 4
    assert torch.equal(code.sum(1), torch.ones(4000)) and set(code.unique().tolist()) == {0.0, 1.0}
    counts = code.sum(0)
    assert counts.min() > 900 and counts.max() < 1100  # 1000 each, binomial spread about 27
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1) < 0.02
    assert torch.equal(model.latent(4000, torch.Generator().manual_seed(0)), z)  # the metrics' seeded draws repeat


@pytest.mark.parametrize("name", ["wgan", "wgan_gp"])
def test_info_loss_is_the_code_cross_entropy_of_the_head_on_the_critic_features_in_both_steps(make_config, name):
    model = instantiate(make_config(f"model={name}", *INFO[1:]).model)
    real = torch.rand(6, 1, 28, 28) * 2 - 1

    def reference(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = model.critic.features(model.generator(z))
        log_q = torch.log_softmax(model.code_head(features), dim=1)
        information = -log_q[torch.arange(6), z[:, -4:].argmax(1)].mean()
        return model.critic.head(features).squeeze(1), information

    model.rng.manual_seed(3)
    loss = model.generator_step((real, None))
    model.rng.manual_seed(3)
    scores, information = reference(model.latent(6))
    torch.testing.assert_close(loss, -scores.mean() + 0.5 * information)

    model.penalty = lambda real, fake: 0.0  # the gradient penalty has tests of its own
    model.rng.manual_seed(4)
    loss = model.critic_step((real, None))
    model.rng.manual_seed(4)
    with torch.no_grad():
        scores, information = reference(model.latent(6))
        expected = -(model.critic(real).mean() - scores.mean()) + 0.5 * information
    torch.testing.assert_close(loss, expected)
    # Q shares the critic's layers and is trained with them (the critic's optimizer), as in InfoGAN
    head = {id(p) for p in model.code_head.parameters()}
    assert head <= {id(p) for p in model.critic_parameters()}
    assert not head & {id(p) for p in model.generator_parameters()}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["model.info_codes=1"], r"info_codes must be >= 2"),
        (["model.info_codes=4", "model.info_weight=0"], r"info_weight > 0"),
        (["model.info_codes=8", "model.generator.latent_dim=8"], r"must leave noise in the latent"),
    ],
)
def test_bad_info_settings_are_refused(make_config, overrides, named):
    with pytest.raises(InstantiationException, match=named):
        instantiate(make_config("model=wgan_gp", *TINY, *overrides).model)


def test_info_codes_need_a_critic_with_features_and_a_linear_head():
    with pytest.raises(ValueError, match=r"needs a critic with `features` and a linear `head`, which Linear lacks"):
        WGANGP(nn.Linear(2, 2), nn.Linear(2, 1), info_codes=4, optimizer_critic=None, optimizer_generator=None)
