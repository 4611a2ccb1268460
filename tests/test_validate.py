"""Settings that cannot work are refused before any data is read, in one paragraph that names the key."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import compose_config
from ganzoo.config import ConfigError
from ganzoo.validate import check_config

# (overrides, the key or choice the message must name)
BAD = [
    (["data.batch_size=-1"], "data.batch_size"),
    (["data.batch_size=0"], "data.batch_size"),
    (["data.num_workers=-1"], "data.num_workers"),
    (["model=cyclegan", "data=mnist"], "data=mnist_usps"),
    (["model=dcgan", "data=mnist_usps"], "data=mnist or data=usps"),
    (["model.generator.image_size=32"], "model.generator.image_size=32"),
    (["model=wgan_gp", "model.critic.channels=3"], "model.critic.channels=3"),
    (["metrics.extractor.classifier=svhn"], "metrics.extractor.classifier"),
    (["metrics.num_samples=100", "metrics.batch_size=500"], "metrics.num_samples=100"),
]
if not torch.cuda.is_available():
    # (the tests' own settings pin trainer.accelerator=cpu; typed last, the group's choice is back)
    BAD += [
        (["trainer=gpu", "trainer.accelerator=gpu"], "trainer=gpu"),
        (["trainer=ddp", "trainer.accelerator=gpu"], "trainer=cpu"),
    ]


@pytest.mark.parametrize(("overrides", "named"), BAD, ids=[" ".join(o) for o, _ in BAD])
def test_a_setting_that_cannot_work_is_refused_by_name(tmp_path: Path, overrides: list[str], named: str):
    with pytest.raises(ConfigError) as refused:
        check_config(compose_config(tmp_path, overrides))
    assert named in str(refused.value)


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan_gp", "otgan", "bigan"])
def test_every_generative_model_passes_on_mnist_and_cyclegan_on_mnist_usps(tmp_path: Path, model: str):
    check_config(compose_config(tmp_path, [f"model={model}"]))
    check_config(compose_config(tmp_path, ["model=cyclegan", "data=mnist_usps"]))


# (overrides, what the one error line must say); the truncated checkpoint is written by the test.
REFUSED = [
    (["data.batch_size=-1"], "data.batch_size"),
    (["model=cyclegan", "data=mnist"], "data=mnist_usps"),
    (["model.n_critic=0"], "model.n_critic"),
    (["ckpt_path={truncated}"], "not a readable checkpoint"),
]
if not torch.cuda.is_available():
    REFUSED.append((["trainer=gpu"], "trainer=cpu"))


@pytest.mark.parametrize(("overrides", "said"), REFUSED, ids=[" ".join(o) for o, _ in REFUSED])
def test_a_refused_run_prints_its_one_paragraph_first_in_a_few_lines(tmp_path: Path, overrides: list[str], said: str):
    truncated = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    typed = [o.format(truncated=truncated) for o in overrides]
    out = subprocess.run(
        [sys.executable, "-m", "ganzoo.train", *typed, f"hydra.run.dir={tmp_path}", "data.data_dir=/nonexistent"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    printed = (out.stdout + out.stderr).splitlines()
    assert out.returncode == 1
    # no config (it is printed only for runs that start), no traceback: the message, at most a few lines
    assert len(printed) <= 10, "\n".join(printed)
    assert not any("Traceback" in line or line.startswith("model:") for line in printed)
    # refused before the data was read: the data folder does not even exist
    errors = [line for line in printed if "ERROR" in line]
    assert len(errors) == 1 and said in errors[0]


@pytest.mark.parametrize(("logger", "extra"), [("mlflow", ".[mlflow]"), ("wandb", ".[wandb]")])
def test_an_optional_logger_without_its_package_names_the_extra(tmp_path: Path, monkeypatch, logger: str, extra: str):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == logger else real(name, *a))
    with pytest.raises(ConfigError) as refused:
        check_config(compose_config(tmp_path, [f"logger={logger}"]))
    assert str(refused.value) == f"logger={logger} needs the {logger} package: pip install -e '{extra}'."
