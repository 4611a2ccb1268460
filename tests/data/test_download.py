"""Data that arrives by itself: present files are used as they are, missing ones are fetched by torchvision when a
server answers, and offline (or when a download breaks) the run stops in seconds with the paragraph that names the
folder, the files and GANZOO_DATA_DIR, leaving no partial file behind. torchvision's fetching and the network are
replaced by fakes here, so these tests never go online."""

import bz2
import http.client
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from torchvision import datasets

import ganzoo.data.download as download
from cifar_archive import write_cifar_archive
from ganzoo.data import CIFAR10DataModule, DatasetNotFoundError, MNISTDataModule, USPSDataModule

DOMAINS = ("mnist", "usps", "cifar10")


def write_idx(path: Path, array: np.ndarray) -> None:
    """uint8 array in MNIST's idx layout: magic (0, 0, 8, ndim), big-endian sizes, then the bytes."""
    path.write_bytes(bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


def write_mnist(raw: Path, seed: int) -> np.ndarray:
    """Six training and four test digits; returns the test images."""
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, size=n, dtype=np.uint8))
    return images


def usps_bytes(n: int, seed: int) -> bytes:
    """n 16x16 digits in USPS's bz2 libsvm lines: `label index:value ...`, labels 1..10, values in [-1, 1]."""
    rng = np.random.default_rng(seed)
    lines = [
        f"{rng.integers(1, 11)} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(rng.uniform(-1, 1, 256)))
        for _ in range(n)
    ]
    return bz2.compress(("\n".join(lines) + "\n").encode())


def write_usps(folder: Path, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "usps.bz2").write_bytes(usps_bytes(6, seed))
    (folder / "usps.t.bz2").write_bytes(usps_bytes(4, seed + 1))


def write_files(domain: str, root: Path, seed: int = 0) -> None:
    """The files of `domain` in torchvision's layout under the data root `root`."""
    if domain == "mnist":
        write_mnist(root / "MNIST" / "raw", seed)
    elif domain == "usps":
        write_usps(root / "usps", seed)
    else:
        write_cifar_archive(root, seed=seed)


def datamodule(domain: str, root: Path, download_allowed: bool = True):
    if domain == "cifar10":
        return CIFAR10DataModule(data_dir=str(root), val_size=2, image_size=32, channels=3, download=download_allowed)
    cls = MNISTDataModule if domain == "mnist" else USPSDataModule
    return cls(data_dir=str(root), val_size=2, image_size=28, download=download_allowed)


def written_test_images(domain: str, root: Path, seed: int) -> torch.Tensor:
    write_files(domain, root, seed)
    dm = datamodule(domain, root, download_allowed=False)
    dm.setup()
    return dm.test_set.tensors[0]


class FakeTorchvision:
    """Stands in for torchvision's fetching: records each call and writes the files (seeded) where torchvision
    would, into the root it was given; after `fail_after` whole files it writes half of the next and breaks off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, seed: int = 1, fail_after: int | None = None) -> None:
        self.calls: list[str] = []
        self.seed = seed
        self.fail_after = fail_after
        self.written = 0
        fake = self

        def mnist(dataset: datasets.MNIST) -> None:
            fake.calls.append(dataset.raw_folder)
            if not all((Path(dataset.raw_folder) / f).exists() for f in MNISTDataModule.files):
                fake.write(Path(dataset.raw_folder), "mnist")

        def usps(url: str, root: str, filename: str, md5: str | None = None) -> None:
            fake.calls.append(url)
            fake.write(Path(root), "usps", only=filename)

        def cifar(dataset: datasets.CIFAR10) -> None:
            fake.calls.append(dataset.root)
            if not (Path(dataset.root) / CIFAR10DataModule.folder / "test_batch").exists():
                fake.write(Path(dataset.root), "cifar10")

        monkeypatch.setattr(datasets.MNIST, "download", mnist)
        monkeypatch.setattr("torchvision.datasets.usps.download_url", usps)
        monkeypatch.setattr(datasets.CIFAR10, "download", cifar)
        # the tiny archive has other checksums than the real one
        monkeypatch.setattr(datasets.CIFAR10, "_check_integrity", lambda self: True)
        monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *args: True)

    def write(self, where: Path, domain: str, only: str | None = None) -> None:
        scratch = where / f".fake-{len(self.calls)}"
        write_files(domain, scratch, self.seed)
        for source in sorted(p for p in scratch.rglob("*") if p.is_file() and only in (None, p.name)):
            # MNIST's and USPS's roots are the files' own folder; CIFAR-10's holds cifar-10-batches-py
            target = where / (source.relative_to(scratch) if domain == "cifar10" else source.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            if self.fail_after is not None and self.written >= self.fail_after:
                target.write_bytes(data[: len(data) // 2])
                raise http.client.IncompleteRead(data[: len(data) // 2], len(data) - len(data) // 2)
            target.write_bytes(data)
            self.written += 1


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The servers checked are torchvision's own, not a proxy this machine may name."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> list:
    """A server answers the reachability check; returns the list of addresses it was asked for."""
    asked: list = []

    def connect(address, timeout=None, *args, **kwargs):
        asked.append(address)
        return socket.socket()

    monkeypatch.setattr(socket, "create_connection", connect)
    return asked


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list:
    """No name resolves, as on a machine without network; returns the hosts that were looked up."""
    looked_up: list = []

    def no_dns(host, *args, **kwargs):
        looked_up.append(host)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return looked_up


def leftovers(root: Path) -> list[str]:
    """Every file and folder under root, hidden ones too."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def files_under(root: Path) -> list[str]:
    return [p for p in leftovers(root) if (root / p).is_file()]


