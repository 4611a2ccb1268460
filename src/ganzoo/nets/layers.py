"""Small builders the networks share."""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def activation(name: str, slope: float = 0.2) -> nn.Module:
    """`relu` or `leaky_relu`, by name so that configs can choose."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(slope)
    raise ValueError(f"Unknown activation {name!r}: use 'relu' or 'leaky_relu'.")


def with_spectral_norm(net: nn.Module) -> nn.Module:
    """Spectrally normalise every convolution and linear layer of `net` in place (Miyato et al., 2018): each
    weight is divided by its largest singular value, estimated by one power iteration per training forward."""
    for module in list(net.modules()):
        if isinstance(module, nn.Conv2d | nn.Linear):
            spectral_norm(module)
    return net
