"""Exponential moving averages of a model's generating networks (Yazici et al., 2019; ProGAN, StyleGAN, BigGAN).

The average is what a GAN should be judged by: the raw generator chases a moving critic and oscillates around
a good solution, its average sits closer to it. `EMA` keeps one `torch.optim.swa_utils.AveragedModel` per
network, updated after every generator update with

    avg <- d_n * avg + (1 - d_n) * w,   d_n = min(decay, (1 + n) / (10 + n))

where n counts the updates averaged so far: the warm-up (TensorFlow's `ExponentialMovingAverage(num_updates)`)
keeps the first averages from being dominated by the random initial weights. Buffers are averaged with the
same weights (`use_buffers=True`), so BatchNorm's running statistics describe the averaged network rather than
the latest raw one; integer buffers (BatchNorm's batch counter) are copied.

The averages are sub-modules of the LightningModule with `requires_grad=False`: they are saved in its
`state_dict` (checkpoints resume them exactly), no optimizer or DDP sees them, and since they are updated from
parameters that are equal on every rank, they stay equal on every rank too.
"""

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel


def ema_decay(decay: float, n_averaged: int, warmup: bool = True) -> float:
    """The decay applied at the (n_averaged + 1)-th update."""
    return min(decay, (1 + n_averaged) / (10 + n_averaged)) if warmup else decay


class EMA(nn.Module):
    """Averages of `networks` (name -> module) with `decay` in [0, 1); `average(name)` is the averaged copy."""

    def __init__(self, networks: Mapping[str, nn.Module], decay: float = 0.999, warmup: bool = True) -> None:
        super().__init__()
        self.check_decay(decay)
        self.decay = decay
        self.warmup = warmup
        self.averages = nn.ModuleDict(
            {name: AveragedModel(net, multi_avg_fn=self._lerp, use_buffers=True) for name, net in networks.items()}
        )
        self.averages.requires_grad_(False)

    @staticmethod
    def check_decay(decay: Any) -> None:
        if isinstance(decay, bool) or not isinstance(decay, int | float) or not 0.0 <= decay < 1.0:
            raise ValueError(f"model.ema.decay must be in [0, 1) (e.g. 0.999), or null for no EMA; got {decay!r}.")

    def _lerp(self, averaged: list[Tensor], current: list[Tensor], n_averaged: Tensor) -> None:
        # AveragedModel groups tensors by dtype: integer buffers arrive together and are copied.
        if not averaged[0].is_floating_point():
            torch._foreach_copy_(averaged, current)
            return
        torch._foreach_lerp_(averaged, current, 1.0 - ema_decay(self.decay, int(n_averaged), self.warmup))

    @torch.no_grad()
    def update(self, networks: Mapping[str, nn.Module]) -> None:
        for name, net in networks.items():
            self.averages[name].update_parameters(net)

    def average(self, name: str) -> nn.Module:
        return self.averages[name].module

    @property
    def num_updates(self) -> int:
        return int(next(iter(self.averages.values())).n_averaged)
