"""The unpaired two-domain datamodule: independent shuffles, the shorter domain cycled, shards, shapes."""

import pytest
import torch
from hydra.utils import instantiate

from conftest import requires_mnist, requires_usps
from ganzoo.data import SyntheticDataModule, UnpairedDataModule, UnpairedSampler, unpaired


def pairs(sampler: UnpairedSampler, epoch: int) -> list[tuple[int, int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


def test_each_domain_shows_every_image_once_per_pass_over_that_domain():
    sampler = UnpairedSampler((12, 5), batch_size=3, seed=7)
    stream = pairs(sampler, 0) + pairs(sampler, 1) + pairs(sampler, 2)
    assert len(stream) == 36
    a, b = [p[0] for p in stream], [p[1] for p in stream]
    for epoch in range(3):
        assert sorted(a[12 * epoch : 12 * epoch + 12]) == list(range(12))
    # USPS-like shorter domain: consecutive blocks of 5 positions are permutations, across loader epochs too
    for start in range(0, 35, 5):
        assert sorted(b[start : start + 5]) == list(range(5))
    # and each pass is shuffled anew, independently of the longer domain
    assert len({tuple(b[s : s + 5]) for s in range(0, 35, 5)}) > 1
    assert a[:12] != list(range(12))


def test_two_epochs_pair_the_images_differently():
    sampler = UnpairedSampler((12, 5), batch_size=3, seed=0)
    first, second = pairs(sampler, 0), pairs(sampler, 1)
    assert set(first) != set(second)
    # the same image of the longer domain meets other partners
    partner = [dict(first)[i] != dict(second)[i] for i in range(12)]
    assert any(partner)


def test_epoch_is_whole_batches_on_every_rank_and_ranks_split_it(monkeypatch):
    single = pairs(UnpairedSampler((13, 5), batch_size=2, seed=3), 1)
    assert len(single) == 12  # 13 trimmed to whole batches of 2
    shards = []
    for rank in range(2):
        monkeypatch.setattr(unpaired, "_rank_and_world", lambda rank=rank: (rank, 2))
        sampler = UnpairedSampler((13, 5), batch_size=2, seed=3)
        shard = pairs(sampler, 1)
        assert len(shard) == len(sampler) == 6  # 13 // (2 ranks * batch 2) * 2
        shards.append(shard)
    # rank 0 takes the first 6 of the 12 positions that one process would take, rank 1 the last 6
    assert shards[0] + shards[1] == single


def test_mid_epoch_resume_continues_the_same_pairs():
    sampler = UnpairedSampler((12, 5), batch_size=3, seed=1)
    full = pairs(sampler, 2)
    sampler.resume(2, 6)
    assert pairs(sampler, 2) == full[6:]


def synthetic_pair(usps_size: int, batch_size: int = 8) -> UnpairedDataModule:
    return UnpairedDataModule(
        {
            "mnist": SyntheticDataModule(num_samples=48, val_size=8, image_size=28, seed=0),
            "usps": SyntheticDataModule(num_samples=30, val_size=6, image_size=usps_size, seed=1),
        },
        batch_size=batch_size,
        seed=0,
    )


@pytest.mark.parametrize("usps_size", [28, 14])
def test_batches_are_unpaired_pairs_of_each_domain_at_its_size(usps_size: int):
    datamodule = synthetic_pair(usps_size)
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    batches = list(loader)
    assert len(batches) == len(loader) == 5  # the longer domain, 40 images, in batches of 8
    mnist, usps = datamodule.train_sets["mnist"].tensors[0], datamodule.train_sets["usps"].tensors[0]
    seen = torch.cat([x for x, _ in batches])
    assert all(x.shape == (8, 1, 28, 28) and y.shape == (8, 1, usps_size, usps_size) for x, y in batches)
    # every MNIST training image exactly once in the epoch (compared by content, not by index)
    assert torch.equal(seen[seen.flatten(1).sum(1).argsort()], mnist[mnist.flatten(1).sum(1).argsort()])
    # the first 24 USPS images drawn are the 24 USPS training images, each once
    drawn = torch.cat([y for _, y in batches])[:24]
    assert torch.equal(drawn[drawn.flatten(1).sum(1).argsort()], usps[usps.flatten(1).sum(1).argsort()])


def test_validation_is_held_out_of_each_domains_training_split_and_test_is_its_test_split():
    datamodule = synthetic_pair(14)
    datamodule.setup("fit")
    for name, domain in datamodule.domains.items():
        train_images, train_labels = domain.load_split(train=True)
        order = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(domain.seed))
        held_out, kept = order[: domain.val_size], order[domain.val_size :]
        test_images, test_labels = domain.load_split(train=False)
        expected = {
            "val": (train_images[held_out], train_labels[held_out]),
            "test": (test_images, test_labels),
        }
        loaders = {"val": datamodule.val_dataloader(), "test": datamodule.test_dataloader()}
        index = datamodule.names.index(name)
        for split, (expected_images, expected_labels) in expected.items():
            images, labels = map(torch.cat, zip(*loaders[split][index], strict=True))
            assert torch.equal(images, expected_images) and torch.equal(labels, expected_labels), (name, split)
        # training never sees a validation image
        assert torch.equal(datamodule.train_sets[name].tensors[0], train_images[kept])
    fixed = datamodule.fixed_batch(3)
    assert fixed["usps"].shape == (3, 1, 14, 14)
    assert torch.equal(fixed["mnist"], datamodule.val_sets["mnist"].tensors[0][:3])


def test_a_domain_without_a_validation_split_is_refused():
    datamodule = UnpairedDataModule(
        {
            "mnist": SyntheticDataModule(num_samples=48, val_size=0, seed=0),
            "usps": SyntheticDataModule(num_samples=30, val_size=6, seed=1),
        }
    )
    with pytest.raises(ValueError, match=r"data.domains.mnist.val_size"):
        datamodule.setup("fit")


@requires_mnist
@requires_usps
@pytest.mark.slow
def test_real_mnist_usps_shapes_and_splits(make_config):
    # The asymmetric model's setting (USPS 14x14, MNIST 28x28); loading USPS is the slow part, so once only.
    usps_size = 14
    cfg = make_config("model=cyclegan_asym", "data=mnist_usps", "data.batch_size=32")
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    assert {d: len(s) for d, s in datamodule.train_sets.items()} == {"mnist": 55000, "usps": 6562}
    assert {d: len(s) for d, s in datamodule.val_sets.items()} == {"mnist": 5000, "usps": 729}
    assert {d: len(s) for d, s in datamodule.test_sets.items()} == {"mnist": 10000, "usps": 2007}
    x, y = next(iter(datamodule.train_dataloader()))
    assert x.shape == (32, 1, 28, 28) and y.shape == (32, 1, usps_size, usps_size)
    assert x.min() >= -1 and x.max() <= 1 and y.min() >= -1 and y.max() <= 1
    images, labels = next(iter(datamodule.val_dataloader()[1]))
    assert images.shape[-1] == usps_size and labels.dtype == torch.long and set(labels.tolist()) <= set(range(10))
