"""The process-wide random streams (Python, NumPy, torch CPU and every CUDA device), captured and restored.

Models draw their own noise from `AdversarialModule.rng`, but layers such as dropout draw from torch's global
stream, and user code may use Python's or NumPy's. A checkpoint holds these states per rank so that a resumed
run continues every stream where it stopped.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def capture_global_rng() -> dict[str, Any]:
    """This process's global random states; CUDA's only where CUDA has been used (reading it would start it)."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    # NumPy's key array as a tensor: checkpoints must load with torch.load(weights_only=True)
    numpy_state = (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss))
    return {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state(), "cuda": cuda}


def restore_global_rng(state: dict[str, Any]) -> bool:
    """Set the global streams to `state`; False (and the CUDA states left alone) where this process's CUDA
    devices are not those that wrote it, so that streams on them are no longer bit-exact."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is None:
        return True
    if torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all(cuda)
        return True
    return False


@contextmanager
def seeded_cpu_stream(seed: int) -> Iterator[None]:
    """Run code that draws from torch's global CPU stream (torchmetrics' IS and KID subsets) from `seed`, and
    leave the global streams as they were. Seeds the CPU generator alone: `torch.manual_seed` would also reseed
    every CUDA device (queued until CUDA starts, when it has not yet), which `fork_rng` does not undo."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


def derived_seed(state: torch.Tensor, salt: int) -> int:
    """A seed determined by a saved generator state and `salt` (a rank): for streams that cannot be continued."""
    return (int(torch.as_tensor(state, dtype=torch.uint8).to(torch.int64).sum()) * 1_000_003 + salt) % 2**63
