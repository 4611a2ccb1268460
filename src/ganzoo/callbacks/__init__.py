"""Lightning callbacks: image grids."""

from ganzoo.callbacks.sample_grid import SampleGrid

__all__ = ["SampleGrid"]
