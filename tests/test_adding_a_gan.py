"""The example of docs/adding_a_gan.md, read from the page itself, trains and is a least-squares GAN.

The page's code blocks that start with a `# <path>` line are written to those paths in a temporary project, and its
first `python -m ganzoo.train --config-dir ...` command is composed with tiny settings and trained, as a reader
would run it from that project.
"""

import re
import shlex
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from conftest import DATA_DIR, QUIET
from ganzoo.checkpoint import load_model
from ganzoo.config import config_dir
from ganzoo.train import build
from helpers import SMALL_DATA

PAGE = Path(__file__).resolve().parents[1] / "docs" / "adding_a_gan.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
TINY_LSGAN = ["model.generator.width=4", "model.critic.width=4", "model.generator.latent_dim=8"]


def page_files() -> dict[str, str]:
    """Each code block whose first line is `# <relative path>`, by that path."""
    files = {}
    for _, body in BLOCK.findall(PAGE.read_text()):
        first = body.splitlines()[0]
        if re.fullmatch(r"# [\w/]+\.(py|yaml)", first):
            files[first[2:]] = body
    return files


def train_command() -> list[str]:
    """The arguments of the page's first `python -m ganzoo.train --config-dir` line."""
    for language, body in BLOCK.findall(PAGE.read_text()):
        for line in body.splitlines():
            if language == "bash" and line.startswith("python -m ganzoo.train --config-dir"):
                return shlex.split(line.split("#")[0])[3:]
    raise AssertionError(f"{PAGE} has no `python -m ganzoo.train --config-dir` command")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reader's project folder, holding the page's files, on the import path as `python -m` puts it."""
    files = page_files()
    assert set(files) == {"my_gans/lsgan.py", "my_conf/model/lsgan.yaml"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "my_gans" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "my_gans" or m.startswith("my_gans.")]:
        del sys.modules[name]


def test_the_pages_lsgan_trains_from_its_command_and_its_losses_are_least_squares(project: Path):
    args = train_command()
    assert args[:2] == ["--config-dir", "my_conf"] and "model=lsgan" in args
    overrides = [f"hydra.searchpath=[file://{project / args[1]}]", *args[2:]]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(
            config_name="train",
            overrides=[
                *overrides,
                f"paths.output_dir={project / 'run'}",
                f"paths.data_dir={DATA_DIR}",
                *QUIET,
                *SMALL_DATA,
                *TINY_LSGAN,
                "metrics=none",
                "trainer.max_steps=6",
            ],
        )
    trainer, model, datamodule = build(cfg)
    assert type(model).__module__ == "my_gans.lsgan" and type(model).__name__ == "LSGAN"
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    trainer.fit(model, datamodule=datamodule)
    trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert trainer.global_step == 6 and (model.critic_updates, model.generator_updates) == (3, 3)
    for prefix in ("generator.", "critic."):
        assert all(not torch.equal(p, before[k]) for k, p in model.named_parameters() if k.startswith(prefix))

    # Both phases, against the least-squares losses computed here from the same latent codes.
    real, labels = next(iter(datamodule.train_dataloader()))
    model.train()
    start = model.rng.get_state()
    critic_loss = model.critic_step((real, labels))
    model.rng.set_state(start)
    z = torch.randn(len(real), 8, generator=model.rng)
    with torch.no_grad():
        fake = model.generator(z)
        expected = 0.5 * (model.critic(real) - 1).pow(2).mean() + 0.5 * model.critic(fake).pow(2).mean()
    torch.testing.assert_close(critic_loss, expected)
    model.rng.set_state(start)
    generator_loss = model.generator_step((real, labels))
    with torch.no_grad():
        expected = 0.5 * (model.critic(model.generator(z)) - 1).pow(2).mean()
    torch.testing.assert_close(generator_loss, expected)

    # The checkpoint rebuilds the trained model from its own config, as ganzoo.sample and ganzoo.evaluate do.
    loaded, _ = load_model(project / "run" / "checkpoints" / "last.ckpt")
    assert type(loaded).__name__ == "LSGAN"
    assert loaded.state_dict().keys() == trained.keys()
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, trained[key]), key
