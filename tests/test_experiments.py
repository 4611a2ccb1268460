"""Every experiment config composes to the settings it documents and takes one training step on tiny widths.

Digit experiments read the real MNIST (and USPS) files; CIFAR-10 is not on these machines, so its experiment
reads a tiny archive in the official layout written by the test.
"""

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from cifar_archive import write_cifar_archive
from conftest import HAS_MNIST, HAS_USPS
from ganzoo.config import config_dir
from ganzoo.train import build
from helpers import TINY, TINY_CONDITIONAL

TINY_DCGAN = TINY["dcgan"]
# Per experiment: tiny widths, and the settings its comment promises (key -> value in the composed config).
EXPERIMENTS: dict[str, tuple[list[str], dict[str, object]]] = {
    "gan_mnist": (
        ["model.generator.hidden=[16,16]", "model.critic.hidden=[16]", "model.generator.latent_dim=8"],
        {"model._target_": "ganzoo.models.GAN", "data.image_size": 28},
    ),
    "dcgan_mnist": (TINY_DCGAN, {"model._target_": "ganzoo.models.GAN", "model.optimizer_critic.lr": 1e-4}),
    "wgan_mnist": (
        TINY_DCGAN,
        {"model._target_": "ganzoo.models.WGAN", "model.n_critic": 5, "trainer.max_steps": 10000},
    ),
    "wgan_gp_mnist": (
        TINY_DCGAN,
        {"model._target_": "ganzoo.models.WGANGP", "model.n_critic": 5, "model.penalty_weight": 10.0},
    ),
    "otgan_mnist": (
        [*TINY_DCGAN, "model.critic.embedding_dim=8", "model.iterations=5"],
        {"model._target_": "ganzoo.models.OTGAN", "model.n_gen": 5, "model.n_critic": 1},
    ),
    "otgan_mnist_ngen2": (
        [*TINY_DCGAN, "model.critic.embedding_dim=8", "model.iterations=5"],
        {"model._target_": "ganzoo.models.OTGAN", "model.n_gen": 2, "model.n_critic": 1},
    ),
    "cyclegan_mnist_usps": (
        ["model.generators.mnist2usps.width=4", "model.critics.mnist.width=4"],
        {
            "model._target_": "ganzoo.models.CycleGAN",
            "data._target_": "ganzoo.data.UnpairedDataModule",
            "trainer.max_steps": 10000,
            "model.generators.usps2mnist.width": 32,
            "model.semantic_weight": 0.0,
        },
    ),
    "bigan_mnist": (
        [*TINY_DCGAN, "model.encoder.width=4", "model.critic.hidden=8"],
        {"model._target_": "ganzoo.models.BiGAN", "model.encoder.embedding_dim": 50},
    ),
    "wgan_gp_cifar10": (
        TINY_DCGAN,
        {
            "model._target_": "ganzoo.models.WGANGP",
            "data.channels": 3,
            "data.image_size": 32,
            "metrics.extractor._target_": "ganzoo.metrics.InceptionExtractor",
            "model.generator.width": 128,  # checked before the tiny override, below
        },
    ),
}


