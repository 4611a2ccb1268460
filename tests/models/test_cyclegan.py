"""CycleGAN: its loss terms, its fit through the real configs, exact resume with the pools, DDP, real data."""

import csv
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch import nn

from conftest import requires_mnist, requires_usps
from ganzoo.checkpoint import load_model
from ganzoo.config import config_dir
from ganzoo.evaluate import evaluate
from ganzoo.metrics import DigitExtractor, load_digit_classifier
from ganzoo.models.schedules import ConstantThenLinearDecay
from ganzoo.nets.digits import to_digit_input
from ganzoo.nets.teachers import teacher_path
from ganzoo.sample import translate
from ganzoo.train import build, train
from helpers import SYNTHETIC_PAIR, TINY_CYCLEGAN, fit_on_two_ranks, fit_recording, metrics_of, tensors_of

NETWORKS = ("generators.mnist2usps.", "generators.usps2mnist.", "critics.mnist.", "critics.usps.")


pytestmark = pytest.mark.usefixtures("one_thread")


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x


def cyclegan(g: nn.Module, f: nn.Module, **kwargs):
    from ganzoo.models import CycleGAN

    critic = nn.Conv2d(1, 1, 3)
    nn.init.constant_(critic.weight, 0.1)
    nn.init.zeros_(critic.bias)
    return CycleGAN(
        generators={"mnist2usps": g, "usps2mnist": f},
        critics={"mnist": critic, "usps": critic},
        optimizer_critic=torch.optim.Adam,
        optimizer_generator=torch.optim.Adam,
        **kwargs,
    )


def images(seed: int) -> torch.Tensor:
    return torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_cycle_and_identity_terms_vanish_for_identity_mappings_and_not_otherwise():
    x, y = images(0), images(1)
    terms = cyclegan(nn.Identity(), nn.Identity()).generator_terms({"mnist": x, "usps": y})
    assert set(terms) == {f"{k}/{d}" for k in ("adversarial", "cycle", "identity") for d in ("mnist", "usps")}
    assert all(terms[f"{k}/{d}"] == 0 for k in ("cycle", "identity") for d in ("mnist", "usps"))
    # G = F = negation: cycles still close, but each maps its own target's images away: ||-y - y|| = 2 |y|
    terms = cyclegan(Scale(-1), Scale(-1)).generator_terms({"mnist": x, "usps": y})
    assert terms["cycle/mnist"] == 0 and terms["cycle/usps"] == 0
    assert torch.isclose(terms["identity/usps"], 2 * y.abs().mean())
    assert torch.isclose(terms["identity/mnist"], 2 * x.abs().mean())
    # G halves, F is the identity: x -> x/2 -> x/2 and y -> y -> y/2
    terms = cyclegan(Scale(0.5), nn.Identity()).generator_terms({"mnist": x, "usps": y})
    assert torch.isclose(terms["cycle/mnist"], 0.5 * x.abs().mean())
    assert torch.isclose(terms["cycle/usps"], 0.5 * y.abs().mean())
    assert torch.isclose(terms["identity/usps"], 0.5 * y.abs().mean()) and terms["identity/mnist"] == 0


def test_generator_objective_weights_the_terms_as_configured():
    x, y = images(2), images(3)
    model = cyclegan(Scale(0.5), Scale(-1), cycle_weight=10.0, identity_weight=0.5)
    model.log_train = lambda *args: None
    critic = model.critics["usps"]
    expected_adversarial = (critic(0.5 * x) - 1).pow(2).mean() + (critic(-y) - 1).pow(2).mean()
    expected_cycle = (-0.5 * x - x).abs().mean() + (-0.5 * y - y).abs().mean()
    expected_identity = (0.5 * y - y).abs().mean() + (-x - x).abs().mean()
    total = model.generator_step([x, y])
    assert torch.isclose(total, expected_adversarial + 10 * expected_cycle + 5 * expected_identity)
    assert "identity/mnist" not in cyclegan(nn.Identity(), nn.Identity(), identity_weight=0).generator_terms(
        {"mnist": x, "usps": y}
    )


