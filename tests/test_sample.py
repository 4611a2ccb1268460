"""`ganzoo.sample`: uint8 N x C x H x W images in an .npz plus a PNG grid; translate= for two-domain models."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import DATA_DIR, compose_config, requires_usps
from ganzoo.checkpoint import load_model
from ganzoo.data import SyntheticDataModule, USPSDataModule
from ganzoo.models import GAN
from ganzoo.sample import requested_labels, to_uint8, translate
from ganzoo.train import train
from helpers import SYNTHETIC_PAIR, TINY, TINY_CONDITIONAL, TINY_CYCLEGAN


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained")
    data = ["data=synthetic", "data.num_samples=128", "data.batch_size=16"]
    train(compose_config(run, [*TINY["dcgan"], *data, "metrics=none", "trainer.max_steps=2"]))
    return run / "checkpoints" / "last.ckpt"


def test_sample_command_writes_uint8_images_and_a_grid(checkpoint, tmp_path):
    out = tmp_path / "samples.npz"
    args = [f"ckpt_path={checkpoint}", "n=37", f"out={out}", "batch_size=16", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run([sys.executable, "-m", "ganzoo.sample", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    images = np.load(out)["images"]
    assert images.dtype == np.uint8 and images.shape == (37, 1, 28, 28)
    assert int(images.max()) - int(images.min()) > 20  # 0..255 levels, not [0, 1] or [-1, 1] truncated
    assert to_uint8(torch.tensor([-1.0, -0.5, 0.0, 1.0, 3.0])).tolist() == [0, 64, 128, 255, 255]
    # exactly the model's images: batch b drawn from seed 0 + b, rounded to the nearest level
    model, _ = load_model(checkpoint)
    with torch.no_grad():
        expected = torch.cat(
            [to_uint8(model.sample(n, torch.Generator().manual_seed(b))) for b, n in enumerate((16, 16, 5))]
        )
    assert np.array_equal(images, expected.numpy())
    grid = Image.open(out.with_suffix(".png"))
    assert grid.size[0] > 28 * 6


class Negative(GAN):
    """A stand-in two-domain model: 'translates' by inverting the image."""

    def translate(self, images: torch.Tensor, domain: str) -> torch.Tensor:
        return -images


def test_translate_maps_a_domain_test_split_and_keeps_its_labels(checkpoint):
    model, _ = load_model(checkpoint)
    with pytest.raises(NotImplementedError, match="two-domain model"):
        translate(model, "synthetic", SyntheticDataModule(num_samples=64), batch_size=10)
    two_domain = Negative(model.generator, model.critic, optimizer_critic=None, optimizer_generator=None)
    images, labels = translate(two_domain, "synthetic", SyntheticDataModule(num_samples=64), batch_size=10)
    source, source_labels = SyntheticDataModule(num_samples=64).load_split(train=False)
    assert images.dtype == torch.uint8 and images.shape == source.shape
    assert torch.equal(images, to_uint8(-source)) and torch.equal(labels, source_labels)


def run_sample(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / f"{len(list(tmp_path.glob('*.npz')))}.npz"
    command = [sys.executable, "-m", "ganzoo.sample", *args, f"out={out}", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_weights_raw_samples_the_trained_generator_and_ema_its_average(tmp_path):
    data = ["data=synthetic", "data.num_samples=128", "data.batch_size=16", "metrics=none", "trainer.max_steps=4"]
    train(compose_config(tmp_path / "ema", [*TINY["dcgan"], *data, "model.ema.decay=0.5"]))
    checkpoint = tmp_path / "ema" / "checkpoints" / "last.ckpt"
    model, _ = load_model(checkpoint)
    drawn = {}
    for weights, network in (("raw", model.generator), ("ema", model.ema.average("generator"))):
        out = run_sample(tmp_path, f"ckpt_path={checkpoint}", "n=20", "batch_size=16", f"weights={weights}")
        drawn[weights] = np.load(out)["images"]
        with torch.no_grad():  # batch b from seed b, through that network in eval mode
            z = [model.latent(n, torch.Generator().manual_seed(b)) for b, n in enumerate((16, 4))]
            expected = torch.cat([to_uint8(network(c)) for c in z])
        assert np.array_equal(drawn[weights], expected.numpy()), weights
    assert not np.array_equal(drawn["raw"], drawn["ema"])


@requires_usps
def test_translate_command_translates_the_usps_test_split_and_saves_its_labels(tmp_path):
    cycle = ["model=cyclegan", *TINY_CYCLEGAN, *SYNTHETIC_PAIR, "metrics=none", "trainer.max_steps=2"]
    train(compose_config(tmp_path / "cycle", cycle))
    checkpoint = tmp_path / "cycle" / "checkpoints" / "last.ckpt"
    out = run_sample(tmp_path, f"ckpt_path={checkpoint}", "translate=usps", f"data_dir={DATA_DIR}")
    saved = np.load(out)
    usps = USPSDataModule(data_dir=DATA_DIR)
    usps.setup("test")
    images, labels = usps.test_set.tensors
    model, _ = load_model(checkpoint)
    with torch.no_grad():
        expected = to_uint8(model.translate(images, "usps"))  # the generator's average (model=cyclegan keeps one)
    assert saved["images"].shape == (len(images), 1, 28, 28) and np.array_equal(saved["labels"], labels.numpy())
    assert np.abs(saved["images"].astype(int) - expected.numpy().astype(int)).max() <= 1  # batches of 500 vs one


@pytest.fixture(scope="module")
def conditional_checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("conditional")
    data = ["data=synthetic", "data.num_samples=128", "data.batch_size=16"]
    train(compose_config(run, ["model=cgan", *TINY_CONDITIONAL["cgan"], *data, "metrics=none", "trainer.max_steps=2"]))
    return run / "checkpoints" / "last.ckpt"


def test_labels_command_generates_the_classes_asked_for_in_turn_and_saves_them(conditional_checkpoint, tmp_path):
    out = run_sample(tmp_path, f"ckpt_path={conditional_checkpoint}", "n=25", "batch_size=10", "labels=[3,7]")
    saved = np.load(out)
    asked = torch.tensor([3, 7] * 13)[:25]
    assert np.array_equal(saved["labels"], asked.numpy())
    model, _ = load_model(conditional_checkpoint)
    with torch.no_grad():  # batch b from seed b, for its share of the labels
        parts = [(0, 10), (10, 20), (20, 25)]
        expected = torch.cat(
            [
                to_uint8(model.sample(j - i, torch.Generator().manual_seed(b), labels=asked[i:j]))
                for b, (i, j) in enumerate(parts)
            ]
        )
    assert np.array_equal(saved["images"], expected.numpy())
    assert Image.open(out.with_suffix(".png")).size == (32 * 30 + 2, 2 * 30 + 2)  # a row per class, 32 columns


def test_labels_are_all_classes_in_equal_shares_by_default_and_refused_where_they_cannot_be_made(
    conditional_checkpoint, checkpoint, tmp_path
):
    model, _ = load_model(conditional_checkpoint)
    assert torch.equal(requested_labels(model, None, 30), torch.arange(30) % 10)
    assert torch.equal(requested_labels(model, "all", 30), requested_labels(model, None, 30))
    assert torch.equal(requested_labels(model, 4, 3), torch.tensor([4, 4, 4]))
    with pytest.raises(ValueError, match=r"labels=\[2, 10\] asks for labels that ConditionalGAN does not have"):
        requested_labels(model, [2, 10], 5)
    with pytest.raises(ValueError, match="labels must be all, a class"):
        requested_labels(model, "some", 5)
    unconditional, _ = load_model(checkpoint)
    assert requested_labels(unconditional, None, 5) is None
    with pytest.raises(ValueError, match="GAN is not class-conditional: it generates from noise alone"):
        requested_labels(unconditional, 3, 5)
    # the command says so in one line and exits with 1
    command = [sys.executable, "-m", "ganzoo.sample", f"ckpt_path={conditional_checkpoint}", "labels=12"]
    done = subprocess.run([*command, f"hydra.run.dir={tmp_path}"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "generates labels 0 to 9 (10 classes). Ask for labels" in done.stdout + done.stderr
