"""Class-conditional models (cGAN, the projection GAN, ACGAN, InfoGAN): each phase's loss equals its formula on a
tiny batch, a short fit moves each side in its phase, `load_from_checkpoint` rebuilds them, two DDP ranks stay
equal; conditional sampling gives exactly the labels asked for, and grids have a row per class."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image
from torch import nn

from cifar_archive import write_cifar_archive
from conftest import HAS_USPS, compose_config
from ganzoo.callbacks import SampleGrid
from ganzoo.models import ACGAN, GAN, ConditionalGAN, InfoGAN
from ganzoo.models.conditional import labelled
from ganzoo.train import build, train
from helpers import SMALL_DATA, TINY_CONDITIONAL, fit_on_two_ranks, fit_recording

pytestmark = pytest.mark.usefixtures("one_thread")
CLASSES = {"cgan": ConditionalGAN, "projection": ConditionalGAN, "acgan": ACGAN, "infogan": InfoGAN}


def tiny(model: str, *extra: str) -> list[str]:
    return [f"model={model}", *TINY_CONDITIONAL[model], *SMALL_DATA, *extra]


def built(make_config, model: str, *extra: str):
    """The model in eval mode (BatchNorm's statistics and spectral norm's power iteration stay put between a step
    and its reference) and a labelled training batch."""
    _, module, datamodule = build(make_config(*tiny(model, *extra)))
    datamodule.setup("fit")
    real, labels = next(iter(datamodule.train_dataloader()))
    return module.eval(), real, labels


def replay(module, phase: str, batch) -> torch.Tensor:
    """The phase's loss, with the module's random stream put back so that the reference redraws its numbers."""
    state = module.rng.get_state()
    loss = getattr(module, phase)(batch)
    module.rng.set_state(state)
    return loss


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    p = torch.sigmoid(logits.double())
    return -(target * p.log() + (1 - target) * (1 - p).log()).mean()


def nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return -logits.double().log_softmax(1)[torch.arange(len(labels)), labels].mean()


def labels_and_noise(module, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What a cGAN/ACGAN step draws: the fakes' labels, then z."""
    y = torch.randint(10, (n,), generator=module.rng)
    return y, torch.randn(n, module.generator.latent_dim, generator=module.rng)


@pytest.mark.parametrize("model", ["cgan", "projection"])
def test_conditional_gan_losses_score_real_and_fake_images_with_their_labels(make_config, model: str):
    module, real, labels = built(make_config, model)
    hinge = model == "projection"
    critic_loss = replay(module, "critic_step", (real, labels))
    y, z = labels_and_noise(module, len(real))
    with torch.no_grad():
        r, f = module.critic(real, labels).double(), module.critic(module.generator(z, y), y).double()
    expected = (1 - r).clamp(min=0).mean() + (1 + f).clamp(min=0).mean() if hinge else bce(r, 1) + bce(f, 0)
    torch.testing.assert_close(critic_loss.double(), expected, rtol=1e-5, atol=1e-6)
    # the real images' own labels matter: other labels give another loss
    with torch.no_grad():
        assert not torch.allclose(module.critic(real, (labels + 1) % 10), r.float())

    generator_loss = replay(module, "generator_step", (real, labels))
    y, z = labels_and_noise(module, len(real))
    with torch.no_grad():
        f = module.critic(module.generator(z, y), y).double()
    torch.testing.assert_close(generator_loss.double(), -f.mean() if hinge else bce(f, 1), rtol=1e-5, atol=1e-6)


def test_acgan_losses_add_the_class_cross_entropy_of_real_and_generated_images(make_config):
    module, real, labels = built(make_config, "acgan")
    critic_loss = replay(module, "critic_step", (real, labels))
    y, z = labels_and_noise(module, len(real))
    with torch.no_grad():
        (rs, rc), (fs, fc) = module.critic(real), module.critic(module.generator(z, y))
    expected = bce(rs, 1) + bce(fs, 0) + nll(rc, labels) + nll(fc, y)
    torch.testing.assert_close(critic_loss.double(), expected, rtol=1e-5, atol=1e-6)

    generator_loss = replay(module, "generator_step", (real, labels))
    y, z = labels_and_noise(module, len(real))
    with torch.no_grad():
        fs, fc = module.critic(module.generator(z, y))
    torch.testing.assert_close(generator_loss.double(), bce(fs, 1) + nll(fc, y), rtol=1e-5, atol=1e-6)


