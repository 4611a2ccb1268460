"""Lightning callbacks: image grids, checkpoints that resume exactly, checkpoints at wall-clock marks."""

from ganzoo.callbacks.checkpoint import ResumableCheckpoint
from ganzoo.callbacks.sample_grid import SampleGrid
from ganzoo.callbacks.wall_clock import WallClockMarks

__all__ = ["ResumableCheckpoint", "SampleGrid", "WallClockMarks"]
