"""Latent-space walks in `ganzoo.sample`: slerp against a direct formula, walk ends equal to the sampled images, and
the command's grid and animation."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image, ImageSequence
from torchvision.utils import make_grid

from conftest import compose_config
from ganzoo.checkpoint import load_model
from ganzoo.sample import generate, interpolate, lerp, slerp, to_uint8
from ganzoo.train import train
from helpers import SYNTHETIC_PAIR, TINY, TINY_CONDITIONAL, TINY_CYCLEGAN


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained")
    data = ["data=synthetic", "data.num_samples=128", "data.batch_size=16"]
    train(compose_config(run, [*TINY["dcgan"], *data, "metrics=none", "trainer.max_steps=2"]))
    return run / "checkpoints" / "last.ckpt"


def test_slerp_is_the_great_circle_between_unit_vectors():
    a, b = torch.nn.functional.normalize(torch.randn(2, 5, 16, dtype=torch.float64), dim=-1)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    path = slerp(a, b, t)
    assert path.shape == (5, 7, 16)
    assert torch.equal(path[:, 0], a) and torch.equal(path[:, -1], b)
    assert torch.allclose(path.norm(dim=-1), torch.ones(5, 7, dtype=torch.float64))
    # rotating a by t * omega towards u, the unit vector in the plane of a and b at right angles to a
    omega = torch.acos((a * b).sum(-1, keepdim=True))
    u = torch.nn.functional.normalize(b - (a * b).sum(-1, keepdim=True) * a, dim=-1)
    for i, ti in enumerate(t):
        assert torch.allclose(path[:, i], torch.cos(ti * omega) * a + torch.sin(ti * omega) * u)
    # parallel rows: the straight line, not 0 / 0
    assert torch.allclose(slerp(a, 3 * a, t), lerp(a, 3 * a, t))
    assert torch.allclose(lerp(a, b, t)[:, 3], (a + b) / 2)


def test_walks_end_at_the_images_of_their_seeds(checkpoint):
    model, _ = load_model(checkpoint)
    images, latents = interpolate(model, walks=3, steps=5, seed=4)
    assert images.dtype == torch.uint8 and images.shape == (3, 5, 1, 28, 28) and latents.shape == (3, 5, 8)
    assert torch.equal(images[:, 0], generate(model, 3, batch_size=3, seed=4))
    assert torch.equal(images[:, -1], generate(model, 3, batch_size=3, seed=5))
    assert torch.equal(latents[:, 0], model.latent(3, torch.Generator().manual_seed(4)))
    assert not torch.equal(images[:, 1], images[:, 0]) and not torch.equal(images[:, 1], images[:, -1])
    straight, _ = interpolate(model, walks=3, steps=5, seed=4, spherical=False)
    assert torch.equal(straight[:, 0], images[:, 0]) and not torch.equal(straight, images)


def test_infogans_continuous_codes_move_along_the_line_and_each_walk_keeps_its_label():
    model = instantiate(compose_config(Path("unused"), ["model=infogan", *TINY_CONDITIONAL["infogan"]]).model).eval()
    labels = torch.tensor([3, 3, 8])
    images, latents = interpolate(model, walks=3, steps=3, seed=0, labels=labels)
    assert latents.shape == (3, 3, 6)  # 4 noise entries, then 2 continuous codes
    a, b = latents[:, 0], latents[:, -1]
    assert torch.equal(latents[:, 1, 4:], (a[:, 4:] + b[:, 4:]) / 2)  # uniform codes: halfway on the line
    assert torch.allclose(latents[:, 1, :4], slerp(a[:, :4], b[:, :4], torch.tensor([0.5]))[:, 0])
    with torch.no_grad():
        assert torch.equal(images[:, 1], to_uint8(model.generate(latents[:, 1], labels)))


def test_sample_command_writes_the_walks_grid_and_animation(checkpoint, tmp_path):
    out = tmp_path / "walk.npz"
    args = [f"ckpt_path={checkpoint}", "interpolate.walks=3", "interpolate.steps=4", f"out={out}"]
    args.append(f"hydra.run.dir={tmp_path / 'run'}")
    done = subprocess.run([sys.executable, "-m", "ganzoo.sample", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = np.load(out)
    model, _ = load_model(checkpoint)
    images, latents = interpolate(model, walks=3, steps=4)
    assert np.array_equal(saved["images"], images.flatten(0, 1).numpy())
    assert np.array_equal(saved["latents"], latents.flatten(0, 1).numpy())
    grid = np.asarray(Image.open(out.with_suffix(".png")).convert("L"))
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2)  # a row per walk, a column per step, 2-pixel padding
    assert np.array_equal(grid[2:30, 2 + 3 * 30 : 30 + 3 * 30], images[0, 3, 0].numpy())  # walk 0's last image
    with Image.open(out.with_suffix(".gif")) as gif:
        frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    order = [0, 1, 2, 3, 2, 1]  # there and back
    assert len(frames) == len(order)
    for frame, i in zip(frames, order, strict=True):
        assert np.array_equal(frame, make_grid(images[:, i], nrow=math.ceil(math.sqrt(3)))[0].numpy())


def test_a_translation_model_has_no_walks():
    model = instantiate(compose_config(Path("unused"), ["model=cyclegan", *TINY_CYCLEGAN, *SYNTHETIC_PAIR]).model)
    with pytest.raises(NotImplementedError, match="CycleGAN has no latent codes to walk between"):
        interpolate(model, walks=2, steps=3)