def test_identity_loss_needs_equal_sizes_and_the_pool_an_image():
    with pytest.raises(ValueError, match="pool_size must be a whole number >= 1"):
        cyclegan(nn.Identity(), nn.Identity(), pool_size=0)
    with pytest.raises(ValueError, match="identity_weight=0"):
        cyclegan(nn.Identity(), nn.Identity(), image_sizes={"mnist": 28, "usps": 14})


def test_learning_rate_is_constant_then_decays_linearly_to_zero():
    schedule = ConstantThenLinearDecay(constant=4, decay=4)
    assert [schedule(u) for u in range(10)] == [1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0]


def test_short_fit_updates_all_four_networks_and_logs_per_domain(make_config, caplog):
    caplog.set_level(logging.INFO, logger="ganzoo.callbacks.validation")
    cfg = make_config(
        "model=cyclegan",
        *TINY_CYCLEGAN,
        *SYNTHETIC_PAIR,
        "trainer.max_steps=8",
        "metrics.every_n_steps=8",
        "model.scheduler_critic.lr_lambda.constant=1",
        "model.scheduler_critic.lr_lambda.decay=4",
        "callbacks.sample_grid.num_images=8",
        "callbacks.sample_grid.nrow=4",
    )
    trainer, model, updates, before = fit_recording(cfg)
    assert updates == list("CGCGCGCG")
    for prefix in NETWORKS:
        assert all(not torch.equal(p, before[k]) for k, p in model.named_parameters() if k.startswith(prefix))
    logged = trainer.callback_metrics
    for d in ("mnist", "usps"):
        for tag in ("critic_loss", "critic_real", "critic_fake", "generator_loss", "cycle_loss", "identity_loss"):
            assert math.isfinite(logged[f"train/{tag}/{d}"]), (tag, d)
    assert torch.isclose(logged["train/cycle_loss"], logged["train/cycle_loss/mnist"] + logged["train/cycle_loss/usps"])
    for source, target in (("mnist", "usps"), ("usps", "mnist")):  # the final weights, on the held-out images
        x, labels = trainer.datamodule.val_sets[source].tensors
        with torch.no_grad():
            predicted = load_digit_classifier(target)(to_digit_input(model.eval().translate(x, source))).argmax(1)
        expected = float((predicted == labels).float().mean())
        assert math.isclose(logged[f"val/acc_{source}2{target}"], expected, abs_tol=1e-6)
        assert math.isfinite(logged[f"val/fid_{source}2{target}"])
    assert torch.isclose(logged["val/acc"], (logged["val/acc_mnist2usps"] + logged["val/acc_usps2mnist"]) / 2)
    assert cfg.optimized_metric == "val/acc"
    shown = f"step 8: acc_mnist2usps {float(logged['val/acc_mnist2usps']):.4g}, acc_usps2mnist"
    assert any(r.getMessage().startswith(shown) for r in caplog.records)  # the result reaches the terminal
    # 4 critic updates of 16 images: the pools filled to their 50
    assert len(model.pools["mnist"]) == len(model.pools["usps"]) == 50
    # lr: 1 constant update, then 4 decaying ones: after 4 updates of each side its base rate * (1 - 3/4)
    bases = (cfg.model.optimizer_critic.lr, cfg.model.optimizer_generator.lr)
    for optimizer, base in zip(trainer.optimizers, bases, strict=True):
        assert math.isclose(optimizer.param_groups[0]["lr"], base * 0.25)
    # the Figure-4 grid: rows of (MNIST, G(MNIST), USPS, F(USPS)) from the first test images
    grid = model.preview(8)
    fixed = trainer.datamodule.fixed_batch(2)
    assert torch.equal(grid[0::4], fixed["mnist"]) and torch.equal(grid[2::4], fixed["usps"])
    assert torch.allclose(grid[1::4], model.translate(fixed["mnist"], "mnist"))
    assert (Path(cfg.paths.output_dir) / "samples" / "step_0000008.png").exists()


