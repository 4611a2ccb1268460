"""Metrics during training: logged to TensorBoard every metrics.every_n_steps, without disturbing training."""

import glob
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganzoo.train import build, objective, train
from helpers import TINY, metrics_of

RUN = [
    *TINY["dcgan"],
    "data=synthetic",
    "data.num_samples=256",
    "data.val_size=64",
    "data.batch_size=16",
    "metrics.every_n_steps=3",
    "metrics.num_samples=200",
    "metrics.batch_size=100",
    "metrics.kid_subset_size=50",
    "metrics.kid_subsets=2",
    "trainer.max_steps=6",
]


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(glob.glob(str(run / "events.out.tfevents.*"))[0])
    events.Reload()
    return {t: [(e.step, e.value) for e in events.Scalars(t)] for t in events.Tags()["scalars"]}


def test_val_metrics_reach_tensorboard_every_n_steps_and_training_is_unchanged(make_config):
    with_metrics = make_config(*RUN, run="metrics")
    trainer, model, datamodule = build(with_metrics)
    real_updates = []
    metrics = metrics_of(trainer)
    original = metrics.update
    metrics.update = lambda images, real: (real_updates.append(real), original(images, real))[1]
    trainer.fit(model, datamodule=datamodule)
    logged = scalars(Path(with_metrics.paths.output_dir))
    for tag in ("val/fid", "val/is", "val/kid", "val/modes"):
        # Lightning logs a step's values at (steps done - 1), training and validation alike
        assert [step for step, _ in logged[tag]] == [2, 5], tag
    assert all(v > 0 for _, v in logged["val/fid"])
    # the real held-out split went through the extractor once (4 batches of 16), not at every validation
    assert real_updates.count(True) == 4
    assert objective(trainer, with_metrics.optimized_metric) == logged["val/fid"][-1][1]
    assert model.generator.training

    # The same run without metrics ends with identical weights and random stream: validation drew nothing
    # from the model's rng or the global generator.
    plain_run = [o for o in RUN if not o.startswith("metrics.")]
    _, plain = train(make_config(*plain_run, "metrics=none", run="plain"))
    for (name, a), b in zip(model.state_dict().items(), plain.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert torch.equal(model.rng.get_state(), plain.rng.get_state())


def test_metrics_none_means_no_validation_and_no_default_objective(make_config):
    cfg = make_config(*[o for o in RUN if not o.startswith("metrics.")], "metrics=none")
    assert cfg.optimized_metric is None
    trainer, _ = train(cfg)
    assert metrics_of(trainer) is None
    assert not any(k.startswith("val/") for k in trainer.callback_metrics)


def test_checkpoints_hold_no_feature_network(make_config):
    cfg = make_config(*RUN, "trainer.max_steps=3")
    train(cfg)
    state = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert state and all(k.startswith(("generator.", "critic.")) for k in state)
