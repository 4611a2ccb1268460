"""What ganzoo promises about resuming: exact for every model, from the checkpoint alone, with a new learning
rate after a non-finite loss, after Ctrl-C, after kill -9, and with a checkpoint write cut short."""

import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import initialize_config_dir
from lightning.pytorch import Callback

import ganzoo.train
from conftest import DATA_DIR, QUIET, compose_config
from ganzoo.callbacks import NonFiniteLossError
from ganzoo.checkpoint import read_checkpoint
from ganzoo.config import config_dir
from ganzoo.models import GAN, WGAN, AdversarialModule
from ganzoo.train import build, resume_config, saved_run, train
from helpers import SMALL_DATA, SYNTHETIC_PAIR, TINY, TINY_CONDITIONAL, TINY_CYCLEGAN

pytestmark = pytest.mark.usefixtures("one_thread")

DCGAN_LIKE = TINY["dcgan"]  # the tiny widths of every DCGAN-shaped network
CYCLE_TINY = [*TINY_CYCLEGAN, "metrics=none"]
# Every model on tiny widths, on data it fits.
MODELS = {
    "gan": [*TINY["gan"], *SMALL_DATA],
    "dcgan": [*DCGAN_LIKE, *SMALL_DATA],
    "dcgan_radford": [*DCGAN_LIKE, *SMALL_DATA],
    "wgan": [*DCGAN_LIKE, *SMALL_DATA],
    "wgan_gp": [*DCGAN_LIKE, *SMALL_DATA],
    "otgan": [*DCGAN_LIKE, "model.critic.embedding_dim=8", "model.iterations=5", *SMALL_DATA],
    "cyclegan": [*CYCLE_TINY, *SYNTHETIC_PAIR],
    "cyclegan_asym": [
        *CYCLE_TINY,
        "model.critics.usps.width=4",
        *SYNTHETIC_PAIR,
    ],
    "bigan": [*DCGAN_LIKE, "model.encoder.width=4", "model.critic.hidden=8", *SMALL_DATA],
    **{name: [*tiny, *SMALL_DATA] for name, tiny in TINY_CONDITIONAL.items()},
}


def state(run: Path, name: str = "last.ckpt") -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / name, weights_only=False)["state_dict"]


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("model", sorted(MODELS))
def test_n_straight_steps_equal_half_then_resume_then_half_for_every_model(tmp_path: Path, model: str):
    # 96 training images in batches of 16: the resume point (step 4) is mid-epoch for every model
    common = [f"model={model}", *MODELS[model], "model.n_critic=1", "model.n_gen=1"]
    train(compose_config(tmp_path / "straight", [*common, "trainer.max_steps=8"]))
    train(compose_config(tmp_path / "half", [*common, "trainer.max_steps=4"]))
    last = tmp_path / "half" / "checkpoints" / "last.ckpt"
    trainer, _ = train(compose_config(tmp_path / "resumed", [*common, "trainer.max_steps=8", f"ckpt_path={last}"]))
    assert trainer.global_step == 8
    assert_same_state(state(tmp_path / "straight"), state(tmp_path / "resumed"))
    half = state(tmp_path / "half")
    assert any(not torch.equal(half[k], v) for k, v in state(tmp_path / "resumed").items())


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("dcgan_radford", []),
        ("wgan", []),
        ("wgan_gp", []),
        ("wgan_gp", ["model.penalty_every=2"]),
    ],
)
def test_reuse_fakes_resumes_exactly_from_between_a_critic_step_and_the_generator_step(
    tmp_path: Path, model: str, extra: list[str]
):
    # step 5 is a critic step: the generator step after the resume recomputes the fakes it kept, from their latents;
    # with the lazy penalty (wgan_gp_mnist_fast's combination) the resume also falls between two penalised updates
    common = [
        f"model={model}",
        *MODELS[model],
        *extra,
        "model.n_critic=1",
        "model.reuse_fakes=true",
        "model.ema.decay=0.9",
    ]
    train(compose_config(tmp_path / "straight", [*common, "trainer.max_steps=8"]))
    train(compose_config(tmp_path / "half", [*common, "trainer.max_steps=5"]))
    last = tmp_path / "half" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["ganzoo"]["kept_latents"].shape == (1, 16, 8)  # (ranks, batch, z)
    train(compose_config(tmp_path / "resumed", [*common, "trainer.max_steps=8", f"ckpt_path={last}"]))
    assert_same_state(state(tmp_path / "straight"), state(tmp_path / "resumed"))