def test_models_and_data_of_the_wrong_kind_fail_by_name(make_config):
    dcgan = make_config(
        "model=dcgan", "model.generator.width=4", "model.critic.width=4", *SYNTHETIC_PAIR, "metrics=none"
    )
    with pytest.raises(ValueError, match="data=mnist or data=usps"):
        train(dcgan)
    cycle = make_config("model=cyclegan", *TINY_CYCLEGAN, "data=synthetic", "metrics=none", run="other")
    with pytest.raises(ValueError, match=r"data=mnist_usps"):
        train(cycle)
    with pytest.raises(NotImplementedError, match="translate="):
        instantiate(cycle.model).sample(2)


def _state(path: Path) -> tuple[dict, dict]:
    checkpoint = torch.load(path, weights_only=False)
    return checkpoint["state_dict"], checkpoint["ganzoo"]["pools"]


@pytest.mark.parametrize(
    "jitter",
    [["model.source_augment=null"], []],
    ids=["plain", "jittered"],  # model=cyclegan jitters its USPS sources
)
def test_resume_from_last_checkpoint_is_exact_including_the_pools(make_config, jitter: list[str]):
    # 6 batches an epoch: resuming at step 4 is mid-epoch, and the pools (capacity 20) are full by then,
    # so the coins after the resume decide what the critics see (and, with the jitter, how the sources move).
    common = [*TINY_CYCLEGAN, *SYNTHETIC_PAIR, "model=cyclegan", "model.pool_size=20", "metrics=none", *jitter]
    runs = {
        name: make_config(*common, f"trainer.max_steps={n}", run=name) for name, n in (("straight", 8), ("half", 4))
    }
    for cfg in runs.values():
        train(cfg)
    last = Path(runs["half"].paths.output_dir) / "checkpoints" / "last.ckpt"
    resumed = make_config(*common, "trainer.max_steps=8", f"ckpt_path={last}", run="resumed")
    trainer, model = train(resumed)
    assert trainer.global_step == 8 and (model.critic_updates, model.generator_updates) == (4, 4)
    a, pools_a = _state(Path(runs["straight"].paths.output_dir) / "checkpoints" / "last.ckpt")
    b, pools_b = _state(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for d in ("mnist", "usps"):
        assert pools_a[d].shape == (1, 20, 1, 28, 28) and torch.equal(pools_a[d], pools_b[d]), d
    half, _ = _state(last)
    assert not torch.equal(half["generators.mnist2usps.net.1.weight"], b["generators.mnist2usps.net.1.weight"])


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """FID of two feature sets; tr sqrt(S_a S_b) as the sum of the square roots of its eigenvalues (few samples)."""
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.sqrt(np.linalg.eigvals(s_a @ s_b).astype(complex)).real.sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * root)


