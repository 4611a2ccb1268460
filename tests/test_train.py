"""End-to-end training through the real configs: schedule, resume, determinism, DDP, real data."""

import csv
import math
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback

from conftest import requires_mnist
from ganzoo.callbacks import NonFiniteLossError
from ganzoo.checkpoint import resume_changes
from ganzoo.config import ConfigError
from ganzoo.events import read_scalars
from ganzoo.train import build, train
from helpers import SMALL_DATA, TINY, fit_on_two_ranks, fit_recording


def changed(model, before, prefix: str) -> bool:
    return all(not torch.equal(p, before[k]) for k, p in model.named_parameters() if k.startswith(prefix))


@pytest.mark.parametrize("model", sorted(TINY))
def test_short_fit_updates_both_networks_with_finite_losses(make_config, model: str):
    cfg = make_config(f"model={model}", *TINY[model], *SMALL_DATA, "trainer.max_steps=6")
    trainer, module, updates, before = fit_recording(cfg)
    assert trainer.global_step == 6 == len(updates)
    assert updates == list("CGCGCG")
    for tag in ("train/critic_loss", "train/generator_loss", "train/critic_real", "train/critic_fake"):
        assert math.isfinite(trainer.callback_metrics[tag])
    assert changed(module, before, "generator.") and changed(module, before, "critic.")
    assert (module.critic_updates, module.generator_updates) == (3, 3)
    run = Path(cfg.paths.output_dir)
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert (run / "samples" / "step_0000006.png").exists()
    assert list(run.glob("events.out.tfevents.*"))


def test_n_critic_three_means_three_critic_updates_per_generator_update(make_config):
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "model.n_critic=3", "trainer.max_steps=12")
    trainer, module, updates, _ = fit_recording(cfg)
    assert "".join(updates) == "CCCG" * 3
    assert (module.critic_updates, module.generator_updates) == (9, 3)
    assert trainer.global_step == 12


def test_n_gen_cycles_generator_updates_too(make_config):
    cfg = make_config(*TINY["gan"], "model=gan", *SMALL_DATA, "model.n_gen=2", "trainer.max_steps=7")
    _, _, updates, _ = fit_recording(cfg)
    assert "".join(updates) == "CGGCGGC"


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=False)["state_dict"]


def test_resume_from_last_checkpoint_is_exact(make_config):
    # 80 training images in batches of 16: 5 steps an epoch, so the resume point (4) is mid-epoch
    # and the second half crosses an epoch boundary.
    common = [*TINY["dcgan"], *SMALL_DATA, "model.n_critic=2"]
    straight = make_config(*common, "trainer.max_steps=8", run="straight")
    half = make_config(*common, "trainer.max_steps=4", run="half")
    train(straight)
    train(half)
    last = Path(half.paths.output_dir) / "checkpoints" / "last.ckpt"
    resumed = make_config(*common, "trainer.max_steps=8", f"ckpt_path={last}", run="resumed")
    trainer, module = train(resumed)
    assert trainer.global_step == 8 and (module.critic_updates, module.generator_updates) == (6, 2)
    a = _weights(Path(straight.paths.output_dir) / "checkpoints" / "last.ckpt")
    b = _weights(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # and the resumed half really trained: weights moved away from the checkpoint it started from
    assert not torch.equal(_weights(last)["generator.project.0.weight"], b["generator.project.0.weight"])


def test_resume_refuses_other_model_or_data_settings_but_not_other_trainer_or_data_folder(make_config, tmp_path):
    common = [*TINY["dcgan"], *SMALL_DATA]
    first = make_config(*common, "trainer.max_steps=2", run="first")
    train(first)
    last = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError) as refused:
        train(make_config(*common, "model.n_critic=2", "data.batch_size=8", f"ckpt_path={last}", run="other"))
    message = str(refused.value)
    assert "model.n_critic: 1 -> 2" in message and "data.batch_size: 16 -> 8" in message
    assert str(Path(first.paths.output_dir) / ".hydra" / "overrides.yaml") not in message  # no Hydra run here
    with pytest.raises(ConfigError, match="No checkpoint at"):
        train(make_config(*common, f"ckpt_path={tmp_path / 'missing.ckpt'}", run="missing"))
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(last.read_bytes()[:1000])  # what a kill in the middle of a write would leave
    with pytest.raises(ConfigError, match=r"truncated\.ckpt is not a readable checkpoint \(truncated or corrupt"):
        train(make_config(*common, f"ckpt_path={truncated}", run="truncated"))
    moved = make_config(*common, "trainer.max_steps=3", f"paths.data_dir={tmp_path}", f"ckpt_path={last}", run="on")
    trainer, _ = train(moved)
    assert trainer.global_step == 3