@pytest.mark.parametrize("domain", DOMAINS)
def test_present_files_are_used_and_nothing_is_fetched(tmp_path: Path, monkeypatch, online, domain: str):
    fake = FakeTorchvision(monkeypatch)
    expected = written_test_images(domain, tmp_path / "reference", seed=5)
    write_files(domain, tmp_path / "data", seed=5)
    before = leftovers(tmp_path / "data")
    dm = datamodule(domain, tmp_path / "data")
    dm.prepare_data()
    dm.setup("fit")
    assert fake.calls == [] and online == []  # neither torchvision's download nor the network was touched
    assert torch.equal(dm.test_set.tensors[0], expected)
    assert leftovers(tmp_path / "data") == before


@pytest.mark.parametrize("domain", DOMAINS)
def test_missing_files_are_fetched_and_used(tmp_path: Path, monkeypatch, online, domain: str):
    fake = FakeTorchvision(monkeypatch, seed=3)
    expected = written_test_images(domain, tmp_path / "reference", seed=3)
    dm = datamodule(domain, tmp_path / "data")
    dm.setup("fit")  # without prepare_data, as ganzoo.evaluate and ganzoo.sample call it: setup fetches too
    assert len(fake.calls) >= 1 and len(online) >= 1
    assert torch.equal(dm.test_set.tensors[0], expected)
    # exactly the expected files, in their folder; no staging folder or archive is left behind
    assert files_under(tmp_path / "data") == sorted(f"{dm.folder}/{f}" for f in dm.files)
    assert not any(p.startswith(".") for p in leftovers(tmp_path / "data"))
    # the servers checked are torchvision's own
    hosts = {host for host, _ in online}
    assert hosts <= {"ossci-datasets.s3.amazonaws.com", "yann.lecun.com", "www.csie.ntu.edu.tw", "www.cs.toronto.edu"}
    fake.calls.clear()
    datamodule(domain, tmp_path / "data").prepare_data()
    assert fake.calls == []  # the next run finds them


def test_only_missing_files_are_put_in_place(tmp_path: Path, monkeypatch, online):
    FakeTorchvision(monkeypatch, seed=2)
    folder = tmp_path / "usps"
    folder.mkdir()
    own = usps_bytes(3, seed=9)
    (folder / "usps.bz2").write_bytes(own)
    USPSDataModule(data_dir=str(tmp_path)).prepare_data()
    assert (folder / "usps.bz2").read_bytes() == own  # a present file is never replaced
    assert (folder / "usps.t.bz2").read_bytes() == usps_bytes(4, seed=3)  # the fake's test file (seed 2 + 1)