def test_evaluate_reports_both_directions_of_a_checkpoint_over_the_whole_test_splits(make_config, tmp_path: Path):
    cfg = make_config("model=cyclegan", *TINY_CYCLEGAN, *SYNTHETIC_PAIR, "metrics=none", "trainer.max_steps=2")
    train(cfg)
    checkpoint = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        overrides = [f"ckpt_path={checkpoint}", f"paths.output_dir={tmp_path}", "trainer.accelerator=cpu"]
        report = evaluate(compose(config_name="evaluate", overrides=[*overrides, "trainer.enable_progress_bar=false"]))
    assert report["num_real"] == report["num_samples"] == 24 + 10 and report["step"] == 2
    model, _ = load_model(checkpoint)
    datamodule = instantiate(cfg.data)
    datamodule.setup("test")
    accuracies = []
    for source, target in (("mnist", "usps"), ("usps", "mnist")):
        x, labels = datamodule.test_sets[source].tensors
        with torch.no_grad():
            logits = load_digit_classifier(target)(to_digit_input(model.translate(x, source)))
        predicted = logits.argmax(1)
        accuracies.append(float((predicted == labels).float().mean()))
        assert math.isclose(report[f"acc_{source}2{target}"], accuracies[-1], abs_tol=1e-6)
        # FID of the translations into the target domain against its real test images, in its classifier's features
        extractor = DigitExtractor(target)
        with torch.no_grad():
            real_features = extractor.extract(datamodule.test_sets[target].tensors[0])[0].double().numpy()
            fake_features = extractor.extract(model.translate(x, source))[0].double().numpy()
        assert report[f"fid_{source}2{target}"] == pytest.approx(frechet(real_features, fake_features), rel=1e-3)
        # the confusion matrix and per-digit accuracy, counted by hand
        name = f"{source}2{target}"
        counts = [[int(((labels == i) & (predicted == j)).sum()) for j in range(10)] for i in range(10)]
        assert report[f"confusion_{name}"] == counts
        for digit, accuracy in enumerate(report[f"per_class_acc_{name}"]):
            of_digit = labels == digit
            expected = float((predicted[of_digit] == digit).float().mean()) if of_digit.any() else 0.0
            assert math.isclose(accuracy, expected, abs_tol=1e-6), (name, digit)
    assert math.isclose(report["acc"], sum(accuracies) / 2, abs_tol=1e-6)
    assert math.isclose(report["fid"], (report["fid_mnist2usps"] + report["fid_usps2mnist"]) / 2, rel_tol=1e-6)
    # split=val reads the images held out of training, the split that validation during training reads
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        val = evaluate(
            compose(config_name="evaluate", overrides=[*overrides, "split=val", "trainer.enable_progress_bar=false"])
        )
    assert val["split"] == "val" and val["num_real"] == 12 + 5
    for source, target in (("mnist", "usps"), ("usps", "mnist")):
        x, labels = datamodule.val_sets[source].tensors
        with torch.no_grad():
            predicted = load_digit_classifier(target)(to_digit_input(model.translate(x, source))).argmax(1)
        assert math.isclose(val[f"acc_{source}2{target}"], float((predicted == labels).float().mean()), abs_tol=1e-6)


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_keeps_the_four_networks_identical(make_config, tmp_path: Path):
    cfg = make_config(
        *TINY_CYCLEGAN,
        *SYNTHETIC_PAIR,
        "model=cyclegan",
        "trainer=ddp_cpu",
        "trainer.max_steps=4",
        "metrics=none",
    )
    initial, rank0, rank1 = fit_on_two_ranks(cfg, tmp_path)
    # model=cyclegan averages its generators: the EMA copies are built at setup, after `initial` was taken
    assert {k for k in rank0 if not k.startswith("ema.")} == initial.keys() and any(k.startswith("ema.") for k in rank0)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    for prefix in NETWORKS:
        assert any(not torch.equal(rank0[k], initial[k]) for k in rank0 if k.startswith(prefix)), prefix


@pytest.mark.slow
def test_validation_on_two_cpu_processes_counts_what_one_process_counts(make_config):
    logged = {}
    for trainer_config in ("cpu", "ddp_cpu"):
        trainer, model, datamodule = build(
            make_config(
                *TINY_CYCLEGAN, *SYNTHETIC_PAIR, "model=cyclegan", f"trainer={trainer_config}", run=trainer_config
            )
        )
        before = tensors_of(metrics_of(trainer))
        trainer.validate(model, datamodule=datamodule, verbose=False)
        logged[trainer_config] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    # spawn shares CPU tensors between processes: each rank must count into copies of its own
    after = tensors_of(metrics_of(trainer))
    assert after.keys() == before.keys() and any("confmat" in k for k in after)
    for name, value in before.items():
        assert torch.equal(after[name], value), f"a rank wrote into the parent's {name}"
    one, two = logged["cpu"], logged["ddp_cpu"]
    assert one.keys() == two.keys() and {"val/acc_mnist2usps", "val/fid_usps2mnist"} <= one.keys()
    for name, value in one.items():
        assert two[name] == pytest.approx(value, rel=1e-6), f"{name}: one process {one}, two {two}"


def _cycle_losses(run: Path) -> list[float]:
    with open(run / "metrics.csv") as f:
        return [float(r["train/cycle_loss"]) for r in csv.DictReader(f) if r.get("train/cycle_loss")]


