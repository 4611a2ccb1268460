"""A gloo rank that returns right after its last collective exits cleanly, not with SIGABRT from a gloo worker
that asks for the GIL while the interpreter finalizes."""

import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import ganzoo.distributed
from ganzoo.distributed import finish_gloo_work_at_exit

PAIRS = 8  # without the grace at exit, about a third of such pairs lose a rank to SIGABRT on 2 cores


def _all_reduce_and_return(rank: int, init_file: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    finish_gloo_work_at_exit()
    total = torch.ones(3)
    for _ in range(4):
        dist.all_reduce(total)
    assert total.tolist() == [16.0] * 3


@pytest.mark.slow
def test_ranks_that_return_right_after_a_collective_exit_with_code_0(tmp_path):
    ctx = mp.get_context("spawn")
    for pair in range(PAIRS):
        ranks = [ctx.Process(target=_all_reduce_and_return, args=(r, str(tmp_path / f"init{pair}"))) for r in (0, 1)]
        for p in ranks:
            p.start()
        for p in ranks:
            p.join(timeout=60)
        assert [p.exitcode for p in ranks] == [0, 0], f"pair {pair}: exit codes {[p.exitcode for p in ranks]}"


def test_outside_a_process_group_nothing_is_registered_and_in_one_only_one_grace(monkeypatch):
    registered = []
    monkeypatch.setattr("atexit.register", lambda *args: registered.append(args))
    finish_gloo_work_at_exit()
    assert not dist.is_initialized() and registered == []
    monkeypatch.setattr(ganzoo.distributed, "_registered", False)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_backend", lambda: "gloo")
    finish_gloo_work_at_exit()
    finish_gloo_work_at_exit()  # each rank's setup calls it again for fit, validate and test
    assert registered == [(time.sleep, ganzoo.distributed._GRACE_SECONDS)]
