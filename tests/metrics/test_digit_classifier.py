"""The shipped digit classifiers: small files, and the promised accuracy on the real test splits."""

import subprocess
import sys

import pytest
import torch

from conftest import DATA_DIR, requires_mnist, requires_usps
from ganzoo.augment import classifier_jitter
from ganzoo.classifier import accuracy
from ganzoo.data import MNISTDataModule, SyntheticDataModule, USPSDataModule
from ganzoo.data.frames import enlarge_centre, shrink_into_frame
from ganzoo.metrics import DigitExtractor, load_digit_classifier
from ganzoo.metrics.digits import CLASSIFIERS, weights_path


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_weights_ship_in_the_package_as_small_files(name: str):
    path = weights_path(name)
    assert path.is_file() and path.stat().st_size < 2 * 2**20
    saved = torch.load(path, weights_only=True)
    assert saved["dataset"] == name  # trained by `python -m ganzoo.classifier data=<name>`, not a placeholder


@requires_mnist
def test_mnist_classifier_reaches_99_percent_on_the_mnist_test_split():
    images, labels = MNISTDataModule(data_dir=str(DATA_DIR)).load_split(train=False)
    assert accuracy(load_digit_classifier("mnist"), images, labels) >= 0.990


@requires_usps
def test_usps_classifier_reaches_96_5_percent_on_the_usps_test_split():
    images, labels = USPSDataModule(data_dir=str(DATA_DIR)).load_split(train=False)
    assert images.shape[1:] == (1, 28, 28) and images.min() == -1
    assert accuracy(load_digit_classifier("usps"), images, labels) >= 0.965


def test_auto_picks_the_classifier_of_the_training_data():
    assert DigitExtractor(data="ganzoo.data.USPSDataModule").classifier == "usps"
    assert DigitExtractor(data="ganzoo.data.MNISTDataModule").classifier == "mnist"
    assert DigitExtractor(data="ganzoo.data.SyntheticDataModule").classifier == "mnist"


def test_extractor_stays_in_eval_mode_and_runs_once_per_batch():
    extractor = DigitExtractor("mnist")
    extractor.train()
    assert not extractor.net.training
    calls = []
    extractor.net.body.register_forward_hook(lambda *_: calls.append(1))
    images = torch.rand(8, 1, 28, 28) * 2 - 1
    features = extractor.head(0)(images)
    logits = extractor.head(1)(images)
    assert len(calls) == 1 and features.shape == (8, 128) and logits.shape == (8, 10)
    assert features.dtype == torch.float64  # KID's cubic kernel needs the precision
    extractor.head(0)(images.clone())  # another tensor: computed afresh
    assert len(calls) == 2
    assert torch.allclose(logits.float(), extractor.net(images))  # the same as the classifier's own forward in eval


def test_augmentation_keeps_the_background_and_moves_the_digit():
    image = -torch.ones(4, 1, 28, 28)
    image[:, :, 10:18, 12:16] = 1.0
    warped = classifier_jitter(image, torch.Generator().manual_seed(0))
    assert warped.shape == image.shape
    assert torch.allclose(warped[:, :, :3, :], torch.tensor(-1.0), atol=1e-5)  # border stays background
    assert not torch.allclose(warped, image)


def test_fixed_maps_move_a_digit_between_the_frames():
    mnist_like = -torch.ones(2, 1, 28, 28)
    mnist_like[..., 4:24, 4:24] = 1.0  # MNIST's digits fill the centre 20x20
    assert torch.allclose(enlarge_centre(mnist_like, 20), torch.ones(2, 1, 28, 28), atol=1e-5)
    usps_like = torch.ones(2, 1, 28, 28)  # USPS's digits fill the frame
    shrunk = shrink_into_frame(usps_like, 20)
    assert torch.allclose(shrunk, mnist_like, atol=1e-5)


def test_classifier_command_trains_saves_and_reports_the_accuracy_of_what_it_saved(tmp_path):
    out = tmp_path / "synthetic.pt"
    args = [
        "data=synthetic",
        "data.num_samples=512",
        "data.batch_size=32",
        "epochs=2",
        "widths=[4,8,8]",
        f"out={out}",
        f"hydra.run.dir={tmp_path / 'run'}",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "ganzoo.classifier", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    saved = torch.load(out, weights_only=True)
    assert saved["arch"]["widths"] == [4, 8, 8] and saved["epochs"] == 2 and saved["dataset"] == "synthetic"
    # the accuracies it records are those of the weights it wrote, on the splits of the same data
    net = load_digit_classifier(out)
    data = SyntheticDataModule(num_samples=512, val_size=64, batch_size=32, seed=0)  # conf/data/synthetic.yaml
    data.setup("fit")
    assert saved["val_accuracy"] == pytest.approx(accuracy(net, *data.val_set.tensors), abs=1e-9)
    assert saved["test_accuracy"] == pytest.approx(accuracy(net, *data.test_set.tensors), abs=1e-9)
    assert saved["test_accuracy"] > 0.5  # ten classes of random patterns: learnt, not guessed