def resumed_config(tmp_path: Path, run: str, typed: list[str]):
    """What `python -m ganzoo.train <typed>` resumes: the checkpoint's settings under those typed."""
    cfg = compose_config(tmp_path / run, typed)
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return resume_config(cfg, [*typed, f"paths.output_dir={tmp_path / run}", *QUIET])


def test_only_ckpt_path_restores_the_runs_settings_and_resumes_exactly(tmp_path: Path, monkeypatch):
    # model=gan has dropout, which draws from torch's global stream: that stream is resumed too
    common = ["model=gan", *MODELS["gan"], "seed=3"]
    train(compose_config(tmp_path / "straight", [*common, "trainer.max_steps=8"]))
    half = [*common, "trainer.max_steps=4"]
    train(compose_config(tmp_path / "half", half), half)
    typed = [f"ckpt_path={tmp_path / 'half' / 'checkpoints' / 'last.ckpt'}", "trainer.max_steps=8"]
    reads = []
    monkeypatch.setattr(ganzoo.train, "read_checkpoint", lambda path: reads.append(path) or read_checkpoint(path))
    cfg = resumed_config(tmp_path, "resumed", typed)
    assert cfg.model._target_ == "ganzoo.models.GAN" and cfg.seed == 3 and cfg.data.num_samples == 96
    assert cfg.model.generator.hidden == [16, 16] and cfg.trainer.max_steps == 8
    train(cfg, typed)
    assert_same_state(state(tmp_path / "straight"), state(tmp_path / "resumed"))
    assert len(reads) == 1  # composing and checking the resume read the checkpoint once (Lightning reads it again)


def test_the_resume_settings_are_read_again_when_the_checkpoint_file_changes(tmp_path: Path):
    common = ["model=gan", *MODELS["gan"]]
    for run, steps in (("a", 2), ("b", 4)):
        train(compose_config(tmp_path / run, [*common, f"trainer.max_steps={steps}"]), [f"trainer.max_steps={steps}"])
    last = tmp_path / "ckpt"
    shutil.copy(tmp_path / "a" / "checkpoints" / "last.ckpt", last)
    assert saved_run(str(last))["overrides"] == ["trainer.max_steps=2"]
    saved_run(str(last))["overrides"].append("changed by the caller")  # each caller gets its own copy
    assert saved_run(str(last))["overrides"] == ["trainer.max_steps=2"]
    shutil.copy(tmp_path / "b" / "checkpoints" / "last.ckpt", last)  # another run's checkpoint, same path
    written = os.stat(last).st_mtime_ns
    os.utime(last, ns=(written, written + 10**9))  # a later write (the clock behind mtimes is coarse)
    assert saved_run(str(last))["overrides"] == ["trainer.max_steps=4"]


def test_a_resume_may_change_the_learning_rate_and_trains_on_with_it(tmp_path: Path):
    common = ["model=dcgan", *MODELS["dcgan"]]
    half = [*common, "trainer.max_steps=4"]
    train(compose_config(tmp_path / "half", half), half)
    last = tmp_path / "half" / "checkpoints" / "last.ckpt"
    typed = [f"ckpt_path={last}", "trainer.max_steps=6", "model.optimizer_critic.lr=1e-5"]
    trainer, _ = train(resumed_config(tmp_path, "resumed", typed), typed)
    critic, generator = trainer.optimizers
    assert critic.param_groups[0]["lr"] == 1e-5
    assert (
        generator.param_groups[0]["lr"]
        == torch.load(last, weights_only=False)["optimizer_states"][1]["param_groups"][0]["lr"]
    )
    assert trainer.global_step == 6


