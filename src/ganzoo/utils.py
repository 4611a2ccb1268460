"""Helpers too small for a module of their own."""

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put modules in eval mode and give each back the mode it had, so sampling never disturbs training."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.train(mode)


@contextmanager
def unchanged_buffers(module: nn.Module) -> Iterator[None]:
    """Run a module in training mode without moving its buffers (BatchNorm's running statistics and counter):
    for a forward pass that repeats one the buffers have seen already. The forward moves copies, which are then
    dropped; the originals are not written to, since autograd may have saved them for the backward pass."""
    owned = [(m, name, b) for m in module.modules() for name, b in m.named_buffers(recurse=False)]
    for m, name, b in owned:
        setattr(m, name, b.clone())
    try:
        yield
    finally:
        for m, name, b in owned:
            setattr(m, name, b)
