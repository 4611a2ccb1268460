"""Small builders the networks share."""

from torch import nn


def activation(name: str, slope: float = 0.2) -> nn.Module:
    """`relu` or `leaky_relu`, by name so that configs can choose."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(slope)
    raise ValueError(f"Unknown activation {name!r}: use 'relu' or 'leaky_relu'.")
