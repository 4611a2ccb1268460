"""`ganzoo.evaluate` on a short-trained checkpoint: metrics.json beside it, FID equal to a direct computation."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from scipy import linalg
from torchmetrics.image import InceptionScore

from conftest import compose_config, compose_evaluate_config
from ganzoo.checkpoint import load_model
from ganzoo.data import SyntheticDataModule
from ganzoo.evaluate import evaluate, table, weights_hash
from ganzoo.metrics import DigitExtractor
from ganzoo.random_state import seeded_cpu_stream
from ganzoo.train import train
from helpers import TINY

DATA = ["data=synthetic", "data.num_samples=1024", "data.batch_size=32"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained")
    train(compose_config(run, [*TINY["dcgan"], *DATA, "metrics=none", "trainer.max_steps=4"]))
    return run / "checkpoints" / "last.ckpt"


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real))


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_evaluate_writes_metrics_json_with_the_fid_of_the_checkpoint(checkpoint, tmp_path):
    cfg = compose_evaluate_config(
        tmp_path, f"ckpt_path={checkpoint}", "metrics.num_samples=300", "metrics.batch_size=128", "metrics.seed=7"
    )
    report = evaluate(cfg)
    path = Path(report.pop("written_to"))
    assert path == checkpoint.parent / "eval_last_test_DigitExtractor-mnist_raw.json"
    assert json.loads(path.read_text()) == report
    assert report["step"] == 4 and report["split"] == "test" and report["features"] == "DigitExtractor-mnist"
    assert report["features_sha256"] == weights_hash(DigitExtractor("mnist"))
    assert report["features_sha256"] != weights_hash(DigitExtractor("usps"))
    assert report["num_samples"] == 300 and report["num_real"] == 256
    for key in ("fid", "is", "kid", "modes"):
        assert key in table(report)

    # Independently: the synthetic test split against 300 samples drawn with the metrics' seeds (7 + batch).
    model, _ = load_model(checkpoint)
    extractor = DigitExtractor("mnist")
    real = SyntheticDataModule(num_samples=1024).load_split(train=False)[0]
    with torch.no_grad():
        fake = torch.cat([model.sample(n, torch.Generator().manual_seed(7 + b)) for b, n in enumerate((128, 128, 44))])
        a, b = (extractor.extract(x)[0].double().numpy() for x in (real, fake))
    assert report["fid"] == pytest.approx(frechet(a, b), rel=1e-4)
    # IS from the same logits by torchmetrics alone, its splits shuffled by the metrics' seed as evaluate does
    with torch.no_grad():
        logits = extractor.extract(fake)[1]
    with seeded_cpu_stream(7):
        reference = InceptionScore(feature=torch.nn.Identity(), splits=10)
        reference.update(logits)
        is_mean = float(reference.compute()[0])
    assert report["is"] == pytest.approx(is_mean, rel=1e-5)
    # modes: the digit classes that receive at least 5% of the samples, counted by hand
    counts = torch.bincount(logits.argmax(1), minlength=10)
    assert report["modes"] == int((counts >= 0.05 * len(logits)).sum())


def test_evaluate_refuses_metrics_none(checkpoint, tmp_path):
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate(compose_evaluate_config(tmp_path, f"ckpt_path={checkpoint}", "metrics=none"))


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_evaluations_of_other_splits_leave_their_own_files(checkpoint, tmp_path):
    common = [f"ckpt_path={checkpoint}", "metrics.num_samples=128", "metrics.batch_size=128"]
    test = evaluate(compose_evaluate_config(tmp_path, *common, "split=test"))
    val = evaluate(compose_evaluate_config(tmp_path, *common, "split=val"))
    assert test["written_to"] != val["written_to"]
    assert json.loads(Path(test["written_to"]).read_text())["split"] == "test"
    assert json.loads(Path(val["written_to"]).read_text())["split"] == "val"
    # split=val reads the images held out of training: their number and their FID against the same 128 samples
    model, run = load_model(checkpoint)
    data = instantiate(run["data"])  # the run's data settings, its held-out size included
    data.setup("fit")
    held_out = data.val_set.tensors[0]
    assert val["num_real"] == len(held_out) != test["num_real"]
    extractor = DigitExtractor("mnist")
    with torch.no_grad():
        fake = model.sample(128, torch.Generator().manual_seed(0))
        a, b = (extractor.extract(x)[0].double().numpy() for x in (held_out, fake))
    assert val["fid"] == pytest.approx(frechet(a, b), rel=1e-4)


def test_a_checkpoint_whose_model_config_no_longer_builds_is_refused_by_name(checkpoint, tmp_path):
    saved = torch.load(checkpoint, weights_only=False)
    saved["ganzoo"]["config"]["model"]["dropped_option"] = None  # as a setting that a later version removed
    old = tmp_path / "old.ckpt"
    torch.save(saved, old)
    with pytest.raises(ValueError, match=r"old\.ckpt no longer builds: .*dropped_option.* delete that key"):
        load_model(old)


def test_a_checkpoint_with_a_retired_setting_at_its_neutral_value_still_builds(checkpoint, tmp_path):
    saved = torch.load(checkpoint, weights_only=False)
    saved["ganzoo"]["config"]["model"] |= {"stop_on_nonfinite": True, "real_label": 1.0}  # as older runs saved them
    old = tmp_path / "old.ckpt"
    torch.save(saved, old)
    model, config = load_model(old)
    assert torch.equal(model.generator.project[0].weight, saved["state_dict"]["generator.project.0.weight"])
    assert "real_label" not in config["model"] and "stop_on_nonfinite" not in config["model"]
    saved["ganzoo"]["config"]["model"]["real_label"] = 0.9  # it trained otherwise: refused, by name
    torch.save(saved, old)
    with pytest.raises(ValueError, match=r"no longer builds: .*real_label"):
        load_model(old)