def test_a_new_learning_rate_on_resume_rescales_the_schedule_and_keeps_the_optimizer_state(tmp_path: Path):
    # CycleGAN's constant-then-linear schedule: 1 constant update, then 4 decaying ones, per side
    common = [
        "model=cyclegan",
        *MODELS["cyclegan"],
        "model.scheduler_critic.lr_lambda.constant=1",
        "model.scheduler_critic.lr_lambda.decay=4",
    ]
    half = [*common, "trainer.max_steps=4"]  # 2 updates of each side
    train(compose_config(tmp_path / "half", half), half)
    last = tmp_path / "half" / "checkpoints" / "last.ckpt"
    typed = [f"ckpt_path={last}", "trainer.max_steps=6", "model.optimizer_critic.lr=1e-4"]
    trainer, module = train(resumed_config(tmp_path, "resumed", typed), typed)
    critic, generator = trainer.optimizers
    critic_schedule = trainer.lr_scheduler_configs[0]
    factor = 1 - (3 - 1) / 4  # after 3 updates of each side
    assert critic_schedule.scheduler.base_lrs == [1e-4] and critic.param_groups[0]["lr"] == pytest.approx(1e-4 * factor)
    base = module.run_config["model"]["optimizer_generator"]["lr"]  # unchanged
    assert generator.param_groups[0]["lr"] == pytest.approx(base * factor)
    # Adam went on from its saved moments: 3 steps counted, not the 1 of a fresh optimizer
    first = next(module.critics.parameters())
    assert int(critic.state[first]["step"]) == 3
    saved = torch.load(last, weights_only=False)["optimizer_states"][0]["state"][0]["step"]
    assert int(saved) == 2


def test_a_nonfinite_loss_checkpoint_resumes_with_a_lower_learning_rate(tmp_path: Path, monkeypatch):
    from ganzoo.models import gan

    original, calls = gan.discriminator_loss, {"n": 0}

    def poisoned(real, fake):  # the 3rd critic loss is NaN, as a too high learning rate would make it
        calls["n"] += 1
        return original(real, fake) * (math.nan if calls["n"] == 3 else 1.0)

    monkeypatch.setitem(gan.CRITIC_LOSSES, "bce", poisoned)
    common = ["model=dcgan", *MODELS["dcgan"]]
    with pytest.raises(NonFiniteLossError, match="at step 4"):
        train(compose_config(tmp_path / "diverged", [*common, "trainer.max_steps=8"]), common)
    saved = tmp_path / "diverged" / "checkpoints" / "nonfinite-step_4.ckpt"
    monkeypatch.setitem(gan.CRITIC_LOSSES, "bce", original)
    typed = [f"ckpt_path={saved}", "trainer.max_steps=8", "model.optimizer_critic.lr=1e-5"]
    trainer, module = train(resumed_config(tmp_path, "recovered", typed), typed)
    assert trainer.global_step == 8 and module.critic_updates == 4
    assert trainer.optimizers[0].param_groups[0]["lr"] == 1e-5


KILLER = '''
import os
import signal

import torch
from lightning.pytorch import Callback


class KillAt(Callback):
    """SIGKILL this process after training step `step`, or halfway through writing checkpoint number `save`."""

    def __init__(self, step=None, save=None):
        self.step = step
        if save is not None:
            calls, real = {"n": 0}, torch.save

            def dying_save(obj, file, *args, **kwargs):
                calls["n"] += 1
                real(obj, file, *args, **kwargs)
                if calls["n"] == save:
                    file.truncate(file.tell() // 2)
                    file.flush()
                    os.kill(os.getpid(), signal.SIGKILL)

            torch.save = dying_save

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)
'''
KILL_RUN = ["model=dcgan", *MODELS["dcgan"], "callbacks.model_checkpoint.every_n_train_steps=2", "metrics=none"]


def killed_run(tmp_path: Path, *kill: str) -> Path:
    """`python -m ganzoo.train` of KILL_RUN that kills itself as `kill` says; returns its run folder."""
    (tmp_path / "killer.py").write_text(KILLER)
    run = tmp_path / "killed"
    command = [sys.executable, "-m", "ganzoo.train", *KILL_RUN, "trainer.max_steps=20", f"hydra.run.dir={run}"]
    command += [f"paths.data_dir={DATA_DIR}", *QUIET, "+callbacks.kill._target_=killer.KillAt", *kill]
    # one thread, as the in-process runs it is compared with: another thread count sums in another order
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    out = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == -signal.SIGKILL, out.stderr[-2000:]
    return run