def test_infogan_losses_add_the_weighted_information_terms_of_its_codes(make_config):
    module, real, labels = built(make_config, "infogan", "model.categorical_weight=0.7", "model.continuous_weight=0.3")
    for phase in ("critic_step", "generator_step"):
        loss = replay(module, phase, (real, labels))
        n = len(real)  # the draws: noise, continuous codes uniform in [-1, 1], then the categorical codes
        z = torch.randn(n, 4, generator=module.rng)
        c = torch.rand(n, 2, generator=module.rng) * 2 - 1
        k = torch.randint(10, (n,), generator=module.rng)
        with torch.no_grad():
            scores, logits, means = module.critic(module.generator(torch.cat([z, c, torch.eye(10)[k]], 1)))
            adversarial = bce(module.critic(real)[0], 1) + bce(scores, 0) if phase == "critic_step" else bce(scores, 1)
        information = 0.7 * nll(logits, k) + 0.3 * 0.5 * ((means.double() - c) ** 2).sum(1).mean()
        torch.testing.assert_close(loss.double(), adversarial + information, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model", sorted(TINY_CONDITIONAL))
def test_a_critic_update_moves_only_the_critic_and_a_generator_update_only_the_generator(make_config, model: str):
    cfg = make_config(*tiny(model, "model.n_critic=1", "trainer.max_steps=1", "metrics=none"), run="one")
    _, module, updates, before = fit_recording(cfg)
    moved = {k: not torch.equal(v, before[k]) for k, v in module.named_parameters()}
    # (the hinge loss's gradient for the bias of the score is the share of active fakes less that of active reals:
    # 0 while all are active, as at the start)
    assert updates == ["C"] and all(v for k, v in moved.items() if k.startswith("critic.") and "psi.bias" not in k)
    assert not any(v for k, v in moved.items() if k.startswith("generator."))
    cfg = make_config(*tiny(model, "model.n_critic=1", "trainer.max_steps=2", "metrics=none"), run="two")
    trainer, module, updates, before = fit_recording(cfg)
    assert updates == ["C", "G"] and torch.isfinite(trainer.callback_metrics["train/generator_loss"])
    assert all(not torch.equal(v, before[k]) for k, v in module.named_parameters() if k.startswith("generator."))


def test_unlabelled_batches_are_refused_with_advice():
    with pytest.raises(ValueError, match=r"learns from \(images, labels\) batches"):
        labelled(torch.zeros(4, 1, 28, 28), SimpleNamespace())


@pytest.mark.parametrize("model", sorted(TINY_CONDITIONAL))
def test_load_from_checkpoint_rebuilds_the_trained_model(tmp_path: Path, model: str):
    _, trained = train(compose_config(tmp_path, tiny(model, "trainer.max_steps=2", "metrics=none")))
    loaded = CLASSES[model].load_from_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert not loaded.training and loaded.critic_updates + loaded.generator_updates == 2
    for key, value in trained.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    trained.eval()
    labels = torch.tensor([3, 1, 4])
    g = [torch.Generator().manual_seed(5) for _ in range(2)]
    assert torch.equal(loaded.sample(3, g[0], labels=labels), trained.sample(3, g[1], labels=labels))
    with pytest.raises(TypeError, match="not a GAN"):
        GAN.load_from_checkpoint(tmp_path / "checkpoints" / "last.ckpt")


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(TINY_CONDITIONAL))
def test_ddp_on_two_cpu_processes_keeps_ranks_identical(make_config, tmp_path: Path, model: str):
    # spawned ranks receive the model pickled, which spectral norm's parametrization refuses: the projection critic
    # goes without it here (the class embeddings and conditional BatchNorm are what is new)
    unnormed = ["model.critic.spectral_norm=false"] if model == "projection" else []
    cfg = make_config(
        *tiny(model, *unnormed, "model.n_critic=1", "trainer=ddp_cpu", "trainer.max_steps=4", "metrics=none")
    )
    initial, rank0, rank1 = fit_on_two_ranks(cfg, tmp_path)
    assert rank0.keys() == initial.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    for side in ("generator.", "critic."):
        assert any(not torch.equal(rank0[k], initial[k]) for k in rank0 if k.startswith(side)), side


class LabelStamp(nn.Module):
    """A generator whose image says what it was asked for: pixel (0, 0) is the label / 10, pixel (0, 1) is z[0]."""

    num_classes, latent_dim = 10, 3

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        images = torch.zeros(len(z), 1, 4, 4)
        images[:, 0, 0, 0] = y.float() / 10
        images[:, 0, 0, 1] = z[:, 0] * self.scale
        return images


