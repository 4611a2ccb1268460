from pathlib import Path

import pytest
import torch

from conftest import DATA_DIR, requires_mnist, requires_usps
from ganzoo.data import DatasetNotFoundError, MNISTDataModule, SyntheticDataModule, USPSDataModule


@pytest.mark.parametrize(
    ("cls", "folder", "a_file"),
    [(MNISTDataModule, "MNIST/raw", "train-images-idx3-ubyte"), (USPSDataModule, "usps", "usps.t.bz2")],
)
def test_missing_data_names_folder_files_and_variable(tmp_path: Path, cls, folder: str, a_file: str):
    dm = cls(data_dir=str(tmp_path), download=False)
    dm.prepare_data()  # download is off: nothing to do, nothing raised yet
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup("fit")
    message = str(info.value)
    for needle in (
        str((tmp_path / folder).resolve()),
        a_file,
        "GANZOO_DATA_DIR",
        "paths.data_dir",
        "data.download",
    ):
        assert needle in message


@requires_mnist
def test_mnist_loads_in_unit_range_with_a_held_out_split():
    dm = MNISTDataModule(data_dir=str(DATA_DIR), batch_size=32, val_size=5000)
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (55000, 5000, 10000)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() == -1 and images.max() == 1
    assert labels.dtype == torch.long and labels.min() >= 0 and labels.max() <= 9
    # the held-out split is disjoint from training: no image appears in both
    train_keys = {hash(x.numpy().tobytes()) for x in dm.train_set.tensors[0][:20000]}
    assert not any(hash(x.numpy().tobytes()) in train_keys for x in dm.val_set.tensors[0][:500])
    assert len(dm.train_dataloader()) == 55000 // 32


@requires_usps
def test_usps_is_resized_to_28_or_kept_at_16():
    dm = USPSDataModule(data_dir=str(DATA_DIR), val_size=729, image_size=28)
    dm.setup()
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (7291 - 729, 729, 2007)
    assert dm.train_set.tensors[0].shape[1:] == (1, 28, 28)
    native = USPSDataModule(data_dir=str(DATA_DIR), image_size=16, val_size=0)
    native.setup()
    images = native.test_set.tensors[0]
    assert images.shape[1:] == (1, 16, 16) and images.min() >= -1 and images.max() <= 1


def test_synthetic_data_is_deterministic():
    a, b = SyntheticDataModule(num_samples=64, seed=1), SyntheticDataModule(num_samples=64, seed=1)
    a.setup()
    b.setup()
    assert torch.equal(a.train_set.tensors[0], b.train_set.tensors[0])
    assert (len(a.train_set), len(a.val_set), len(a.test_set)) == (56, 8, 16)


@requires_mnist
def test_wrong_channel_count_is_refused():
    with pytest.raises(ValueError, match=r"data\.channels"):
        MNISTDataModule(data_dir=str(DATA_DIR), channels=3).setup()
