"""Hydra multiruns as a user starts them: basic and submitit-local launchers, and the Optuna search."""

import json
import math
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from ganzoo.config import config_dir
from ganzoo.events import read_scalars
from ganzoo.report import main as report_main
from ganzoo.run_names import sweep_subdir

# Tiny settings as an experiment config: as command-line overrides they would all enter the run folders' names.
TINY = """# @package _global_
defaults:
  - override /data: synthetic
  - override /callbacks: [validation_metrics, stop_on_nonfinite]
data: {num_samples: 64, val_size: 16, batch_size: 16}
model:
  generator: {width: 4, latent_dim: 8}
  critic: {width: 4}
trainer:
  accelerator: cpu
  max_steps: 12
  log_every_n_steps: 1
  enable_progress_bar: false
  enable_model_summary: false
"""
SHARED_TAGS = {
    "train/critic_loss",
    "train/generator_loss",
    "train/wasserstein",
    "train/critic_real",
    "train/critic_fake",
}


def multirun(sweep_dir: Path, *args: str, returncode: int = 0) -> list[Path]:
    """`python -m ganzoo.train -m experiment=tiny ...` into sweep_dir; returns the run folders it made."""
    return run_sweep(sweep_dir, *args, returncode=returncode)[0]


def run_sweep(sweep_dir: Path, *args: str, returncode: int = 0) -> tuple[list[Path], str]:
    """As `multirun`, also returning the sweep's stderr."""
    extra = sweep_dir.parent / "extra_conf"
    (extra / "experiment").mkdir(parents=True, exist_ok=True)
    (extra / "experiment" / "tiny.yaml").write_text(TINY)
    command = ["-m", f"--config-dir={extra}", "experiment=tiny", *args, f"hydra.sweep.dir={sweep_dir}"]
    out = subprocess.run(
        [sys.executable, "-m", "ganzoo.train", *command],
        cwd=sweep_dir.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == returncode, out.stderr[-3000:]
    return sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")), out.stderr


def last(scalars: dict[str, list[tuple[int, float]]], tag: str) -> float:
    return scalars[tag][-1][1]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", "submitit_local"])
def test_two_job_multirun_gives_two_named_run_folders_with_the_shared_tags(tmp_path: Path, launcher: str):
    runs = multirun(tmp_path / "sweep", "model=wgan,wgan_gp", f"hydra/launcher={launcher}")
    assert [r.name for r in runs] == ["0_model-wgan", "1_model-wgan_gp"]
    for run in runs:
        scalars = read_scalars(run)
        assert set(scalars) >= SHARED_TAGS
        assert [step for step, _ in scalars["train/critic_loss"]] == list(range(12))
        # n_critic = 5: 12 updates are 10 critic and 2 generator updates.
        assert (last(scalars, "train/critic_updates"), last(scalars, "train/generator_updates")) == (10, 2)
        # At every step the critic's loss is its penalty minus its Wasserstein estimate (no penalty in WGAN).
        penalty = dict(scalars.get("train/gradient_penalty", []))
        wasserstein = dict(scalars["train/wasserstein"])
        for step, loss in scalars["train/critic_loss"]:
            assert math.isclose(loss, penalty.get(step, 0.0) - wasserstein[step], rel_tol=1e-5, abs_tol=1e-6)
        assert ("train/gradient_penalty" in scalars) == run.name.endswith("wgan_gp")


def typed(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """`command` as typed at a shell prompt, paths unquoted."""
    return subprocess.run(
        f"{shlex.quote(sys.executable)} -m {command}", shell=True, cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_a_sweep_checkpoint_is_evaluated_sampled_and_resumed_by_its_path_typed_as_ls_shows_it(tmp_path: Path):
    shared = ["callbacks=model_checkpoint", "seed=3", "model.generator.latent_dim=8", "data.batch_size=8"]
    runs = multirun(tmp_path / "sweep", "model=wgan,wgan_gp", *shared)
    # named by the one override in which the jobs differ; the full list stays in .hydra/overrides.yaml
    assert [run.name for run in runs] == ["0_model-wgan", "1_model-wgan_gp"]
    assert list(OmegaConf.load(runs[1] / ".hydra" / "overrides.yaml")) == ["experiment=tiny", "model=wgan_gp", *shared]
    assert all(list(run.glob("events.out.tfevents.*")) for run in runs)  # TensorBoard's run name is the folder's
    checkpoint = "sweep/1_model-wgan_gp/checkpoints/last.ckpt"

    out = typed(f"ganzoo.evaluate ckpt_path={checkpoint} metrics.num_samples=32 hydra.run.dir=eval", tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    (report,) = (tmp_path / checkpoint).parent.glob("eval_last_test_*.json")
    assert json.loads(report.read_text())["step"] == 12

    out = typed(f"ganzoo.sample ckpt_path={checkpoint} n=16 out=samples.npz hydra.run.dir=sample", tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert np.load(tmp_path / "samples.npz")["images"].shape == (16, 1, 28, 28)

    extra = tmp_path / "extra_conf"  # experiment=tiny, restored from the checkpoint, lives there
    resume = f"ckpt_path={checkpoint} callbacks=model_checkpoint trainer.max_steps=16 hydra.run.dir=resumed"
    out = typed(f"ganzoo.train --config-dir={extra} {resume}", tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    resumed = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=False)
    assert resumed["global_step"] == 16 and resumed["ganzoo"]["config"]["model"]["_target_"] == "ganzoo.models.WGANGP"

    # a sweep folder of earlier versions, named with "=" and ",": typed as ls shows it, too
    old = tmp_path / "old" / "1_experiment=tiny,model=wgan_gp"
    shutil.copytree(runs[1], old)
    out = typed(f"ganzoo.sample ckpt_path={old}/checkpoints/last.ckpt n=4 out=old.npz hydra.run.dir=s2", tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert np.load(tmp_path / "old.npz")["images"].shape == (4, 1, 28, 28)
    report_main([str(old), str(runs[0]), f"out={tmp_path / 'report.html'}"])
    rows = (tmp_path / "report.md").read_text().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| 1_experiment=tiny,model=wgan_gp", "| 0_model-wgan"]


def test_optuna_config_composes_and_a_two_trial_search_returns_the_best_trial(tmp_path: Path):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=["hparams_search=wgan_gp_optuna"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.direction == "minimize"
    assert set(sweeper.params) == {"model.optimizer_critic.lr", "model.n_critic", "model.penalty_weight"}
    assert cfg.model._target_ == "ganzoo.models.WGANGP"
    assert cfg.model.optimizer_generator.lr == cfg.model.optimizer_critic.lr

    sweep = tmp_path / "sweep"
    runs = multirun(
        sweep,
        "hparams_search=wgan_gp_optuna",
        "hydra.sweeper.n_trials=2",
        "optimized_metric=train/wasserstein",
    )
    assert len(runs) == 2
    values, params = [], []
    for run in runs:
        values.append(last(read_scalars(run), "train/wasserstein"))
        overrides = dict(o.split("=", 1) for o in OmegaConf.load(run / ".hydra" / "overrides.yaml"))
        trial = {k: float(overrides[k]) for k in sweeper.params}
        assert 1e-5 <= trial["model.optimizer_critic.lr"] <= 1e-3
        assert trial["model.n_critic"] in {1, 2, 5, 10}
        assert 1 <= trial["model.penalty_weight"] <= 100
        params.append(trial)
    result = OmegaConf.load(sweep / "optimization_results.yaml")
    best = min(range(2), key=values.__getitem__)
    assert math.isclose(result.best_value, values[best], rel_tol=1e-6)
    assert {k: float(v) for k, v in result.best_params.items()} == params[best]


@pytest.mark.slow
def test_a_sweep_with_overrides_too_long_for_a_file_name_still_runs(tmp_path: Path):
    long = "+comment=" + "a" * 300
    (run,) = multirun(tmp_path / "sweep", "model=wgan", long)
    assert run.name == sweep_subdir(0, ["experiment=tiny", "model=wgan", long])
    assert len(run.name.encode()) <= 255
    assert read_scalars(run)["train/critic_loss"][-1][0] == 11


def test_a_failing_job_does_not_stop_the_sweep_and_the_summary_names_it(tmp_path: Path):
    missing = tmp_path / "nowhere" / "last.ckpt"
    runs, stderr = run_sweep(tmp_path / "sweep", f"ckpt_path=null,{missing},null", "seed=1,2", returncode=1)
    # 3 x 2 jobs, the 2 with the missing checkpoint fail before training; the 4 others train to the end
    assert len(runs) == 6
    # (ckpt_path is left out of folder names: jobs 2 and 3 are the failed ones)
    finished = [run.name.split("_")[0] for run in runs if any(run.glob("events.out.tfevents.*"))]
    assert finished == ["0", "1", "4", "5"]
    assert all("train/critic_loss" in read_scalars(run) for run in runs if run.name.split("_")[0] in finished)
    assert "2 of 6 sweep jobs failed" in stderr
    assert stderr.count(f"ckpt_path={missing}") == 2 and "No checkpoint at" in stderr
    assert "Traceback" not in stderr
    # an error ganzoo explains leaves its message in failed.txt, without a traceback
    for run in runs:
        failed = run / "failed.txt"
        assert failed.is_file() == (run.name.split("_")[0] not in finished)
        if failed.is_file():
            assert "No checkpoint at" in failed.read_text() and "Traceback" not in failed.read_text()


def test_a_job_that_fails_unexpectedly_leaves_its_traceback_in_failed_txt(tmp_path: Path):
    runs, stderr = run_sweep(tmp_path / "sweep", "model.optimizer_critic.lr=-1,0.001", returncode=1)
    bad = next(run for run in runs if run.name.startswith("0_"))
    assert "1 of 2 sweep jobs failed" in stderr and not (runs[1] / "failed.txt").exists()
    text = (bad / "failed.txt").read_text()
    first, trace = text.split("\n\n", 1)
    assert first == "ValueError: Invalid learning rate: -1" and trace.startswith("Traceback (most recent call last)")
    assert "configure_optimizers" in trace and trace.rstrip().endswith(first)


# A 3-trial Optuna search over WGAN-GP's learning rate where 1e12 makes the losses non-finite. Random sampling,
# seeded (it draws 1e12 first): the grid sampler stops the study from inside the sweeper once its grid is used
# up, which hydra-optuna-sweeper 1.3 only tolerates when the last trial succeeded.
DIVERGING_SEARCH = """# @package _global_
defaults:
  - override /model: wgan_gp
  - override /hydra/sweeper: optuna
  - override /hydra/sweeper/sampler: random
optimized_metric: train/wasserstein
hydra:
  mode: MULTIRUN
  sweeper:
    direction: minimize
    n_trials: 3
    max_failure_rate: 1.0
    sampler:
      seed: 1
    params:
      model.optimizer_critic.lr: choice(1e-4, 1e12, 2e-4)
"""


def test_an_optuna_trial_that_diverges_is_recorded_as_failed_and_the_study_goes_on(tmp_path: Path):
    sweep = tmp_path / "sweep"
    (tmp_path / "extra_conf" / "hparams_search").mkdir(parents=True)
    (tmp_path / "extra_conf" / "hparams_search" / "diverging.yaml").write_text(DIVERGING_SEARCH)
    runs = multirun(sweep, "hparams_search=diverging")
    assert len(runs) == 3
    # named by all of a trial's overrides (Optuna sets no differing_keys): lr-<value>+experiment-tiny+...
    lrs = [float(run.name.split("lr-", 1)[1].split("+")[0]) for run in runs]
    diverged = [bool(list((run / "checkpoints").glob("nonfinite-step_*.ckpt"))) for run in runs]
    assert diverged == [lr == 1e12 for lr in lrs] and any(diverged) and not all(diverged)
    result = OmegaConf.load(sweep / "optimization_results.yaml")
    assert float(result.best_params["model.optimizer_critic.lr"]) in (1e-4, 2e-4)
