"""Generator EMA: the recurrence, which weights generate, checkpoints, exact resume and DDP."""

from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from torch import nn

from conftest import compose_config, compose_evaluate_config
from ganzoo.checkpoint import load_model
from ganzoo.evaluate import evaluate
from ganzoo.models.ema import EMA, ema_decay
from ganzoo.sample import encode, translate
from ganzoo.train import train
from ganzoo.utils import eval_mode
from helpers import SMALL_DATA, TINY, TINY_CYCLEGAN, fit_on_two_ranks

pytestmark = pytest.mark.usefixtures("one_thread")
EMA_ON = ["model.ema.decay=0.9"]


def test_averages_follow_the_warmed_up_recurrence_and_buffers_too():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA({"net": net}, decay=0.9, warmup=True)
    expected: dict[str, torch.Tensor] = {}
    for n in range(30):
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn_like(p))
        net(torch.randn(8, 3))  # moves BatchNorm's running statistics and its batch counter
        ema.update({"net": net})
        d = min(0.9, (1 + n) / (10 + n))  # update n (from 0) folds into an average of n earlier ones
        for key, value in net.state_dict().items():
            value = value.detach().clone()
            if n == 0 or not value.is_floating_point():
                expected[key] = value
            else:
                expected[key] = d * expected[key] + (1 - d) * value
    averaged = ema.average("net").state_dict()
    for key, value in expected.items():
        torch.testing.assert_close(averaged[key], value, rtol=1e-5, atol=1e-6, msg=key)
    assert ema.num_updates == 30 and int(averaged["1.num_batches_tracked"]) == 30
    assert not any(p.requires_grad for p in ema.parameters())
    assert ema_decay(0.999, 0) == pytest.approx(0.1) and ema_decay(0.999, 10**6) == 0.999
    assert ema_decay(0.999, 0, warmup=False) == 0.999


@pytest.mark.parametrize("decay", [1.0, -0.1, "x"])
def test_bad_decay_is_refused_naming_the_key(make_config, decay):
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, f"model.ema.decay={decay}")
    with pytest.raises(InstantiationException, match=r"model\.ema\.decay"):
        instantiate(cfg.model)


def _trained(make_config, *overrides: str, run: str = "run"):
    cfg = make_config(*TINY["dcgan_radford"], "model=dcgan_radford", *SMALL_DATA, "metrics=none", *overrides, run=run)
    _, model = train(cfg)
    return cfg, model


def _sample(model, weights: str) -> torch.Tensor:
    model.use_weights(weights)
    with eval_mode(model):
        return model.sample(8, torch.Generator().manual_seed(3))


def test_sampling_uses_the_average_by_default_and_the_raw_weights_when_asked(make_config):
    _, model = _trained(make_config, *EMA_ON, "trainer.max_steps=6")
    z = torch.randn(8, model.generator.latent_dim, generator=torch.Generator().manual_seed(3))
    with eval_mode(model), torch.no_grad():
        by_ema, by_raw = model.ema.average("generator")(z), model.generator(z)
    assert torch.equal(_sample(model, "ema"), by_ema)
    assert torch.equal(_sample(model, "raw"), by_raw)
    assert not torch.allclose(by_ema, by_raw)
    assert model.ema.num_updates == model.generator_updates == 3
    with pytest.raises(ValueError, match="weights must be one of"):
        model.use_weights("averaged")


def test_without_ema_samples_are_the_raw_generators(make_config):
    _, model = _trained(make_config, "trainer.max_steps=2")
    assert model.ema is None
    z = torch.randn(8, model.generator.latent_dim, generator=torch.Generator().manual_seed(3))
    with eval_mode(model), torch.no_grad():
        assert torch.equal(_sample(model, "ema"), model.generator(z))


def test_grids_show_the_average(make_config):
    cfg, model = _trained(make_config, *EMA_ON, "trainer.max_steps=6")
    from torchvision.io import read_image

    grid = read_image(str(Path(cfg.paths.output_dir) / "samples" / "step_0000006.png"))
    from torchvision.utils import make_grid

    def as_png(weights: str) -> torch.Tensor:
        model.use_weights(weights)
        with eval_mode(model):
            images = model.preview(64)
        made = make_grid(images, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
        return made.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)

    assert torch.equal(grid, as_png("ema")) and not torch.equal(grid, as_png("raw"))


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_evaluate_scores_the_average_by_default_and_the_raw_weights_when_asked(make_config, tmp_path):
    cfg, _ = _trained(make_config, *EMA_ON, "trainer.max_steps=6")
    checkpoint = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    # The same checkpoint with the averages written over the raw generator: its raw score is the average's.
    state = torch.load(checkpoint, weights_only=False)
    prefix = "ema.averages.generator.module."
    for key in [k for k in state["state_dict"] if k.startswith(prefix)]:
        state["state_dict"]["generator." + key.removeprefix(prefix)] = state["state_dict"][key].clone()
    swapped = checkpoint.with_name("swapped.ckpt")
    torch.save(state, swapped)

    def fid(path: Path, weights: str) -> dict:
        small = ["metrics.num_samples=200", "metrics.batch_size=100", f"weights={weights}"]
        return evaluate(compose_evaluate_config(tmp_path, f"ckpt_path={path}", *small))

    by_ema, by_raw, swapped_raw = fid(checkpoint, "ema"), fid(checkpoint, "raw"), fid(swapped, "raw")
    assert by_ema["weights"] == "ema" and by_raw["weights"] == "raw"
    assert by_ema["fid"] == pytest.approx(swapped_raw["fid"], rel=1e-6)
    assert by_ema["fid"] != pytest.approx(by_raw["fid"], rel=1e-3)


