"""Metrics on several processes: the same samples, in the same order, and the same values as one process."""

import logging
from unittest import mock

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from ganzoo.callbacks import ValidationMetrics
from ganzoo.metrics import DigitExtractor, GenerativeMetrics
from ganzoo.metrics.extractor import FeatureExtractor
from ganzoo.metrics.generative import agreed
from ganzoo.train import build
from helpers import TINY, metrics_of, tensors_of

# 512 synthetic images, 256 of them held out: enough real samples for a well-conditioned 128-d covariance.
METRICS_RUN = [
    *TINY["dcgan"],
    "data=synthetic",
    "data.num_samples=512",
    "data.val_size=256",
    "data.batch_size=32",
    "metrics.num_samples=600",
    "metrics.batch_size=100",
    "metrics.kid_subset_size=200",
    "metrics.kid_subsets=5",
    "logger=csv",
]


class RandomImages(nn.Module):
    """A fixed random map from codes to varied images. An untrained tiny DCGAN gives nearly one image over and
    over, whose features have a near-singular covariance: FID's matrix square root then turns float rounding
    (batches of other composition on other ranks) into differences of percents, and the test would test luck."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.map = nn.Linear(latent_dim, 28 * 28)
        with torch.no_grad():
            self.map.weight.copy_(torch.randn(28 * 28, latent_dim, generator=torch.Generator().manual_seed(0)))
            self.map.bias.zero_()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.map(z)).view(-1, 1, 28, 28)


def validate(cfg) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """The logged values, and a copy of every tensor of the metrics that this (parent) process holds after."""
    trainer, model, datamodule = build(cfg)
    model.generator = RandomImages(model.generator.latent_dim)
    trainer.validate(model, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}, tensors_of(metrics_of(trainer))


@pytest.mark.slow
def test_fid_on_two_processes_equals_fid_on_one(make_config):
    one, _ = validate(make_config(*METRICS_RUN, "trainer=cpu", run="one"))
    before = tensors_of(metrics_of(build(make_config(*METRICS_RUN, "trainer=ddp_cpu", run="fresh"))[0]))
    two, after = validate(make_config(*METRICS_RUN, "trainer=ddp_cpu", run="two"))
    assert one["val/fid"] > 0 and one["val/precision"] > 0 and one["val/recall"] > 0  # a non-degenerate case
    # every logged value of both runs in the message: a mismatch in modes or IS too means other samples.
    # The same features summed in another order: equal up to rounding. Sums that count every sample twice
    # move FID by 7e-6 here; ranks adding into one shared sum at once lose updates and move it by anything.
    assert two["val/fid"] == pytest.approx(one["val/fid"], rel=1e-6), f"one process: {one}\ntwo processes: {two}"
    assert two["val/modes"] == one["val/modes"]
    # the features are gathered in one process's order, so IS's splits and KID's subsets are the same ones
    for name in ("is", "kid"):
        assert two[f"val/{name}"] == pytest.approx(one[f"val/{name}"], rel=1e-6), f"{name}: {one} against {two}"
    for name in ("precision", "recall", "density", "coverage"):  # k-NN balls over the gathered features
        assert two[f"val/{name}"] == pytest.approx(one[f"val/{name}"], abs=1e-9), name
    # spawn shares CPU tensors between processes: each rank must count into copies of its own
    assert before.keys() == after.keys() and any(k.endswith("real_features_num_samples") for k in after)
    for name, value in before.items():
        assert torch.equal(after[name], value), f"a rank wrote into the parent's {name}"


def test_processes_draw_contiguous_blocks_that_rank_after_rank_are_the_single_process_sample_set():
    metrics = GenerativeMetrics(DigitExtractor("mnist"), num_samples=250, batch_size=60)
    drawn: dict[int, list[torch.Tensor]] = {0: [], 1: [], 2: []}

    def recorder(rank: int):
        def sample(n: int, generator: torch.Generator) -> torch.Tensor:
            z = torch.rand(n, 1, 28, 28, generator=generator) * 2 - 1
            drawn[rank].append(z)
            return z

        return sample

    counts = [metrics.update_generated(recorder(r), torch.device("cpu"), rank=r, world_size=2) for r in (0, 1)]
    metrics.update_generated(recorder(2), torch.device("cpu"))
    assert counts == [60 + 60 + 60, 60 + 10] and sum(counts) == 250
    # batches 0..2 on rank 0, then 3..4 on rank 1, are batches 0..4 of one process, image for image and in order
    assert torch.equal(torch.cat(drawn[0] + drawn[1]), torch.cat(drawn[2]))


def _agree(rank: int, init_file: str, results) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("ganzoo.metrics.generative").addHandler(handler)
    values = {"fid": 10.0, "is": 2.0} if rank == 0 else {"fid": -5.0, "is": 2.0}
    results.put((rank, agreed(values), records))
    dist.destroy_process_group()


@pytest.mark.slow
def test_ranks_that_disagree_all_take_rank_0s_values_and_the_fault_is_named(tmp_path):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    processes = [ctx.Process(target=_agree, args=(r, str(tmp_path / "init"), results)) for r in (0, 1)]
    for p in processes:
        p.start()
    out = {rank: (values, records) for rank, values, records in (results.get(timeout=60) for _ in processes)}
    for p in processes:
        p.join(timeout=60)
    assert out[0][0] == out[1][0] == {"fid": 10.0, "is": 2.0}
    messages = out[0][1] + out[1][1]
    assert any("rank 1" in m and "{'fid': (10.0, -5.0)}" in m for m in messages), messages  # IS agreed: not named


class LinearExtractor(FeatureExtractor):
    """A fixed random linear map to 16 features and 10 logits: unlike a real classifier on noise, it spreads the
    samples over the classes, so that IS depends on which samples fall in which split."""

    num_features = 16
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.randn(28 * 28, 26, generator=torch.Generator().manual_seed(0)) / 28)

    def extract(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = images.flatten(1) @ self.weight
        return out[:, :16], out[:, 16:] * 10  # confident logits: an IS well above 1


def _metrics_on(rank: int, world: int, init_file: str, results) -> None:
    """257 real images and 5 generated batches: on 2 processes, 129 and 128 real images (5 and 4 batches of
    32) and 3 and 2 generated batches, so that the ranks also hold different numbers of list entries."""
    if world > 1:
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    metrics = GenerativeMetrics(LinearExtractor(), num_samples=500, batch_size=100, kid_subsets=5, kid_subset_size=100)
    real = torch.rand(257, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for batch in torch.tensor_split(real, world)[rank].split(32):
        metrics.update(batch, real=True)

    def noise(n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(n, 1, 28, 28, generator=generator) ** 2 * 2 - 1

    metrics.update_generated(noise, torch.device("cpu"), rank, world)
    values = metrics.compute()
    results.put((rank, {k: values[k] for k in ("fid", "is", "kid")}))
    if world > 1:
        dist.destroy_process_group()


@pytest.mark.slow
def test_is_and_kid_on_two_processes_equal_one_process_with_uneven_shards(tmp_path):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    _metrics_on(0, 1, "", results)
    one = results.get()[1]
    processes = [ctx.Process(target=_metrics_on, args=(r, 2, str(tmp_path / "init"), results)) for r in (0, 1)]
    for p in processes:
        p.start()
    try:  # a hang (ranks making different numbers of gathers) fails here instead of stalling the suite
        two = dict(results.get(timeout=120) for _ in processes)
    finally:
        for p in processes:
            p.join(timeout=30)
            p.terminate()
    assert one["is"] > 1.5 and one["kid"] > 0  # a case where the splits and subsets matter
    for rank in (0, 1):
        for name in ("fid", "is", "kid"):
            assert two[rank][name] == pytest.approx(one[name], rel=1e-9), (name, one, two)


def test_fewer_generated_batches_than_processes_is_refused_with_the_fix():
    metrics = GenerativeMetrics(LinearExtractor(), num_samples=100, batch_size=100)
    with pytest.raises(ValueError, match=r"1 batches for 2 processes.*metrics\.batch_size"):
        metrics.update_generated(lambda n, g: torch.zeros(n, 1, 28, 28), torch.device("cpu"), rank=1, world_size=2)


def test_a_run_whose_processes_cannot_each_draw_a_batch_is_refused_at_setup_not_at_its_first_validation(make_config):
    trainer, model, _ = build(
        make_config(*METRICS_RUN, "metrics.num_samples=100", "metrics.batch_size=100", run="early")
    )
    callback = next(c for c in trainer.callbacks if isinstance(c, ValidationMetrics))
    with pytest.raises(ValueError, match=r"1 batches for 2 processes"):
        callback.setup(mock.Mock(world_size=2), model, "fit")  # what trainer=ddp_cpu hands the callback
    callback.setup(mock.Mock(world_size=1), model, "fit")  # one process draws the one batch
