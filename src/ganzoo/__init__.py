"""ganzoo: classic GANs as small, tested Lightning modules driven by Hydra configs."""

__version__ = "0.1.0"
