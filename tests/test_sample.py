"""`ganzoo.sample`: uint8 N x C x H x W images in an .npz plus a PNG grid; translate= for two-domain models."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import compose_config
from ganzoo.checkpoint import load_model
from ganzoo.data import SyntheticDataModule
from ganzoo.models import GAN
from ganzoo.sample import to_uint8, translate
from ganzoo.train import train
from helpers import TINY


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