def stamped() -> ConditionalGAN:
    return ConditionalGAN(LabelStamp(), nn.Identity(), optimizer_critic=None, optimizer_generator=None)


def read_labels(images: torch.Tensor) -> torch.Tensor:
    return (images[:, 0, 0, 0] * 10).round().long()


def test_sampling_gives_exactly_the_labels_asked_for_and_all_classes_in_equal_shares_by_default():
    model = stamped()
    asked = torch.tensor([7, 0, 9, 9, 2])
    assert torch.equal(read_labels(model.sample(5, labels=asked)), asked)
    drawn = read_labels(model.sample(30))
    assert torch.equal(drawn, torch.arange(30) % 10)
    with pytest.raises(ValueError, match=r"generates labels 0 to 9 and was asked for \[10\]"):
        model.sample(2, labels=torch.tensor([3, 10]))


def test_the_preview_has_a_row_per_class_and_the_same_latents_in_every_row(tmp_path: Path):
    model = stamped()
    grid = model.preview(64)
    assert grid.shape == (10, 6, 1, 4, 4)
    assert torch.equal(read_labels(grid.flatten(0, 1)).view(10, 6), torch.arange(10)[:, None].expand(10, 6))
    latents = grid[:, :, 0, 0, 1]
    assert torch.equal(latents, latents[:1].expand(10, 6)) and len(latents[0].unique()) == 6
    trainer = SimpleNamespace(global_step=3, default_root_dir=str(tmp_path), loggers=[])
    path = SampleGrid(num_images=64, nrow=8).write(trainer, model)
    assert Image.open(path).size == (6 * (4 + 2) + 2, 10 * (4 + 2) + 2)  # 6 columns, 10 rows, 2-pixel padding


class Echo(nn.Module):
    """A generator that shows its input: the image is the input vector."""

    latent_dim = 16

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, None, None, :]


def test_infogans_preview_moves_the_category_by_row_and_the_first_continuous_code_by_column():
    critic = SimpleNamespace(categories=10, continuous=2)
    model = InfoGAN(Echo(), critic, optimizer_critic=None, optimizer_generator=None)  # type: ignore[arg-type]
    grid = model.preview(40)[:, :, 0, 0]  # (10 rows, 4 columns, 16 inputs): noise 4, continuous 2, one-hot 10
    assert grid.shape == (10, 4, 16)
    assert torch.equal(grid[..., 6:].argmax(-1), torch.arange(10)[:, None].expand(10, 4))
    torch.testing.assert_close(grid[..., 4], torch.linspace(-1, 1, 4).expand(10, 4))
    fixed = grid[..., [0, 1, 2, 3, 5]]
    assert torch.equal(fixed, fixed[:1, :1].expand(10, 4, 5))
    assert torch.equal(model.sample(3, labels=torch.tensor([4, 0, 4]))[:, 0, 0, 6:].argmax(1), torch.tensor([4, 0, 4]))


@pytest.mark.parametrize("data", ["usps", "cifar10"])
@pytest.mark.parametrize("model", sorted(TINY_CONDITIONAL))
def test_every_conditional_model_trains_on_usps_and_cifar10_by_configuration(make_config, tmp_path, model, data):
    """The data config alone sets the image shape (grey USPS at 28x28, colour CIFAR-10 at 32x32) and the classes."""
    if data == "cifar10":
        write_cifar_archive(tmp_path / "cifar")
        where = [f"data.data_dir={tmp_path / 'cifar'}", "data.val_size=6"]
    elif not HAS_USPS:
        pytest.skip("USPS not on this machine; set GANZOO_DATA_DIR")
    else:
        where = []
    cfg = make_config(f"model={model}", f"data={data}", *TINY_CONDITIONAL[model], *where, "data.batch_size=8",
                      "metrics=none", "trainer.max_steps=2", "model.n_critic=1")  # fmt: skip
    trainer, module, datamodule = build(cfg)
    trainer.fit(module, datamodule=datamodule)
    assert (module.critic_updates, module.generator_updates) == (1, 1)
    shape = (3, 32, 32) if data == "cifar10" else (1, 28, 28)
    images = module.eval().sample(4, torch.Generator().manual_seed(0), labels=torch.tensor([9, 0, 3, 3]))
    assert images.shape == (4, *shape) and images.abs().max() <= 1
    preview = module.preview(20)  # a row per class (InfoGAN: per category, its continuous code along the row)
    assert module.num_classes == 10 and preview.shape[0] == 10 and preview.shape[2:] == shape
