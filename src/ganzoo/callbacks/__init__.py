"""Lightning callbacks: image grids, checkpoints that resume exactly, checkpoints at wall-clock marks, and
what the terminal shows."""

from ganzoo.callbacks.checkpoint import ResumableCheckpoint
from ganzoo.callbacks.sample_grid import SampleGrid
from ganzoo.callbacks.terminal import NetworkSummary, ProgressBar
from ganzoo.callbacks.wall_clock import WallClockMarks

__all__ = ["NetworkSummary", "ProgressBar", "ResumableCheckpoint", "SampleGrid", "WallClockMarks"]
