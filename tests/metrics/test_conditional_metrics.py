"""Per-class metrics: each equals its definition computed directly, and 2 processes give what 1 process gives."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from scipy import linalg

from conftest import DATA_DIR, requires_mnist
from ganzoo.data import MNISTDataModule, SyntheticDataModule
from ganzoo.metrics import CodeAccuracy, ConditionalAccuracy, DigitExtractor, IntraClassFID, match_codes


def one_hot_logits(predicted: list[int], num_classes: int = 10) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(predicted), num_classes).float()


def test_conditional_accuracy_counts_images_read_as_the_class_asked_for_overall_and_per_class():
    metric = ConditionalAccuracy(num_classes=4)
    metric.update(one_hot_logits([0, 1, 1], 4), torch.tensor([0, 0, 1]))
    metric.update(one_hot_logits([1, 0, 3], 4), torch.tensor([1, 2, 2]))
    values = metric.compute()
    assert values["cond_acc"] == 3 / 6
    assert [values[f"cond_acc_{k}"] for k in range(3)] == [1 / 2, 2 / 2, 0 / 2]
    assert math.isnan(values["cond_acc_3"])  # never asked for


@requires_mnist
def test_conditional_accuracy_of_the_digit_classifier_on_labelled_mnist_equals_a_direct_count():
    images, labels = MNISTDataModule(data_dir=str(DATA_DIR)).load_split(train=False)
    images, labels = images[:400], labels[:400]
    asked = torch.where(torch.arange(400) % 4 == 0, (labels + 1) % 10, labels)  # a quarter asked for another digit
    extractor = DigitExtractor("mnist")
    metric = ConditionalAccuracy()
    for x, y in zip(images.split(128), asked.split(128), strict=True):
        metric.update(extractor(x)[1], y)
    values = metric.compute()
    with torch.no_grad():
        read = extractor.net(images).argmax(dim=1)
    assert values["cond_acc"] == pytest.approx((read == asked).double().mean().item(), abs=1e-12)
    assert 0.70 < values["cond_acc"] < 0.76  # the classifier reads three quarters right: it is 99% accurate
    for k in range(10):
        assert values[f"cond_acc_{k}"] == pytest.approx((read == asked)[asked == k].double().mean().item(), abs=1e-12)


def frechet_scipy(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), straight from the definition."""
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real))