def test_a_run_killed_mid_training_resumes_from_last_ckpt_as_if_never_killed(tmp_path: Path):
    run = killed_run(tmp_path, "+callbacks.kill.step=5")
    last = run / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 4  # lost: the step since the last save
    train(compose_config(tmp_path / "resumed", [*KILL_RUN, "trainer.max_steps=8", f"ckpt_path={last}"]))
    train(compose_config(tmp_path / "straight", [*KILL_RUN, "trainer.max_steps=8"]))
    assert_same_state(state(tmp_path / "straight"), state(tmp_path / "resumed"))


def test_a_kill_in_the_middle_of_a_checkpoint_write_leaves_the_previous_last_ckpt_whole(tmp_path: Path):
    run = killed_run(tmp_path, "+callbacks.kill.save=2")  # the step-4 save dies halfway
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 2
    trainer, _ = train(
        compose_config(
            tmp_path / "resumed", [*KILL_RUN, "trainer.max_steps=4", f"ckpt_path={run}/checkpoints/last.ckpt"]
        )
    )
    assert trainer.global_step == 4


class InterruptAt(Callback):
    """Ctrl-C in the middle of a training step (after the batch was fetched), as a user would press it."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_last_ckpt_exact_and_saves_the_latest_weights_apart(tmp_path: Path):
    cfg = compose_config(tmp_path / "interrupted", [*KILL_RUN, "trainer.max_steps=8"])
    trainer, model, datamodule = build(cfg)
    trainer.callbacks.insert(0, InterruptAt(5))
    with pytest.raises(SystemExit):  # Lightning's graceful shutdown after a KeyboardInterrupt
        trainer.fit(model, datamodule=datamodule)
    folder = tmp_path / "interrupted" / "checkpoints"
    # documented: interrupted-step_<N>.ckpt holds the latest weights but was taken mid-step; last.ckpt is exact
    assert torch.load(folder / "interrupted-step_5.ckpt", weights_only=False)["global_step"] == 5
    assert torch.load(folder / "last.ckpt", weights_only=False)["global_step"] == 4
    train(compose_config(tmp_path / "resumed", [*KILL_RUN, "trainer.max_steps=8", f"ckpt_path={folder / 'last.ckpt'}"]))
    train(compose_config(tmp_path / "straight", [*KILL_RUN, "trainer.max_steps=8"]))
    assert_same_state(state(tmp_path / "straight"), state(tmp_path / "resumed"))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_load_from_checkpoint_gives_the_trained_module_for_every_model(tmp_path: Path, model: str):
    _, trained = train(compose_config(tmp_path, [f"model={model}", *MODELS[model], "trainer.max_steps=2"]))
    last = tmp_path / "checkpoints" / "last.ckpt"
    loaded = type(trained).load_from_checkpoint(last)
    assert type(loaded) is type(trained) and not loaded.training
    assert type(AdversarialModule.load_from_checkpoint(last)) is type(trained)
    trained.eval()
    if hasattr(trained, "domains"):
        images = torch.rand(3, 1, 28, 28) * 2 - 1
        assert torch.equal(trained.translate(images, "mnist"), loaded.translate(images, "mnist"))
    else:
        # the sampling API, which conditional models extend with labels: equal seeds give equal images
        samples = [m.sample(10, torch.Generator().manual_seed(0)) for m in (trained, loaded)]
        assert torch.equal(*samples)


def test_load_from_checkpoint_refuses_another_class_and_hyper_parameter_overrides(tmp_path: Path):
    train(compose_config(tmp_path, ["model=dcgan", *MODELS["dcgan"], "trainer.max_steps=2"]))
    last = tmp_path / "checkpoints" / "last.ckpt"
    with pytest.raises(TypeError, match="holds a GAN, not a WGAN"):
        WGAN.load_from_checkpoint(last)
    with pytest.raises(TypeError, match="no hyper-parameter overrides"):
        GAN.load_from_checkpoint(last, n_critic=2)
