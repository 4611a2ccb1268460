"""Feature extractors for torchmetrics' `feature=` argument, sharing one forward pass between metrics."""

import torch
from torch import nn


class FeatureExtractor(nn.Module):
    """Frozen network mapping images in [-1, 1] to (features, logits): features for FID/KID, logits for IS.

    FID, KID and IS each call their own `feature=` module on the same batch. `head(0)` and `head(1)` are
    views of one shared pass: the last input is remembered by identity, so the network runs once per batch
    (a different tensor is always recomputed, so the cache can only save work, never return stale values).
    """

    num_features: int
    num_classes: int
    # Whether the logits are digit classes, so that class coverage (val/modes) means something.
    class_coverage: bool = False

    def __init__(self) -> None:
        super().__init__()
        self._last_input: torch.Tensor | None = None
        self._last_output: tuple[torch.Tensor, torch.Tensor] | None = None

    def extract(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if images is not self._last_input or self._last_output is None:
            with torch.no_grad():
                self._last_output = self.extract(images)
            self._last_input = images
        return self._last_output

    def clear_cache(self) -> None:
        self._last_input = self._last_output = None

    def freeze(self) -> None:
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FeatureExtractor":
        """Always in eval mode (BatchNorm statistics and dropout must not change with the caller's mode)."""
        return super().train(False)

    def head(self, index: int) -> "FeatureHead":
        return FeatureHead(self, index)

    def __getstate__(self) -> dict:
        # Spawned DDP processes receive a pickled copy; a cached batch need not travel with it.
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        state["_last_input"] = state["_last_output"] = None
        return state


class FeatureHead(nn.Module):
    """One output of a FeatureExtractor (0: features, 1: logits), as torchmetrics' `feature=` module."""

    def __init__(self, extractor: FeatureExtractor, index: int) -> None:
        super().__init__()
        self.extractor = extractor
        self.index = index
        self.num_features = extractor.num_features if index == 0 else extractor.num_classes

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # Double precision: KID's cubic kernel on un-normalised features loses digits in float32.
        return self.extractor(images)[self.index].double()