@pytest.mark.parametrize("domain", DOMAINS)
def test_offline_stops_in_seconds_with_the_paragraph(tmp_path: Path, monkeypatch, offline, domain: str):
    fake = FakeTorchvision(monkeypatch)
    dm = datamodule(domain, tmp_path / "data")
    start = time.monotonic()
    with pytest.raises(DatasetNotFoundError) as info:
        dm.prepare_data()
    assert time.monotonic() - start < 5
    assert fake.calls == [] and offline  # the reachability check stopped it before torchvision tried
    message = str(info.value)
    assert "\n" not in message and "downloading it failed (ConnectionError" in message
    for part in (str((tmp_path / "data" / dm.folder).resolve()), *dm.files, "GANZOO_DATA_DIR", "paths.data_dir"):
        assert part in message, part
    assert leftovers(tmp_path) == []  # not even the data folder was made


def test_a_black_holed_network_fails_within_the_probe_timeout(tmp_path: Path, monkeypatch):
    """Packets dropped (a firewall, a dead route): connects and name lookups would wait; the check does not."""
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(10)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(download, "PROBE_TIMEOUT_S", 0.3)
    fake = FakeTorchvision(monkeypatch)
    start = time.monotonic()
    try:
        with pytest.raises(DatasetNotFoundError, match=r"no answer from ossci-datasets.s3.amazonaws.com:443, "):
            MNISTDataModule(data_dir=str(tmp_path)).prepare_data()
        assert time.monotonic() - start < 2 and fake.calls == []
    finally:
        release.set()


@pytest.mark.parametrize("domain", ["mnist", "usps"])
def test_a_download_that_breaks_leaves_nothing_and_the_next_one_works(tmp_path: Path, monkeypatch, online, domain):
    fake = FakeTorchvision(monkeypatch, fail_after=1 if domain == "usps" else 2)
    dm = datamodule(domain, tmp_path / "data")
    with pytest.raises(DatasetNotFoundError) as info:
        dm.prepare_data()
    message = str(info.value)
    assert "downloading it failed (IncompleteRead" in message and "GANZOO_DATA_DIR" in message
    assert fake.calls
    # no half file where the datamodule looks (it would pass for present), no staging folder: nothing at all
    assert dm.missing_files() == list(dm.files)
    assert leftovers(tmp_path / "data") == []
    # the same clear paragraph from setup, and a later run with a working connection gets the data
    with pytest.raises(DatasetNotFoundError, match="downloading it failed"):
        dm.setup()
    fake.fail_after = None
    dm.setup()
    assert torch.equal(dm.test_set.tensors[0], written_test_images(domain, tmp_path / "reference", seed=1))


@pytest.mark.parametrize("domain", DOMAINS)
def test_download_false_never_uses_the_network(tmp_path: Path, monkeypatch, online, domain: str):
    fake = FakeTorchvision(monkeypatch)
    dm = datamodule(domain, tmp_path / "data", download_allowed=False)
    dm.prepare_data()
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup()
    assert fake.calls == [] and online == []
    message = str(info.value)
    for part in ("data.download=false forbids", "data.download=true", "GANZOO_DATA_DIR", dm.files[0]):
        assert part in message, part


def test_the_check_goes_where_urllib_goes(monkeypatch: pytest.MonkeyPatch):
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert download.endpoint(url) == ("www.cs.toronto.edu", 443)
    assert download.endpoint("http://yann.lecun.com/exdb/mnist/") == ("yann.lecun.com", 80)
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert download.endpoint(url) == ("proxy.example", 3128)
    monkeypatch.setenv("no_proxy", "cs.toronto.edu")
    assert download.endpoint(url) == ("www.cs.toronto.edu", 443)


@pytest.mark.parametrize("data", ["mnist", "usps", "cifar10", "mnist_usps"])
def test_data_configs_download_by_default_and_can_forbid_it(make_config, data: str):
    def flags(cfg) -> list[bool]:
        parts = cfg.data.domains.values() if data == "mnist_usps" else [cfg.data]
        return [instantiate(part).download for part in parts]

    assert all(flags(make_config(f"data={data}")))
    override = [f"data.domains.{d}.download=false" for d in ("mnist", "usps")] if data == "mnist_usps" else []
    assert not any(flags(make_config(f"data={data}", *(override or ["data.download=false"]))))