def test_resume_changes_lists_nested_differences_and_ignores_where_data_lives():
    saved = {"model": {"n_critic": 1, "critic": {"width": 4}}, "data": {"data_dir": "/a", "batch_size": 16}}
    current = {
        "model": {"n_critic": 1, "critic": {"width": 8}, "extra": 0},
        "data": {"data_dir": "/b", "batch_size": 16},
    }
    assert resume_changes(saved, current) == ["model.critic.width: 4 -> 8", "model.extra: <absent> -> 0"]
    assert resume_changes(saved, saved) == []


def _losses(run: Path) -> list[tuple[str, str]]:
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    # rows of the training step (lr_monitor's learning rates arrive in rows of their own)
    return [(r["train/critic_loss"], r["train/generator_loss"]) for r in rows if r["train/critic_loss"]]


def test_same_seed_gives_identical_losses_and_another_seed_does_not(make_config):
    args = [*TINY["dcgan"], *SMALL_DATA, "logger=csv", "trainer.max_steps=6"]
    runs = {name: make_config(*args, f"seed={seed}", run=name) for name, seed in (("a", 1), ("b", 1), ("c", 2))}
    for cfg in runs.values():
        train(cfg)
    a, b, c = (_losses(Path(cfg.paths.output_dir)) for cfg in runs.values())
    assert len(a) == 6 and all(x for x, _ in a) and all(y for _, y in a[1:])  # no G update before step 1
    assert a == b
    assert a != c


def test_training_values_are_logged_only_on_the_steps_the_loggers_write_and_at_the_last(make_config):
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "logger=csv", "trainer.max_steps=10", "trainer.log_every_n_steps=4")
    trainer, _ = train(cfg)
    with open(Path(cfg.paths.output_dir) / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["train/critic_loss"]]
    # steps 4 and 8 (CSV counts from 0), each with both phases' latest values
    assert [(r["step"], r["train/critic_updates"], r["train/generator_updates"]) for r in rows] == [
        ("3", "2.0", "2.0"),
        ("7", "4.0", "4.0"),
    ]
    assert all(r["train/generator_loss"] for r in rows)
    assert trainer.callback_metrics["train/critic_updates"] == 5  # the last step's values, for callbacks


def test_nonfinite_loss_stops_with_step_and_checkpoint(make_config, monkeypatch):
    calls = {"n": 0}
    from ganzoo.models import gan

    original = gan.discriminator_loss

    def poisoned(real, fake):
        calls["n"] += 1
        return original(real, fake) * (math.nan if calls["n"] == 2 else 1.0)

    monkeypatch.setitem(gan.CRITIC_LOSSES, "bce", poisoned)
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "trainer.max_steps=10")
    with pytest.raises(NonFiniteLossError, match=r"train/critic_loss became nan at step 2") as info:
        train(cfg)
    saved = Path(cfg.paths.output_dir) / "checkpoints" / "nonfinite-step_2.ckpt"
    assert saved.exists() and str(saved) in str(info.value)
    assert torch.load(saved, weights_only=False)["ganzoo"]["critic_updates"] == 1

    calls["n"] = 0
    tolerant = make_config(*TINY["dcgan"], *SMALL_DATA, "trainer.max_steps=4", "~callbacks.stop_on_nonfinite", run="on")
    trainer, _ = train(tolerant)
    assert trainer.global_step == 4


@requires_mnist
def test_short_fit_on_real_mnist(make_config):
    cfg = make_config(*TINY["dcgan"], "data=mnist", "data.batch_size=16", "trainer.max_steps=6")
    trainer, module, updates, before = fit_recording(cfg)
    assert updates == list("CGCGCG")
    assert math.isfinite(trainer.callback_metrics["train/critic_loss"])
    assert changed(module, before, "generator.") and changed(module, before, "critic.")


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_keeps_ranks_identical(make_config, tmp_path: Path):
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "trainer=ddp_cpu", "trainer.max_steps=4")
    initial, rank0, rank1 = fit_on_two_ranks(cfg, tmp_path)
    assert rank0.keys() == initial.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert not torch.equal(rank0["generator.project.0.weight"], initial["generator.project.0.weight"])
    assert not torch.equal(rank0["critic.head.weight"], initial["critic.head.weight"])