@pytest.fixture(scope="module")
def labelled_features() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Digit-classifier features of 3 classes of synthetic images, 900 real and 600 generated (blurred by noise):
    over 128 of each class, so that every covariance is full rank."""
    real, real_labels = SyntheticDataModule(num_samples=900, num_classes=3, seed=5).load_split(train=True)
    fake, fake_labels = SyntheticDataModule(num_samples=600, num_classes=3, seed=5).load_split(train=True)
    fake = (fake + 0.4 * torch.randn(fake.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    extractor = DigitExtractor("mnist")
    return extractor.extract(real)[0], real_labels, extractor.extract(fake)[0], fake_labels


# Some ReLU features are 0 on every synthetic image of a class, so scipy warns that the product is singular.
@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_intra_class_fid_is_the_mean_over_classes_of_scipys_frechet_distance_within_each_class(labelled_features):
    real, real_labels, fake, fake_labels = labelled_features
    metric = IntraClassFID(num_features=128, num_classes=3)
    for f, y in zip(real.split(250), real_labels.split(250), strict=True):
        metric.update(f, y, real=True)
    for f, y in zip(fake.split(250), fake_labels.split(250), strict=True):
        metric.update(f, y, real=False)
    values = metric.compute()
    a, b = real.double().numpy(), fake.double().numpy()
    ra, fb = real_labels.numpy(), fake_labels.numpy()
    expected = [frechet_scipy(a[ra == k], b[fb == k]) for k in range(3)]
    assert min(expected) > 1.0
    for k in range(3):
        assert values[f"intra_fid_{k}"] == pytest.approx(expected[k], rel=1e-4)
    assert values["intra_fid"] == pytest.approx(sum(expected) / 3, rel=1e-4)
    # `reset` forgets the generated side only: the same generated features give the same values again
    metric.reset()
    assert int(metric.fake_count.sum()) == 0 and int(metric.real_count.sum()) == 900
    metric.update(fake, fake_labels, real=False)
    assert metric.compute() == pytest.approx(values, rel=1e-9)


def test_intra_class_fid_names_the_classes_without_enough_images_and_the_fix():
    metric = IntraClassFID(num_features=2, num_classes=3)
    metric.update(torch.randn(6, 2), torch.tensor([0, 0, 1, 1, 2, 2]), real=True)
    metric.update(torch.randn(5, 2), torch.tensor([0, 0, 1, 1, 2]), real=False)
    with pytest.raises(ValueError, match=r"classes \[2\] have \[2\] real and \[1\] generated.*metrics\.num_samples"):
        metric.compute()


def test_labels_outside_the_classes_are_refused_with_the_range():
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9, got values from 0 to 10"):
        ConditionalAccuracy().update(torch.zeros(2, 10), torch.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"codes must lie in 0\.\.3"):
        CodeAccuracy(num_codes=4).update(torch.tensor([4]), torch.zeros(1, 10))


@pytest.mark.parametrize("num_codes", [4, 3])
def test_code_accuracy_is_the_best_agreement_over_every_one_to_one_assignment_of_codes_to_classes(num_codes: int):
    g = torch.Generator().manual_seed(num_codes)
    codes = torch.randint(num_codes, (300,), generator=g)
    # class = a fixed relabelling of the code for most images, another class for the rest
    classes = torch.where(
        torch.rand(300, generator=g) < 0.7, (codes * 3 + 1) % 4, torch.randint(4, (300,), generator=g)
    )
    metric = CodeAccuracy(num_codes=num_codes, num_classes=4)
    for c, k in zip(codes.split(64), classes.split(64), strict=True):
        metric.update(c, one_hot_logits(k.tolist(), 4))
    best = max(
        sum(int(((codes == c) & (classes == assignment[c])).sum()) for c in range(num_codes))
        for assignment in itertools.permutations(range(4), num_codes)
    )
    assert metric.compute()["code_acc"] == best / 300
    assert match_codes(metric.counts) == {c: (c * 3 + 1) % 4 for c in range(num_codes)}


def test_a_code_that_permutes_the_classes_exactly_scores_one():
    metric = CodeAccuracy()
    codes = torch.arange(50) % 10
    metric.update(codes, one_hot_logits(((codes * 7 + 3) % 10).tolist()))
    assert metric.compute()["code_acc"] == 1.0


def _per_class_metrics_on(rank: int, world: int, init_file: str, results) -> None:
    """Each metric fed with this rank's share of one fixed labelled set: 301 real and 250 generated feature rows
    and 250 codes, split unevenly (and one class on one rank only), in batches of 40."""
    if world > 1:
        torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool (it would hang)
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(301, 6, generator=g), torch.randn(250, 6, generator=g) * 1.3 + 0.2
    real_labels, fake_labels = torch.arange(301) % 4, torch.arange(250) % 4
    logits = torch.randn(250, 4, generator=g) + 3 * torch.nn.functional.one_hot(fake_labels, 4)
    real_labels[-20:] = 3  # class 3's last real rows all lie in rank 1's shard
    accuracy, fid, code = ConditionalAccuracy(4), IntraClassFID(6, 4), CodeAccuracy(4, 4)
    for f, y in zip(*(torch.tensor_split(t, world)[rank].split(40) for t in (real, real_labels)), strict=True):
        fid.update(f, y, real=True)
    for f, y, z in zip(
        *(torch.tensor_split(t, world)[rank].split(40) for t in (fake, fake_labels, logits)), strict=True
    ):
        fid.update(f, y, real=False)
        accuracy.update(z, y)
        code.update((y + 1) % 4, z)
    results.put((rank, accuracy.compute() | fid.compute() | code.compute()))
    if world > 1:
        dist.destroy_process_group()


@pytest.mark.slow
def test_per_class_metrics_on_two_processes_equal_one_process(tmp_path):
    # fork: the children inherit the imported modules instead of importing torch and torchmetrics again, which is
    # most of a spawned child's time; they start before any process group, and the states live on the CPU
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    _per_class_metrics_on(0, 1, "", results)
    one = results.get()[1]
    processes = [
        ctx.Process(target=_per_class_metrics_on, args=(r, 2, str(tmp_path / "init"), results)) for r in (0, 1)
    ]
    for p in processes:
        p.start()
    try:
        two = dict(results.get(timeout=120) for _ in processes)
    finally:
        for p in processes:
            p.join(timeout=30)
            p.terminate()
    assert 0.5 < one["cond_acc"] < 1 and one["intra_fid"] > 0.1 and one["code_acc"] == one["cond_acc"]
    for rank in (0, 1):
        assert two[rank].keys() == one.keys()
        for name, value in one.items():  # counts are exact; feature sums in another order equal up to rounding
            assert two[rank][name] == pytest.approx(value, rel=1e-9), (name, one, two)
