"""metrics=inception: offline without weights stops at start-up with instructions; with a local file it works."""

import socket
import time
from pathlib import Path

import pytest
import torch
import torch_fidelity.feature_extractor_inceptionv3 as fidelity
from torchmetrics.image.fid import NoTrainInceptionV3

from ganzoo.metrics import InceptionExtractor, InceptionWeightsError
from ganzoo.metrics.inception import INCEPTION_FILE
from ganzoo.train import build
from helpers import SMALL_DATA, TINY


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, an empty torch hub cache and no weights variable."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (offline test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)


def test_offline_inception_without_weights_fails_at_start_up_with_instructions(offline, make_config):
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "metrics=inception", "trainer.max_steps=2")
    start = time.monotonic()
    with pytest.raises(InceptionWeightsError) as error:
        build(cfg)  # before any datamodule, model or trainer is made
    assert time.monotonic() - start < 10
    message = str(error.value)
    for needed in ("metrics.inception_weights=", "GANZOO_INCEPTION_WEIGHTS=", INCEPTION_FILE, "metrics=digits"):
        assert needed in message
    assert not Path(cfg.paths.output_dir).exists()


def test_a_weights_path_that_does_not_exist_is_named(make_config, tmp_path):
    missing = tmp_path / "nowhere.pth"
    cfg = make_config(*TINY["dcgan"], *SMALL_DATA, "metrics=inception", f"metrics.inception_weights={missing}")
    with pytest.raises(InceptionWeightsError, match=str(missing)):
        build(cfg)


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    """An Inception weights file of the right layout, randomly initialised (the real file is 91 MB)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(fidelity, "load_state_dict_from_url", lambda *a, **k: {})
    patch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
    torch.manual_seed(0)
    net = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    patch.undo()
    path = tmp_path_factory.mktemp("inception") / INCEPTION_FILE
    torch.save(net.state_dict(), path)
    return path


def test_inception_extractor_matches_torchmetrics_on_gray_images_in_unit_range(random_weights, monkeypatch):
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(random_weights))
    extractor = InceptionExtractor(str(random_weights))
    gray = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    features, logits = extractor(gray)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    # torchmetrics' own network on the same images as it expects them: uint8 RGB in 0..255
    reference = NoTrainInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(random_weights))
    rgb = ((gray + 1) * 127.5).round().to(torch.uint8).repeat(1, 3, 1, 1)
    assert torch.allclose(features, reference(rgb), rtol=1e-4, atol=1e-5)
