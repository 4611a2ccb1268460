"""BiGAN (Donahue et al., 2017; the project notes, section 4): a generator G: z -> x, an encoder E: x -> z and
a joint critic D(x, z) that tells real pairs (x, E(x)) from generated pairs (G(z), z).

At the optimum E inverts G, so E(x) is a learned representation of the data. The loss is WGAN-GP's by default
(the notes suggest it; the penalty is on the joint input (x, z)) or the original BCE. A critic step updates D;
a generator step updates E and G together (one optimizer) on the critic's loss with the roles of the pairs
swapped. Validation logs `val/probe_acc`, the leave-one-out nearest-neighbour accuracy of E(x) on the held-out
labels, and `val/reconstruction_error`, mean |G(E(x)) - x|; sample grids show x next to G(E(x)).
"""

from collections.abc import Iterable
from itertools import chain
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from ganzoo.losses import (
    discriminator_loss,
    gradient_penalty,
    lazy_weight,
    random_interpolates,
    wasserstein_critic_loss,
)
from ganzoo.metrics.probe import nearest_neighbour_accuracy
from ganzoo.models.base import AdversarialModule
from ganzoo.models.gan import real_images

LOSSES = ("wasserstein", "bce")
Pair = tuple[torch.Tensor, torch.Tensor]


class BiGAN(AdversarialModule):
    """`loss="wasserstein"` penalises the critic with `penalty_weight` * E (||grad_(x,z) D|| - 1)^2 at random
    points between real and generated pairs (lazily with `penalty_every` > 1, as WGANGP); `loss="bce"` is the
    original minimax game (non-saturating for E, G).
    With EMA the generator and the encoder are averaged.
    """

    averaged_networks = ("generator", "encoder")

    def __init__(
        self,
        generator: nn.Module,
        encoder: nn.Module,
        critic: nn.Module,
        loss: str = "wasserstein",
        penalty_weight: float = 10.0,
        penalty_every: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        lazy_weight(penalty_weight, penalty_every, 0)  # refuses a bad penalty_every now
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}: choose one of {list(LOSSES)} (model.loss=...).")
        self.generator = generator
        self.encoder = encoder
        self.critic = critic
        self.loss = loss
        self.penalty_weight = penalty_weight
        self.penalty_every = penalty_every
        self._codes: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._errors: list[torch.Tensor] = []

    def generator_parameters(self) -> Iterable[nn.Parameter]:
        return chain(self.generator.parameters(), self.encoder.parameters())

    # ----------------------------------------------------------------- the game
    def pairs(self, images: torch.Tensor) -> tuple[Pair, Pair]:
        """The real pair (x, E(x)) and a generated pair (G(z), z) of the same batch size."""
        z = self.latent(images.shape[0])
        return (images, self.encoder(images)), (self.generator(z), z)

    def critic_step(self, batch: Any) -> torch.Tensor:
        with torch.no_grad():
            real, fake = self.pairs(real_images(batch))
        real_scores, fake_scores = self.critic(*real), self.critic(*fake)
        if self.loss == "bce":
            self.log_train("critic_real", torch.sigmoid(real_scores).mean())
            self.log_train("critic_fake", torch.sigmoid(fake_scores).mean())
            return discriminator_loss(real_scores, fake_scores)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        self.log_train("critic_real", real_scores.mean())
        self.log_train("critic_fake", fake_scores.mean())
        self.log_train("wasserstein", -loss)
        weight = lazy_weight(self.penalty_weight, self.penalty_every, self.critic_updates)
        if not weight:
            return loss
        penalty = gradient_penalty(self.critic, random_interpolates(real, fake, self.rng), weight)
        self.log_train("gradient_penalty", penalty / self.penalty_every)  # as a plain penalty would be
        return loss + penalty

    def generator_step(self, batch: Any) -> torch.Tensor:
        """E and G play the critic's game with the labels swapped: E makes real pairs look generated, G the
        reverse (for BCE, Goodfellow et al.'s non-saturating form of each)."""
        real, fake = self.pairs(real_images(batch))
        real_scores, fake_scores = self.critic(*real), self.critic(*fake)
        if self.loss == "bce":
            return discriminator_loss(fake_scores, real_scores)
        return wasserstein_critic_loss(fake_scores, real_scores)

    # ----------------------------------------------------------------- using the encoder
    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """E(x): (N, latent_dim) codes of images in [-1, 1], in whatever mode the encoder is in."""
        return self.network("encoder")(images.to(self.device, torch.float32))

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """G(E(x)): how much of x the code keeps (BiGANs reconstruct semantics, not pixels)."""
        return self.network("generator")(self.encode(images))

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """The fixed-latent samples, with the last half of the grid replaced by pairs (x, G(E(x))) of the first
        n // 4 held-out images (training images if none are held out): side by side on every grid row."""
        samples = super().preview(n)
        images = self._preview_images(n // 4)
        if images is None or len(images) == 0:
            return samples
        pairs = torch.stack([images, self.reconstruct(images)], dim=1).flatten(0, 1)
        return torch.cat([samples[: n - len(pairs)], pairs])

    def _preview_images(self, k: int) -> torch.Tensor | None:
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        for name in ("val_set", "train_set"):
            dataset = getattr(datamodule, name, None)
            if isinstance(dataset, TensorDataset) and len(dataset) > 0:
                return dataset.tensors[0][:k].to(self.device)
        return None

    # ----------------------------------------------------------------- validation: the representation
    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        self._codes, self._labels, self._errors = [], [], []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        super().validation_step(batch, batch_idx)
        images = real_images(batch)
        codes = self.encode(images)
        self._errors.append((self.network("generator")(codes) - images).abs().flatten(1).mean(dim=1))
        if isinstance(batch, list | tuple) and len(batch) > 1:
            self._codes.append(codes)
            self._labels.append(batch[1])

    def on_validation_epoch_end(self) -> None:
        """Generative metrics (base class), then the probe. Under DDP each process probes its own shard of the
        held-out split and the logged value is the mean over processes."""
        super().on_validation_epoch_end()
        values = {}
        has_errors, has_codes = bool(self._errors), sum(len(c) for c in self._codes) > 1
        if self.trainer.world_size > 1:  # every rank must log the same keys, or sync_dist waits forever
            has_errors = self.trainer.strategy.reduce_boolean_decision(has_errors, all=True)
            has_codes = self.trainer.strategy.reduce_boolean_decision(has_codes, all=True)
        if has_errors:
            values["val/reconstruction_error"] = torch.cat(self._errors).mean()
        if has_codes:
            codes, labels = torch.cat(self._codes), torch.cat(self._labels)
            values["val/probe_acc"] = torch.tensor(nearest_neighbour_accuracy(codes, labels), device=self.device)
        self._codes, self._labels, self._errors = [], [], []
        if values:
            self.log_dict(values, sync_dist=True)
