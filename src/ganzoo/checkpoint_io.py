"""Checkpoint writes that a kill at any moment cannot leave half done."""

import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write to a hidden temporary file in the checkpoint's own folder, sync it to disk, then rename it over the
    target. A rename within one file system is atomic, so `last.ckpt` is always either the previous checkpoint
    or the new one, whole. (Lightning's own transaction stages the file in the system temporary folder, and its
    final move is a copy, not a rename, where that folder is on another file system.)"""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.parent / f".{path.name}.{os.getpid()}.partial"
        try:
            with open(partial, "wb") as file:
                torch.save(checkpoint, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