class StopAtStep(Callback):
    """Stops training the way a timer or early stopping does: by setting should_stop at a batch end."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            trainer.should_stop = True


@pytest.mark.parametrize("stop", ["should_stop", "max_epochs"])
def test_last_checkpoint_is_written_when_training_stops_for_any_reason(make_config, stop: str):
    # every_n_train_steps=2: a periodic last.ckpt exists at step 2, so Lightning alone would leave it there
    args = [*TINY["dcgan"], *SMALL_DATA, "callbacks.model_checkpoint.every_n_train_steps=2"]
    if stop == "should_stop":
        cfg = make_config(*args, "trainer.max_steps=10")
        trainer, model, datamodule = build(cfg)
        trainer.callbacks.insert(0, StopAtStep(3))
        trainer.fit(model, datamodule=datamodule)
        expected = 3
    else:
        cfg = make_config(*args, "trainer.max_epochs=1")  # 80 images in batches of 16: 5 steps
        trainer, _ = train(cfg)
        expected = 5
    state = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=False)
    assert trainer.global_step == expected == state["global_step"]
    for key, value in state["state_dict"].items():
        assert torch.equal(value, trainer.lightning_module.state_dict()[key]), key


def test_best_checkpoint_keeps_the_checkpoint_of_the_lowest_val_fid(make_config):
    cfg = make_config(
        *TINY["dcgan"],
        *SMALL_DATA,
        "callbacks=[default,best_checkpoint]",
        "callbacks.best_checkpoint.save_top_k=1",
        "metrics.every_n_steps=2",
        "metrics.num_samples=64",
        "metrics.batch_size=32",
        "metrics.kid_subset_size=16",
        "trainer.max_steps=8",
    )
    trainer, _ = train(cfg)
    fids = read_scalars(cfg.paths.output_dir)["val/fid"]
    assert len(fids) == 4
    best_step, best_fid = min(fids, key=lambda pair: pair[1])
    (saved,) = (Path(cfg.paths.output_dir) / "checkpoints" / "best").glob("*.ckpt")
    assert saved.name == f"step_{best_step + 1}.ckpt"  # events count from 0, checkpoints after the update
    assert math.isclose(float(trainer.checkpoint_callbacks[-1].best_model_score), best_fid, rel_tol=1e-6)


def test_the_event_file_holds_an_hparams_summary_with_the_results_and_a_custom_scalars_layout(make_config):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.custom_scalar import layout_pb2
    from tensorboard.plugins.hparams import plugin_data_pb2

    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "trainer.max_steps=2", "model.n_critic=2")
    train(cfg)
    (events,) = Path(cfg.paths.output_dir).glob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert {"val/fid", "val/is", "val/modes", "train/critic_loss"} <= {m.name.tag for m in experiment.metric_infos}
    session = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    assert session.hparams["model.n_critic"].number_value == 2
    assert session.hparams["model._target_"].string_value == "ganzoo.models.GAN"
    (event,) = accumulator.Tensors("custom_scalars__config__")  # the layout travels as a string tensor
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    charts = {chart.title: list(chart.multiline.tag) for category in layout.category for chart in category.chart}
    assert charts["real vs fake"] == [r"train/critic_(real|fake)$"]


def test_an_mlflow_run_has_its_scalars_and_the_sample_grids_in_the_local_store(make_config, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlruns"
    monkeypatch.setenv("GANZOO_MLRUNS", str(store))
    cfg = make_config(
        *TINY["dcgan"], *SMALL_DATA, "logger=mlflow", "trainer.max_steps=4", "callbacks.sample_grid.every_n_steps=2"
    )
    trainer, _ = train(cfg)
    client = MlflowClient(tracking_uri=f"file:{store}")
    run_id = trainer.logger.run_id
    history = client.get_metric_history(run_id, "train/critic_loss")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert client.get_run(run_id).data.params["model/_target_"] == "ganzoo.models.GAN"  # Lightning joins with /
    grids = {Path(a.path).name for a in client.list_artifacts(run_id, "samples")}
    assert {"step_0000002.png", "step_0000004.png"} <= grids


def test_an_offline_wandb_run_writes_its_run_folder(make_config, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "logger=wandb", "trainer.max_steps=2")
    trainer, _ = train(cfg)
    trainer.logger.experiment.finish()
    (run,) = (Path(cfg.paths.output_dir) / "wandb").glob("offline-run-*")
    assert list(run.glob("*.wandb"))
