from unittest import mock

import torch
from torch.utils.data import TensorDataset

from ganzoo.data.sampling import ResumableLoader, ResumableSampler


def test_each_epoch_is_a_seeded_permutation():
    sampler = ResumableSampler(20, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(20))
    assert list(sampler) == first  # same epoch, same order
    sampler.set_epoch(1)
    assert sorted(list(sampler)) == list(range(20)) and list(sampler) != first
    assert list(ResumableSampler(20, seed=4)) != first


def test_ranks_get_disjoint_equal_contiguous_blocks_of_one_permutation():
    slices = []
    for rank in range(3):
        with mock.patch("ganzoo.data.sampling._rank_and_world", return_value=(rank, 3)):
            slices.append(list(ResumableSampler(20, seed=1)))
    assert [len(s) for s in slices] == [6, 6, 6]
    # rank after rank, the blocks are the first 18 entries of the one-process permutation, in its order
    assert slices[0] + slices[1] + slices[2] == list(ResumableSampler(20, seed=1))[:18]
    uneven = []
    for rank in range(3):
        with mock.patch("ganzoo.data.sampling._rank_and_world", return_value=(rank, 3)):
            uneven.append(list(ResumableSampler(20, seed=1, shuffle=False, even=False)))
    assert uneven == [list(range(0, 7)), list(range(7, 14)), list(range(14, 20))]  # nothing dropped, in order


def _loader() -> ResumableLoader:
    data = TensorDataset(torch.arange(12))
    return ResumableLoader(data, batch_size=2, sampler=ResumableSampler(12, seed=0), drop_last=True)


def test_loader_resumes_after_the_batches_it_handed_out():
    loader = _loader()
    it = iter(loader)
    batches = [next(it)[0] for _ in range(2)]
    state = loader.state_dict()
    assert state == {"epoch": 0, "batches": 2}
    rest = [b[0] for b in it]
    assert loader.state_dict() == {"epoch": 0, "batches": 6}

    resumed = _loader()
    resumed.load_state_dict(state)
    replay = [b[0] for b in resumed]
    assert torch.equal(torch.cat(replay), torch.cat(rest))
    assert not set(torch.cat(batches).tolist()) & set(torch.cat(replay).tolist())
    assert resumed.state_dict() == {"epoch": 0, "batches": 6}


def test_resume_state_of_a_finished_epoch_does_not_skip_the_next():
    loader = _loader()
    loader.load_state_dict({"epoch": 0, "batches": 6})
    loader.sampler.set_epoch(1)
    assert len(list(loader)) == 6
