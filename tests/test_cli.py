"""The command line as a user types it: config printing, help, clean errors, a run folder, a resume."""

import subprocess
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf

TINY_RUN = [
    "data=synthetic",
    "data.num_samples=64",
    "data.val_size=16",
    "data.batch_size=16",
    "model.generator.width=4",
    "model.critic.width=4",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
]


def ganzoo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo.train", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_cfg_job_prints_the_composed_config(tmp_path: Path):
    out = ganzoo("--cfg", "job", "model=gan", "data=usps", "model.n_critic=2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    cfg = OmegaConf.create(out.stdout)
    assert cfg.model._target_ == "ganzoo.models.GAN"
    assert cfg.model.generator._target_ == "ganzoo.nets.MLPGenerator"
    assert cfg.data._target_ == "ganzoo.data.USPSDataModule"
    assert cfg.model.n_critic == 2


def test_help_lists_the_config_groups(tmp_path: Path):
    out = ganzoo("--help", cwd=tmp_path)
    assert out.returncode == 0
    assert "model: dcgan, dcgan_radford, gan" in out.stdout.replace("\n", " ") or "dcgan_radford" in out.stdout
    for group in ("data:", "trainer:", "logger:", "callbacks:", "experiment:"):
        assert group in out.stdout


def test_missing_dataset_is_one_clear_message_not_a_traceback(tmp_path: Path):
    out = ganzoo(
        "data=mnist", f"paths.data_dir={tmp_path / 'empty'}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path
    )
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert "MNIST was not found" in text and "GANZOO_DATA_DIR" in text
    assert "Traceback" not in text


def test_a_run_folder_then_a_resume_from_its_last_checkpoint(tmp_path: Path):
    first = tmp_path / "first"
    out = ganzoo(*TINY_RUN, "trainer.max_steps=3", f"hydra.run.dir={first}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (first / ".hydra" / "config.yaml").exists()
    assert list(first.glob("events.out.tfevents.*"))
    assert (first / "samples" / "step_0000003.png").exists()
    last = first / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 3

    second = tmp_path / "second"
    out = ganzoo(*TINY_RUN, "trainer.max_steps=5", f"ckpt_path={last}", f"hydra.run.dir={second}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    state = torch.load(second / "checkpoints" / "last.ckpt", weights_only=False)
    assert state["global_step"] == 5
    assert (state["ganzoo"]["critic_updates"], state["ganzoo"]["generator_updates"]) == (3, 2)
    assert state["ganzoo"]["config"]["model"]["_target_"] == "ganzoo.models.GAN"

    # resuming under other model settings: one message naming the change and the original overrides
    out = ganzoo(*TINY_RUN, "model.n_critic=3", f"ckpt_path={last}", f"hydra.run.dir={tmp_path / 'x'}", cwd=tmp_path)
    said = out.stdout + out.stderr
    assert out.returncode == 1 and "Traceback" not in said
    assert "model.n_critic: 1 -> 3" in said and str(first / ".hydra" / "overrides.yaml") in said


def test_debug_fdr_runs_one_batch_writes_no_checkpoint_and_exits_0(tmp_path: Path):
    out = ganzoo("debug=fdr", *TINY_RUN, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "`Trainer.fit` stopped: `max_steps=1` reached" in out.stdout + out.stderr
    assert not list((tmp_path / "run").rglob("*.ckpt"))


NOISE = ["weights_only", "litlogger", "FLOPs", "Epoch 0/-2", "critic_los…", "Traceback", "LeafSpec"]


def test_a_run_prints_none_of_the_known_noise_and_its_train_log_holds_lightnings_lines(tmp_path: Path):
    run = tmp_path / "run"
    args = [*TINY_RUN, "trainer.enable_progress_bar=true", "trainer.max_epochs=-1", "trainer.max_steps=3"]
    out = ganzoo(*args, "metrics=none", f"hydra.run.dir={run}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    printed = out.stdout + out.stderr
    assert [noise for noise in NOISE if noise in printed] == []
    assert "generator: DCGANGenerator" in printed  # the one-line network summary
    assert "Config (as in .hydra/config.yaml" in printed and "\nmodel:\n" in printed  # printed for a run that starts
    log = (run / "train.log").read_text()
    assert "`Trainer.fit` stopped: `max_steps=3` reached" in log and "Seed set to 0" in log
    # and evaluating the checkpoint is as quiet
    evaluate = [sys.executable, "-m", "ganzoo.evaluate", f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"]
    evaluate += ["metrics.num_samples=32", f"hydra.run.dir={tmp_path / 'eval'}"]
    out = subprocess.run(evaluate, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    printed = out.stdout + out.stderr
    assert "fid" in printed and [noise for noise in NOISE if noise in printed] == []
