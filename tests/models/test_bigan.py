"""BiGAN: shapes, the critic's (x, z) pairs and losses against direct computations, which networks each phase
updates, the joint gradient penalty, the nearest-neighbour probe, encode=, and a short fit on real MNIST."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from lightning.pytorch import Callback

from conftest import compose_config, requires_mnist
from ganzoo.checkpoint import load_model
from ganzoo.data import SyntheticDataModule
from ganzoo.losses import gradient_penalty, random_interpolates
from ganzoo.metrics.probe import nearest_neighbour_accuracy
from ganzoo.sample import encode, to_uint8
from ganzoo.train import build, train
from ganzoo.utils import eval_mode

LATENT = 8
TINY = [
    "model=bigan",
    "model.generator.width=4",
    f"model.generator.latent_dim={LATENT}",
    "model.encoder.width=4",
    "model.critic.width=4",
    "model.critic.hidden=8",
]
SMALL_DATA = ["data=synthetic", "data.num_samples=96", "data.val_size=16", "data.batch_size=16"]


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_model(make_config, *overrides: str):
    torch.manual_seed(0)
    return instantiate(make_config(*TINY, *SMALL_DATA, *overrides).model)


def test_shapes(make_config):
    model = tiny_model(make_config)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    z = model.latent(5)
    assert z.shape == (5, LATENT)
    assert model.encode(x).shape == (5, LATENT)
    assert model.generator(z).shape == (5, 1, 28, 28)
    assert model.reconstruct(x).shape == (5, 1, 28, 28)
    assert model.critic(x, z).shape == (5,)
    assert model.preview(8).shape == (8, 1, 28, 28)  # no data attached: fixed-latent samples only


class Recording(torch.nn.Module):
    """Wraps the critic and records every (x, z) it is called with."""

    def __init__(self, critic: torch.nn.Module) -> None:
        super().__init__()
        self.critic = critic
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.calls.append((x.detach().clone(), z.detach().clone()))
        return self.critic(x, z)


def test_critic_sees_real_and_generated_pairs_and_its_loss_is_the_direct_one(make_config):
    model = tiny_model(make_config)
    model.critic = critic = Recording(model.critic)
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    rng = torch.Generator().set_state(model.rng.get_state())  # the stream the step will draw from
    value = model.critic_step((x, torch.zeros(6)))

    # independently: z and eps from the same stream; E and G in the same (training) mode
    z = torch.randn(6, LATENT, generator=rng)
    with torch.no_grad():
        real_pair, fake_pair = (x, model.encoder(x)), (model.generator(z), z)
    (rx, rz), (fx, fz) = critic.calls[:2]
    assert torch.equal(rx, x) and torch.allclose(rz, real_pair[1])
    assert torch.allclose(fx, fake_pair[0], atol=1e-6) and torch.equal(fz, z)
    d_real, d_fake = critic.critic(*real_pair), critic.critic(*fake_pair)
    eps = torch.rand(6, generator=rng)
    px = (eps.view(-1, 1, 1, 1) * x + (1 - eps.view(-1, 1, 1, 1)) * fake_pair[0]).requires_grad_(True)
    pz = (eps.view(-1, 1) * real_pair[1] + (1 - eps.view(-1, 1)) * z).requires_grad_(True)
    gx, gz = torch.autograd.grad(critic.critic(px, pz).sum(), (px, pz))
    norms = (gx.pow(2).sum(dim=(1, 2, 3)) + gz.pow(2).sum(dim=1)).sqrt()
    expected = d_fake.mean() - d_real.mean() + 10.0 * ((norms - 1) ** 2).mean()
    # the third call is the penalty's, on points between the two pairs
    assert torch.allclose(critic.calls[2][0], px.detach(), atol=1e-6)
    assert torch.allclose(critic.calls[2][1], pz.detach(), atol=1e-6)
    assert torch.allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_lazy_penalty_is_twice_the_penalty_on_even_critic_updates_and_skipped_on_odd_ones(make_config):
    model = tiny_model(make_config, "model.penalty_every=2")
    model.critic = critic = Recording(model.critic)
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    state = model.rng.get_state()
    values = {}
    for updates, every in [(0, 2), (1, 2), (1, 1)]:  # the same random draws each time
        model.rng.set_state(state)
        model.critic_updates, model.penalty_every = updates, every
        critic.calls.clear()
        values[updates, every] = model.critic_step((x, torch.zeros(6)))
        assert len(critic.calls) == (2 if (updates, every) == (1, 2) else 3)  # no penalty: no third call
    loss, with_penalty = values[1, 2], values[1, 1]
    assert with_penalty - loss > 0
    torch.testing.assert_close(values[0, 2] - loss, 2 * (with_penalty - loss), rtol=1e-5, atol=1e-6)


def test_generator_side_loss_swaps_the_pairs(make_config):
    model = tiny_model(make_config)
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    rng = torch.Generator().set_state(model.rng.get_state())
    value = model.generator_step((x, torch.zeros(6)))
    z = torch.randn(6, LATENT, generator=rng)
    d_real, d_fake = model.critic(x, model.encoder(x)), model.critic(model.generator(z), z)
    expected = d_real.mean() - d_fake.mean()
    assert torch.allclose(value, expected, rtol=1e-5, atol=1e-6)
    value.backward()  # the loss reaches E and G
    assert model.encoder.head.weight.grad.abs().sum() > 0
    assert model.generator.project[0].weight.grad.abs().sum() > 0


NETS = ("generator", "encoder", "critic")


def parameters_of(model) -> dict[str, dict[str, torch.Tensor]]:
    return {n: {k: v.detach().clone() for k, v in getattr(model, n).named_parameters()} for n in NETS}


class Snapshots(Callback):
    """The parameters of each network after every training batch."""

    def __init__(self) -> None:
        self.after: list[dict[str, dict[str, torch.Tensor]]] = []

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.after.append(parameters_of(pl_module))


def test_critic_phase_moves_only_d_generator_phase_moves_e_and_g(make_config):
    cfg = make_config(*TINY, *SMALL_DATA, "model.n_critic=1", "metrics=none", "trainer.max_steps=4")
    trainer, model, datamodule = build(cfg)
    snapshots = Snapshots()
    trainer.callbacks.append(snapshots)
    start = parameters_of(model)
    trainer.fit(model, datamodule=datamodule)
    states = [start, *snapshots.after]
    for step in range(4):
        before, after = states[step], states[step + 1]
        moved = {n for n in before if any(not torch.equal(before[n][k], after[n][k]) for k in before[n])}
        # all of it, except the critic's output bias, which cancels in E D(real) - E D(fake)
        every = {
            n
            for n in before
            if all(not torch.equal(before[n][k], after[n][k]) for k in before[n] if k != "joint.2.bias")
        }
        expected = {"critic"} if step % 2 == 0 else {"generator", "encoder"}
        assert moved == expected == every, (step, moved, every)
    optimizers = trainer.optimizers
    ids = [{id(p) for g in o.param_groups for p in g["params"]} for o in optimizers]
    assert ids[0] == {id(p) for p in model.critic.parameters()}
    assert ids[1] == {id(p) for p in [*model.generator.parameters(), *model.encoder.parameters()]}


def test_joint_gradient_penalty_of_a_linear_critic():
    a, b = torch.randn(1, 3, 4, 4), torch.randn(5)
    critic = lambda x, z: (x * a).flatten(1).sum(1) + z @ b  # noqa: E731 - gradient (a, b) everywhere
    x, z = torch.randn(7, 3, 4, 4), torch.randn(7, 5)
    norm = math.sqrt(a.pow(2).sum().item() + b.pow(2).sum().item())
    assert gradient_penalty(critic, (x, z), weight=3.0).item() == pytest.approx(3.0 * (norm - 1) ** 2, rel=1e-5)
    # one tensor still works as before: the image part alone
    image_norm = a.norm().item()
    assert gradient_penalty(lambda x: critic(x, torch.zeros(len(x), 5)), x).item() == pytest.approx(
        10.0 * (image_norm - 1) ** 2, rel=1e-5
    )


def test_joint_interpolates_share_one_eps_per_sample():
    real, fake = (torch.randn(9, 2, 3, 3), torch.randn(9, 4)), (torch.randn(9, 2, 3, 3), torch.randn(9, 4))
    px, pz = random_interpolates(real, fake, torch.Generator().manual_seed(1))
    eps_x = ((px - fake[0]) / (real[0] - fake[0])).flatten(1)
    eps_z = (pz - fake[1]) / (real[1] - fake[1])
    assert torch.allclose(eps_x, eps_x[:, :1].expand_as(eps_x), atol=1e-4)
    assert torch.allclose(eps_z, eps_x[:, :1].expand_as(eps_z), atol=1e-4)
    # the single-tensor form draws the same eps from the same seed as before the joint form existed
    single = random_interpolates(real[0], fake[0], torch.Generator().manual_seed(1))
    assert torch.equal(single, px)


def brute_force_nn(codes: np.ndarray, labels: np.ndarray) -> float:
    correct = 0
    for i in range(len(codes)):
        d = ((codes - codes[i]) ** 2).sum(axis=1)
        d[i] = np.inf
        correct += labels[int(np.argmin(d))] == labels[i]
    return correct / len(codes)


def test_nearest_neighbour_accuracy_equals_a_brute_force_loop():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(3, (40,), generator=g)
    codes = torch.randn(40, 6, generator=g) + 1.5 * F.one_hot(labels, 6).float()
    value = nearest_neighbour_accuracy(codes, labels, chunk=7)  # chunks that do not divide N
    assert value == pytest.approx(brute_force_nn(codes.numpy(), labels.numpy()))
    assert 0.4 < value < 1.0
    # leave-one-out: with random labels a point is not its own neighbour, so accuracy is near chance, not 1
    random_labels = torch.randint(2, (400,), generator=g)
    assert nearest_neighbour_accuracy(torch.randn(400, 6, generator=g), random_labels) < 0.65
    with pytest.raises(ValueError, match="at least 2"):
        nearest_neighbour_accuracy(codes[:1], labels[:1])


@pytest.fixture(scope="module")
def synthetic_checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("bigan")
    train(compose_config(run, [*TINY, *SMALL_DATA, "metrics=none", "trainer.max_steps=2"]))
    return run / "checkpoints" / "last.ckpt"


def test_encode_gives_the_encoders_codes_and_reconstructions(synthetic_checkpoint):
    model, _ = load_model(synthetic_checkpoint)
    data = SyntheticDataModule(num_samples=96, val_size=16)
    codes, reconstructions, labels = encode(model, data, "test", batch_size=7)
    images, expected_labels = data.test_set.tensors
    with eval_mode(model), torch.no_grad():
        assert torch.allclose(codes, model.encoder(images), atol=1e-6)
        assert torch.equal(reconstructions, to_uint8(model.generator(model.encoder(images))))
    assert torch.equal(labels, expected_labels) and codes.shape == (24, LATENT)
    with pytest.raises(ValueError, match="test or val"):
        encode(model, data, "train")


def test_encode_command_and_its_refusal_for_models_without_encoder(synthetic_checkpoint, tmp_path):
    out = tmp_path / "codes.npz"
    args = [f"ckpt_path={synthetic_checkpoint}", "encode=test", f"out={out}", f"hydra.run.dir={tmp_path / 'r'}"]
    done = subprocess.run([sys.executable, "-m", "ganzoo.sample", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = np.load(out)
    model, _ = load_model(synthetic_checkpoint)
    data = SyntheticDataModule(num_samples=96, val_size=16, seed=0)  # the run's data (seed 0)
    codes, reconstructions, labels = encode(model, data)
    assert np.allclose(saved["codes"], codes.numpy(), atol=1e-6)
    assert np.array_equal(saved["images"], reconstructions.numpy()) and np.array_equal(saved["labels"], labels)
    assert out.with_suffix(".png").exists()
    gan = instantiate(compose_config(tmp_path / "g", ["model=dcgan"]).model)
    with pytest.raises(ValueError, match="no encoder"):
        encode(gan, data)


@requires_mnist
def test_short_fit_on_mnist_logs_reconstructions_and_a_probe_above_chance(make_config):
    cfg = make_config(
        *TINY,
        "data=mnist",
        "data.val_size=600",
        "data.batch_size=32",
        "metrics.num_samples=200",
        "metrics.every_n_steps=10",
        "callbacks.sample_grid.every_n_steps=10",
        "trainer.max_steps=20",
    )
    trainer, model, datamodule = build(cfg)
    trainer.fit(model, datamodule=datamodule)
    run = Path(cfg.paths.output_dir)
    assert (run / "samples" / "step_0000020.png").exists()
    for tag in ("train/critic_loss", "train/generator_loss", "train/wasserstein", "train/gradient_penalty"):
        assert math.isfinite(trainer.callback_metrics[tag])
    # the grid's second half: held-out images, each followed by its reconstruction
    images = datamodule.val_set.tensors[0]
    with eval_mode(model), torch.no_grad():
        grid = model.preview(64)
        recon = model.generator(model.encoder(images[:16]))
        codes = model.encoder(images)
        error = (model.generator(codes) - images).abs().mean().item()
    assert torch.equal(grid[32::2], images[:16]) and torch.allclose(grid[33::2], recon, atol=1e-6)
    # the logged validation values are the probe and the reconstruction error of the final encoder
    labels = datamodule.val_set.tensors[1]
    probe = trainer.callback_metrics["val/probe_acc"].item()
    assert probe == pytest.approx(brute_force_nn(codes.numpy(), labels.numpy()), abs=1e-6)
    assert probe > 0.3  # chance is about 0.1
    assert trainer.callback_metrics["val/reconstruction_error"].item() == pytest.approx(error, rel=1e-4)
    assert math.isfinite(trainer.callback_metrics["val/fid"])
