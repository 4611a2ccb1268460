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

import logging
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

log = logging.getLogger(__name__)
WEIGHTS = ("ema", "raw")


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


class AveragedNetworks:
    """The averages beside the networks they follow, mixed into `AdversarialModule`: `averaged_networks` names the
    networks that generate for a user (CycleGAN: "generators", BiGAN adds "encoder"), and `network(name)` is what
    generates: the average, unless EMA is off or `use_weights("raw")` was called."""

    averaged_networks: tuple[str, ...] = ("generator",)

    def init_ema(self, ema: Mapping[str, Any] | None) -> None:
        """`ema`: {"decay": 0.999, "warmup": True}; null, or a null decay, turns EMA off."""
        self.ema_config = dict(ema) if ema and ema.get("decay") is not None else None
        if self.ema_config:
            EMA.check_decay(self.ema_config["decay"])
        self.ema: EMA | None = None
        self.weights = "ema"

    def build_ema(self) -> None:
        """Create the averages (once, from the current weights); from `setup` and `on_load_checkpoint`, which
        Lightning runs before it loads a state dict, since subclasses assign their networks after `__init__`."""
        if self.ema_config and self.ema is None:
            self.ema = EMA({name: getattr(self, name) for name in self.averaged_networks}, **self.ema_config)

    def use_weights(self, weights: str) -> None:
        """What generates through `network`: "ema" (the default: the averages when EMA is on, else the raw
        weights) or "raw"."""
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {list(WEIGHTS)}, got {weights!r}.")
        if weights == "ema" and not self.ema_config:
            log.info("This model has no EMA (model.ema.decay is null): generating with its raw weights.")
        self.weights = weights

    def network(self, name: str) -> nn.Module:
        """The network `name` that generates for users: its average, unless EMA is off or raw weights were asked."""
        if self.weights == "ema" and self.ema_config:
            self.build_ema()
            assert self.ema is not None
            return self.ema.average(name)
        return getattr(self, name)

    def update_ema(self) -> None:
        """After every generator update. Under DDP, rank 0's averaged buffers are broadcast: DDP syncs buffers
        only at the start of a forward, so each rank's BatchNorm statistics have moved on its own shard since."""
        if self.ema is None:
            return
        self.ema.update({name: getattr(self, name) for name in self.averaged_networks})
        if self._trainer is not None and self.trainer.world_size > 1:
            for buffer in self.ema.buffers():
                torch.distributed.broadcast(buffer, src=0)
