"""Validation and `ganzoo.evaluate` of class-conditional models: the per-class metrics reach the logs and the
report with the values of a direct computation on the same images, and are equal on 1 and 2 processes."""

from pathlib import Path

import pytest
import torch
from scipy.optimize import linear_sum_assignment
from torchmetrics.image.fid import _compute_fid

from conftest import compose_config, compose_evaluate_config
from ganzoo.data import SyntheticDataModule
from ganzoo.evaluate import evaluate
from ganzoo.metrics import DigitExtractor
from ganzoo.train import build, train
from helpers import TINY_CONDITIONAL

pytestmark = pytest.mark.usefixtures("one_thread")
METRICS = ["metrics.num_samples=200", "metrics.batch_size=100", "metrics.kid_subset_size=50", "metrics.kid_subsets=2"]
DATA = ["data=synthetic", "data.num_samples=512", "data.val_size=200", "data.batch_size=50"]


def validated(make_config, model: str, *extra: str, run: str = "run") -> tuple[dict[str, float], object]:
    trainer, module, datamodule = build(
        make_config(f"model={model}", *TINY_CONDITIONAL[model], *DATA, *METRICS, *extra, run=run)
    )
    trainer.validate(module, datamodule=datamodule, verbose=False)
    return {k.removeprefix("val/"): float(v) for k, v in trainer.callback_metrics.items()}, (module, datamodule)


def generated(module) -> tuple[torch.Tensor, torch.Tensor]:
    """The metrics' sample set: batch b of 100 from seed b, asking for the classes in turn."""
    labels = torch.arange(100) % 10
    with torch.no_grad():
        images = [module.sample(100, torch.Generator().manual_seed(b), labels=labels) for b in range(2)]
    return torch.cat(images), labels.repeat(2)


def test_validation_logs_conditional_accuracy_and_intra_class_fid_of_the_classes_asked_for(make_config):
    values, (module, datamodule) = validated(make_config, "acgan")
    module.eval()
    extractor = DigitExtractor("mnist")
    fake, asked = generated(module)
    with torch.no_grad():
        fake_features, logits = extractor.extract(fake)
    read = logits.argmax(1)
    assert values["cond_acc"] == pytest.approx(float((read == asked).float().mean()), abs=1e-6)
    for k in range(10):
        assert values[f"cond_acc_{k}"] == pytest.approx(float((read[asked == k] == k).float().mean()), abs=1e-6)
    real, labels = datamodule.val_set.tensors
    with torch.no_grad():
        real_features = extractor.extract(real)[0]
    per_class = []
    for k in range(10):
        a, b = real_features[labels == k].double(), fake_features[asked == k].double()
        per_class.append(float(_compute_fid(a.mean(0), torch.cov(a.T), b.mean(0), torch.cov(b.T))))
        assert values[f"intra_fid_{k}"] == pytest.approx(per_class[-1], rel=1e-5)
    assert values["intra_fid"] == pytest.approx(sum(per_class) / 10, rel=1e-5)
    assert "code_acc" not in values and values["fid"] > 0


def test_infogans_validation_logs_the_code_accuracy_after_the_best_match_of_codes_to_digits(make_config):
    values, (module, _) = validated(make_config, "infogan")
    module.eval()
    fake, codes = generated(module)
    with torch.no_grad():
        read = DigitExtractor("mnist").extract(fake)[1].argmax(1)
    counts = torch.zeros(10, 10)
    counts.index_put_((codes, read), torch.ones(len(codes)), accumulate=True)
    rows, columns = linear_sum_assignment(-counts.numpy())
    assert values["code_acc"] == pytest.approx(float(counts[rows, columns].sum()) / len(codes), abs=1e-6)
    assert not any(k.startswith(("cond_acc", "intra_fid")) for k in values)


def test_evaluate_reports_the_per_class_values_as_lists(tmp_path: Path):
    run = tmp_path / "run"
    train(compose_config(run, ["model=cgan", *TINY_CONDITIONAL["cgan"], *DATA, "metrics=none", "trainer.max_steps=2"]))
    checkpoint = run / "checkpoints" / "last.ckpt"
    report = evaluate(compose_evaluate_config(tmp_path, f"ckpt_path={checkpoint}", *METRICS, "metrics.prdc_k=null"))
    test_labels = SyntheticDataModule(num_samples=512).load_split(train=False)[1]
    assert report["num_real"] == len(test_labels) == 128
    assert len(report["per_class_cond_acc"]) == len(report["per_class_intra_fid"]) == 10
    assert report["cond_acc"] == pytest.approx(sum(report["per_class_cond_acc"]) / 10, abs=1e-6)  # 20 of each
    assert report["intra_fid"] == pytest.approx(sum(report["per_class_intra_fid"]) / 10, rel=1e-6)
    assert not any(k.startswith(("cond_acc_", "intra_fid_")) for k in report)


@pytest.mark.slow
def test_per_class_values_are_equal_on_one_and_two_processes(make_config):
    one, _ = validated(make_config, "acgan", "trainer=cpu", run="one")
    two, _ = validated(make_config, "acgan", "trainer=ddp_cpu", run="two")
    assert one.keys() == two.keys() and {"cond_acc", "cond_acc_9", "intra_fid", "intra_fid_0"} <= one.keys()
    for name, value in one.items():
        assert two[name] == pytest.approx(value, rel=1e-6), name
