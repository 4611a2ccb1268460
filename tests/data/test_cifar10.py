"""CIFAR-10 on a tiny archive in torchvision's `cifar-10-batches-py` layout that the tests write themselves."""

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from cifar_archive import PER_BATCH, TEST, write_cifar_archive
from ganzoo.data import CIFAR10DataModule, DatasetNotFoundError


def pixel(data: np.ndarray, i: int, c: int, h: int, w: int) -> float:
    """Image i's value at channel c, row h, column w, in [-1, 1], read straight from the row layout."""
    return data[i, c * 1024 + h * 32 + w] / 255 * 2 - 1


def test_splits_shapes_range_and_pixel_layout(tmp_path):
    written = write_cifar_archive(tmp_path)
    dm = CIFAR10DataModule(data_dir=str(tmp_path), val_size=7, image_size=32, channels=3, batch_size=4)
    dm.setup("fit")
    train_x, train_y = dm.train_set.tensors
    val_x, val_y = dm.val_set.tensors
    test_x, test_y = dm.test_set.tensors
    assert (len(train_x), len(val_x), len(test_x)) == (5 * PER_BATCH - 7, 7, TEST)
    assert train_x.shape[1:] == (3, 32, 32) and train_x.dtype == torch.float32
    everything = torch.cat([train_x, val_x, test_x])
    assert everything.min() == -1 and everything.max() == 1
    # train + val are the five training batches, in some order; test is test_batch in file order
    all_labels = [y for i in range(1, 6) for y in written[f"data_batch_{i}"][1]]
    assert sorted(torch.cat([train_y, val_y]).tolist()) == sorted(all_labels)
    assert test_y.tolist() == written["test_batch"][1]
    data = written["test_batch"][0]
    for i, c, h, w in [(0, 0, 0, 0), (0, 0, 0, 1), (1, 2, 31, 5), (4, 1, 7, 30)]:
        assert test_x[i, c, h, w].item() == pytest.approx(pixel(data, i, c, h, w), abs=1e-6)
    batch = next(iter(dm.train_dataloader()))
    assert batch[0].shape == (4, 3, 32, 32) and batch[1].shape == (4,)


def test_missing_archive_names_the_folder_the_files_and_the_fixes(tmp_path):
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "nowhere"), channels=3, image_size=32, download=False)
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup("fit")
    message = str(info.value)
    for part in (
        "CIFAR-10",
        "cifar-10-batches-py",
        "data_batch_1",
        "test_batch",
        "GANZOO_DATA_DIR",
        "data.download=true",
    ):
        assert part in message, part


def test_config_gives_32x32_rgb_networks(make_config, tmp_path):
    write_cifar_archive(tmp_path / "data")
    for model in ("dcgan", "wgan_gp"):
        cfg = make_config(f"model={model}", "data=cifar10", f"data.data_dir={tmp_path / 'data'}")
        assert (cfg.data.channels, cfg.data.image_size) == (3, 32)
        net = instantiate(cfg.model)
        images = net.sample(3)
        assert images.shape == (3, 3, 32, 32)
        assert net.critic(images).shape == (3,)