# The presets tuned for 8 CPU-minutes: the EMA is on and the run length is bounded.
FAST = {"model.ema.decay": 0.999, "trainer.max_epochs": -1}
EXPERIMENTS.update(
    {
        "gan_mnist_fast": (EXPERIMENTS["gan_mnist"][0], {"model._target_": "ganzoo.models.GAN", **FAST}),
        "dcgan_mnist_fast": (
            TINY_DCGAN,
            {"model._target_": "ganzoo.models.GAN", "model.critic.batchnorm": True, "data.batch_size": 32, **FAST},
        ),
        "wgan_mnist_fast": (
            TINY_DCGAN,
            {
                "model._target_": "ganzoo.models.WGAN",
                "model.clip_value": 0.02,
                "model.n_critic": 1,
                "model.reuse_fakes": True,
                "model.optimizer_critic.lr": 5e-4,
                "model.optimizer_generator.lr": 5e-4,
                "model.critic.batchnorm": True,
                **FAST,
            },
        ),
        "wgan_gp_mnist_fast": (
            TINY_DCGAN,
            {
                "model._target_": "ganzoo.models.WGANGP",
                "model.n_critic": 1,
                "model.penalty_every": 8,
                "model.reuse_fakes": True,
                **FAST,
            },
        ),
        "otgan_mnist_fast": (EXPERIMENTS["otgan_mnist"][0], {"model._target_": "ganzoo.models.OTGAN", **FAST}),
        "bigan_mnist_fast": (EXPERIMENTS["bigan_mnist"][0], {"model._target_": "ganzoo.models.BiGAN", **FAST}),
        "cgan_mnist_fast": (
            TINY_CONDITIONAL["cgan"],
            {
                "model._target_": "ganzoo.models.ConditionalGAN",
                "model.generator.conditioning": "concat",
                "model.critic._target_": "ganzoo.nets.ConditionalDCGANDiscriminator",
                "data.batch_size": 32,
                **FAST,
            },
        ),
        "acgan_mnist_fast": (
            TINY_CONDITIONAL["acgan"],
            {"model._target_": "ganzoo.models.ACGAN", "model.critic.num_classes": 10, "data.batch_size": 32, **FAST},
        ),
        "projection_mnist_fast": (
            TINY_CONDITIONAL["projection"],
            {
                "model._target_": "ganzoo.models.ConditionalGAN",
                "model.generator.conditioning": "batchnorm",
                "model.critic.spectral_norm": True,
                "model.critic_loss": "hinge",
                "model.n_critic": 1,
                **FAST,
            },
        ),
        "infogan_mnist_fast": (
            TINY_CONDITIONAL["infogan"],
            {
                "model._target_": "ganzoo.models.InfoGAN",
                "model.critic.categories": 10,
                "model.critic.continuous": 2,
                "model.generator.latent_dim": 74,
                "model.categorical_weight": 3.0,
                "model.continuous_weight": 1.0,
                **FAST,
            },
        ),
    }
)


def test_every_experiment_file_is_listed_here():
    assert sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml")) == sorted(EXPERIMENTS)


def data_overrides(name: str, tmp_path: Path) -> list[str]:
    """The experiment's own data where it exists on this machine, else a skip; CIFAR-10 from a tiny archive."""
    if name.endswith("cifar10"):
        write_cifar_archive(tmp_path / "cifar")
        return [f"data.data_dir={tmp_path / 'cifar'}", "data.val_size=6"]
    if not HAS_MNIST or ("usps" in name and not HAS_USPS):
        pytest.skip("MNIST/USPS not on this machine; set GANZOO_DATA_DIR")
    return []


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.usefixtures("one_thread")
def test_experiment_composes_as_documented_and_takes_one_critic_step(make_config, tmp_path, name: str):
    tiny, promised = EXPERIMENTS[name]
    full = make_config(f"experiment={name}", run="full")
    for key, value in promised.items():
        assert OmegaConf.select(full, key) == value, key
    cfg = make_config(
        f"experiment={name}",
        *tiny,
        *data_overrides(name, tmp_path),
        "data.batch_size=8",
        "metrics=none",
        "trainer.max_steps=1",
    )
    trainer, model, datamodule = build(cfg)
    critic = [p.detach().clone() for p in model.critic_parameters()]
    generator = [p.detach().clone() for p in model.generator_parameters()]
    trainer.fit(model, datamodule=datamodule)
    assert trainer.global_step == 1 and (model.critic_updates, model.generator_updates) == (1, 0)
    # the one step was the critic's: some critic weight moved, no generator weight did
    assert any(not torch.equal(a, b) for a, b in zip(critic, model.critic_parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(generator, model.generator_parameters(), strict=True))
    assert torch.isfinite(trainer.callback_metrics["train/critic_loss"])


@pytest.mark.parametrize("name", sorted(n for n in EXPERIMENTS if n.endswith("_fast")))
def test_fast_preset_ends_by_itself_on_a_scored_step(make_config, name: str):
    # A fast preset stops at its own max_steps, and its last validation reads the final weights: the figure a user
    # sees at the end of `make train` is the figure of the model the run leaves behind.
    cfg = make_config(f"experiment={name}", run="full")
    assert cfg.trainer.max_steps > 0 and cfg.trainer.max_epochs == -1
    assert cfg.trainer.max_steps % cfg.metrics.every_n_steps == 0, (cfg.trainer.max_steps, cfg.metrics.every_n_steps)


def test_make_train_runs_the_dcgan_preset():
    makefile = (config_dir().parent / "Makefile").read_text()
    assert "experiment=dcgan_mnist_fast" in makefile.split("\ntrain:")[1].split("\n\n")[0]
