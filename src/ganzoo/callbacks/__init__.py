"""Lightning callbacks: validation metrics, image grids, checkpoints that resume exactly, checkpoints at wall-clock
marks, the stop at a non-finite loss, and what the terminal shows."""

from ganzoo.callbacks.checkpoint import ResumableCheckpoint
from ganzoo.callbacks.nonfinite import NonFiniteLossError, StopOnNonFinite
from ganzoo.callbacks.sample_grid import SampleGrid
from ganzoo.callbacks.terminal import NetworkSummary, ProgressBar
from ganzoo.callbacks.validation import ValidationMetrics
from ganzoo.callbacks.wall_clock import WallClockMarks

__all__ = [
    "NetworkSummary",
    "NonFiniteLossError",
    "ProgressBar",
    "ResumableCheckpoint",
    "SampleGrid",
    "StopOnNonFinite",
    "ValidationMetrics",
    "WallClockMarks",
]