def test_validation_metrics_use_the_average(make_config, monkeypatch):
    seen: list[nn.Module] = []
    from ganzoo.metrics import GenerativeMetrics

    original = GenerativeMetrics.update_generated

    def spy(self, sample, *args, **kwargs):
        seen.append(sample.__self__.network("generator"))
        return original(self, sample, *args, **kwargs)

    monkeypatch.setattr(GenerativeMetrics, "update_generated", spy)
    _, model = _trained(
        make_config, *EMA_ON, "metrics=digits", "metrics.num_samples=64", "metrics.batch_size=32",
        "metrics.every_n_steps=2", "trainer.max_steps=2", "metrics.kid_subset_size=16",
    )  # fmt: skip
    assert seen and all(net is model.ema.average("generator") for net in seen)


def _state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=False)["state_dict"]


def test_resume_with_ema_is_exact_averages_included(make_config):
    common = [*EMA_ON, "model.n_critic=2"]
    straight, _ = _trained(make_config, *common, "trainer.max_steps=8", run="straight")
    half, _ = _trained(make_config, *common, "trainer.max_steps=4", run="half")
    last = Path(half.paths.output_dir) / "checkpoints" / "last.ckpt"
    resumed, model = _trained(make_config, *common, "trainer.max_steps=8", f"ckpt_path={last}", run="resumed")
    a = _state(Path(straight.paths.output_dir) / "checkpoints" / "last.ckpt")
    b = _state(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert a.keys() == b.keys() and any(k.startswith("ema.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert model.ema.num_updates == 2
    # load_model rebuilds the averages from the checkpoint too
    loaded, _ = load_model(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    for key, value in loaded.ema.state_dict().items():
        assert torch.equal(value, b["ema." + key]), key


@pytest.mark.slow
def test_averages_are_identical_on_two_ddp_ranks(make_config, tmp_path: Path):
    cfg = make_config(
        *TINY["dcgan_radford"], "model=dcgan_radford", *SMALL_DATA, *EMA_ON, "trainer=ddp_cpu",
        "trainer.max_steps=6", "metrics=none",
    )  # fmt: skip
    _, rank0, rank1 = fit_on_two_ranks(cfg, tmp_path, buffers=True)
    averaged = [k for k in rank0 if k.startswith("ema.")]
    assert any("running_mean" in k for k in averaged) and any("weight" in k for k in averaged)
    for key in averaged:
        assert torch.equal(rank0[key], rank1[key]), key


CYCLE = [
    "model=cyclegan", *TINY_CYCLEGAN, "data=mnist_usps",
    "data.batch_size=16", "data.domains.mnist._target_=ganzoo.data.SyntheticDataModule",
    "+data.domains.mnist.num_samples=48", "data.domains.usps._target_=ganzoo.data.SyntheticDataModule",
    "+data.domains.usps.num_samples=40", "+data.domains.usps.seed=1", "data.domains.mnist.val_size=8",
    "data.domains.usps.val_size=5", "metrics=none",
]  # fmt: skip


def test_cyclegan_translates_with_both_averaged_generators(tmp_path):
    cfg = compose_config(tmp_path, [*CYCLE, *EMA_ON, "trainer.max_steps=4"])
    _, model = train(cfg)
    data = instantiate(cfg.data.domains.mnist)
    x = data.load_split(train=False)[0][:8]
    with eval_mode(model), torch.no_grad():
        for name in ("mnist2usps", "usps2mnist"):
            source = name.split("2")[0]
            by_ema = model.ema.average("generators")[name](x)
            assert torch.equal(model.translate(x, source), by_ema)
            model.use_weights("raw")
            assert torch.equal(model.translate(x, source), model.generators[name](x))
            assert not torch.allclose(by_ema, model.generators[name](x))
            model.use_weights("ema")
    images, _ = translate(model, "mnist", data)
    assert images.dtype == torch.uint8


def test_bigan_encodes_and_reconstructs_with_the_averages(tmp_path):
    bigan = [
        "model=bigan", "model.generator.width=4", "model.generator.latent_dim=8", "model.encoder.width=4",
        "model.critic.width=4", "model.critic.hidden=8", *SMALL_DATA, "metrics=none",
    ]  # fmt: skip
    cfg = compose_config(tmp_path, [*bigan, *EMA_ON, "trainer.max_steps=6"])
    _, model = train(cfg)
    data = instantiate(cfg.data)
    x = data.load_split(train=False)[0][:8]
    with eval_mode(model), torch.no_grad():
        codes = model.ema.average("encoder")(x)
        assert torch.equal(model.encode(x), codes)
        assert torch.equal(model.reconstruct(x), model.ema.average("generator")(codes))
        model.use_weights("raw")
        assert torch.equal(model.encode(x), model.encoder(x))
    assert encode(model, data)[0].shape[1] == 8