@requires_mnist
@requires_usps
@pytest.mark.slow
def test_short_fit_on_real_mnist_usps_lowers_the_cycle_loss_and_reports_accuracies(make_config):
    cfg = make_config(
        "model=cyclegan",
        "model.generators.mnist2usps.width=8",
        "model.generators.usps2mnist.width=8",
        "model.critics.mnist.width=8",
        "model.optimizer_generator.lr=2e-3",
        "data=mnist_usps",
        "data.batch_size=16",
        "trainer.max_steps=40",
        "metrics.every_n_steps=40",
        "+trainer.limit_val_batches=8",
        "logger=csv",
    )
    trainer, model, _, _ = fit_recording(cfg)
    cycle = _cycle_losses(Path(cfg.paths.output_dir))
    assert len(cycle) >= 19
    assert sum(cycle[-5:]) / 5 < 0.7 * sum(cycle[:3]) / 3, cycle
    # the logged accuracies, recomputed by hand on the same 128 validation images (held out of training) per domain
    datamodule = trainer.datamodule
    for source, target in (("mnist", "usps"), ("usps", "mnist")):
        x, labels = (t[:128] for t in datamodule.val_sets[source].tensors)
        classifier = load_digit_classifier(target)
        with torch.no_grad():
            predicted = classifier(to_digit_input(model.eval().translate(x, source))).argmax(1)
        expected = (predicted == labels).float().mean()
        assert math.isclose(trainer.callback_metrics[f"val/acc_{source}2{target}"], expected, abs_tol=1e-6)
    # and `ganzoo.sample translate=usps` rebuilds the model from its checkpoint and translates the test split
    loaded, _ = load_model(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    out, labels = translate(loaded, "usps", datamodule.domains["usps"], batch_size=1000)
    assert out.shape == (2007, 1, 28, 28) and out.dtype == torch.uint8
    assert torch.equal(labels, datamodule.test_sets["usps"].tensors[1])
    direct = model.translate(datamodule.test_sets["usps"].tensors[0][:5], "usps")
    assert torch.allclose(out[:5].float(), direct.clamp(-1, 1).add(1).mul(127.5).round(), atol=1)


def test_semantic_term_is_the_target_teachers_cross_entropy_against_the_source_teachers_labels():
    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.rand(6, 1, 28, 28) * 2 - 1
    teachers = {"mnist": "mnist", "usps": "usps"}
    model = cyclegan(Scale(0.5), Scale(-1), semantic_weight=2.0, semantic_teachers=teachers)
    terms = model.generator_terms({"mnist": x, "usps": y})
    f = {d: load_digit_classifier(teacher_path(d)) for d in teachers}
    with torch.no_grad():
        expected_usps = F.cross_entropy(f["usps"](to_digit_input(0.5 * x)), f["mnist"](x).argmax(1))
        expected_mnist = F.cross_entropy(f["mnist"](to_digit_input(-y)), f["usps"](y).argmax(1))
    assert torch.isclose(terms["semantic/usps"], expected_usps, rtol=1e-5)
    assert torch.isclose(terms["semantic/mnist"], expected_mnist, rtol=1e-5)
    # weighted into the objective, gradients reach the generators only, and the teachers stay out of the state
    model.log_train = lambda *args: None
    without = cyclegan(Scale(0.5), Scale(-1)).generator_step([x, y])
    assert torch.isclose(model.generator_step([x, y]), without + 2.0 * (expected_usps + expected_mnist), rtol=1e-5)
    assert not any("teacher" in k for k in model.state_dict())
    assert "semantic/usps" not in cyclegan(nn.Identity(), nn.Identity()).generator_terms({"mnist": x, "usps": y})
    # the shipped teachers are other networks than the metric classifiers
    metric = load_digit_classifier("mnist")
    assert f["mnist"].arch != metric.arch


def test_soft_semantic_term_is_tau_squared_kl_between_the_teachers_softened_distributions():
    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.rand(6, 1, 28, 28) * 2 - 1
    teachers = {"mnist": "mnist", "usps": "usps"}
    f = {d: load_digit_classifier(teacher_path(d)) for d in teachers}
    with torch.no_grad():
        source, target = f["mnist"](x), f["usps"](to_digit_input(0.5 * x))
    for tau in (1.0, 3.0):
        model = cyclegan(
            Scale(0.5), Scale(-1), semantic_weight=1.0, semantic_teachers=teachers, semantic_temperature=tau
        )
        term = model.generator_terms({"mnist": x, "usps": y})["semantic/usps"]
        # by hand: sum_k p_k (log p_k - log q_k), averaged over the batch, times tau^2
        p, q = (torch.softmax(z.double() / tau, 1) for z in (source, target))
        expected = tau**2 * (p * (p.log() - q.log())).sum(1).mean()
        assert math.isclose(term.item(), expected.item(), rel_tol=1e-4)
    # a translation its teacher reads exactly as the source teacher read the original costs nothing
    model = cyclegan(
        nn.Identity(),
        nn.Identity(),
        semantic_weight=1.0,
        semantic_teachers={"mnist": "mnist", "usps": "mnist"},
        semantic_temperature=2.0,
    )
    assert model.generator_terms({"mnist": x, "usps": y})["semantic/usps"].abs().item() < 1e-6
    with pytest.raises(ValueError, match="semantic_temperature must be > 0"):
        cyclegan(nn.Identity(), nn.Identity(), semantic_temperature=0.0)


def test_a_labeller_takes_over_labelling_one_domains_sources_and_the_teacher_still_reads_translations():
    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.rand(6, 1, 28, 28) * 2 - 1
    teachers = {"mnist": "mnist", "usps": "usps"}
    # any classifier file can label: here the MNIST teacher labels the USPS sources
    model = cyclegan(
        Scale(0.5), Scale(-1), semantic_weight=1.0, semantic_teachers=teachers, semantic_labellers={"usps": "mnist"}
    )
    terms = model.generator_terms({"mnist": x, "usps": y})
    f = {d: load_digit_classifier(teacher_path(d)) for d in teachers}
    with torch.no_grad():
        expected_mnist = F.cross_entropy(f["mnist"](to_digit_input(-y)), f["mnist"](y).argmax(1))
        expected_usps = F.cross_entropy(f["usps"](to_digit_input(0.5 * x)), f["mnist"](x).argmax(1))
        assert not torch.equal(f["mnist"](y).argmax(1), f["usps"](y).argmax(1))  # the labeller makes a difference
    assert torch.isclose(terms["semantic/mnist"], expected_mnist, rtol=1e-5)
    assert torch.isclose(terms["semantic/usps"], expected_usps, rtol=1e-5)  # MNIST's sources: its own teacher
    assert not any("teacher" in k or "labeller" in k for k in model.state_dict())
    with pytest.raises(ValueError, match=r"semantic_labellers names domains, \['mnist', 'usps'\]; got \['svhn'\]"):
        cyclegan(nn.Identity(), nn.Identity(), semantic_labellers={"svhn": "mnist"})


def test_semantic_term_needs_a_teacher_per_domain_and_a_nonnegative_weight():
    with pytest.raises(ValueError, match="semantic_teachers"):
        cyclegan(nn.Identity(), nn.Identity(), semantic_weight=1.0, semantic_teachers={"mnist": "mnist"})
    with pytest.raises(ValueError, match="semantic_weight must be >= 0"):
        cyclegan(nn.Identity(), nn.Identity(), semantic_weight=-1.0)


@pytest.mark.parametrize("model", ["cyclegan", "cyclegan_report", "cyclegan_asym"])
def test_default_trainer_runs_the_whole_learning_rate_schedule(make_config, model: str):
    cfg = make_config(f"model={model}", "data=mnist_usps")
    steps, updates_per_side = cfg.trainer.max_steps, cfg.schedule.constant + cfg.schedule.decay
    assert cfg.trainer.max_epochs == -1 and steps == 2 * updates_per_side
    # the run ends on a validation step, so its last accuracies and FIDs are those of the final weights
    assert steps % cfg.metrics.every_n_steps == 0
    assert cfg.data.batch_size == cfg.schedule.batch_size
    module = instantiate(cfg.model)
    optimizers, schedulers = module.configure_optimizers()
    rates = []
    optimizers[1].step()  # (no gradients: only the schedule's order of calls)
    for _ in range(steps // 2):  # a step updates one side: steps / 2 updates of each
        rates.append(schedulers[1].get_last_lr()[0])
        schedulers[1].step()
    base = cfg.model.optimizer_generator.lr
    assert rates[0] == base and rates[-1] > 0  # the last update still learns...
    assert schedulers[1].get_last_lr()[0] == 0.0  # ...and the schedule has reached its final rate


def test_headline_translates_usps_wider_than_the_report_and_mnist_at_half(make_config):
    cfg = make_config("model=cyclegan", "data=mnist_usps")
    model = instantiate(cfg.model)
    generators = model.generators
    assert cfg.model.generators.usps2mnist.width == 48 and cfg.model.generators.mnist2usps.width == 16
    assert generators["usps2mnist"].net[1].out_channels == 48 and generators["mnist2usps"].net[1].out_channels == 16
    # both follow the report's network in everything but their widths (the report's: 32)
    report = make_config("model=cyclegan_report", "data=mnist_usps").model.generators
    for name in ("usps2mnist", "mnist2usps"):
        assert {**cfg.model.generators[name], "width": 32} == dict(report[name])
    # and only USPS, the domain with 7,291 training digits, is jittered
    assert set(model.source_augment) == {"usps"}


def test_headline_generators_learn_at_twice_the_reports_rate_and_its_critics_at_the_reports(make_config):
    rates = {}
    for model in ("cyclegan", "cyclegan_report"):
        module = instantiate(make_config(f"model={model}", "data=mnist_usps").model)
        (critic, generator), _ = module.configure_optimizers()
        assert [id(p) for g in critic.param_groups for p in g["params"]] == list(map(id, module.critic_parameters()))
        rates[model] = (critic.param_groups[0]["lr"], generator.param_groups[0]["lr"])
    assert rates["cyclegan_report"] == (2e-4, 2e-4)
    assert rates["cyclegan"] == (2e-4, 4e-4)


def test_source_jitter_moves_the_named_domains_images_in_every_generator_term_and_nowhere_else():
    from ganzoo.augment import AffineJitter

    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.rand(6, 1, 28, 28) * 2 - 1
    teachers = {"mnist": "mnist", "usps": "usps"}
    jitter = {"degrees": 10.0, "translate": 0.1, "scale": 0.1}
    model = cyclegan(
        Scale(0.5), Scale(-1), semantic_weight=1.0, semantic_teachers=teachers, source_augment={"usps": jitter}
    )
    plain = cyclegan(Scale(0.5), Scale(-1), semantic_weight=1.0, semantic_teachers=teachers)
    for m in (model, plain):
        m.log_train = lambda *args: None
        m._rng = torch.Generator().manual_seed(3)
    y_jittered = AffineJitter(**jitter)(y, torch.Generator().manual_seed(3))
    assert not torch.allclose(y_jittered, y)
    # the generator step is the plain one on (x, jittered y): adversarial, cycle, identity and semantic terms alike
    assert torch.equal(model.generator_step([x, y]), plain.generator_step([x, y_jittered]))
    assert not torch.isclose(model.generator_step([x, y]), plain.generator_step([x, y]))
    # the critics still judge the real images as they are
    for m in (model, plain):
        m._rng = torch.Generator().manual_seed(5)
    assert torch.equal(model.critic_step([x, y]), plain.critic_step([x, y]))


def test_source_jitter_names_domains_of_the_model_and_known_settings():
    with pytest.raises(ValueError, match=r"domains, \['mnist', 'usps'\]; got \['svhn'\]"):
        cyclegan(nn.Identity(), nn.Identity(), source_augment={"svhn": {"degrees": 10.0}})
    with pytest.raises(ValueError, match=r"unknown \['rotate'\]"):
        cyclegan(nn.Identity(), nn.Identity(), source_augment={"usps": {"rotate": 10.0}})
    assert cyclegan(nn.Identity(), nn.Identity(), source_augment={"usps": None}).source_augment == {}
