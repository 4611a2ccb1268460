"""Lightning callbacks: image grids, checkpoints that resume exactly."""

from ganzoo.callbacks.checkpoint import ResumableCheckpoint
from ganzoo.callbacks.sample_grid import SampleGrid

__all__ = ["ResumableCheckpoint", "SampleGrid"]
