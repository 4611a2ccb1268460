"""BiGAN (Donahue et al., 2017): a generator G: z -> x, an encoder E: x -> z and a joint critic D(x, z) that
tells real pairs (x, E(x)) from generated pairs (G(z), z).

At the optimum E inverts G, so E(x) is a learned representation of the data. The loss is WGAN-GP's (Gulrajani et
al., 2017), with the penalty on the joint input (x, z). A critic step updates D; a generator step updates E and G
together (one optimizer) on the critic's loss with the roles of the pairs swapped. Validation (through `encode` and
`decode`) logs `val/probe_acc`, the leave-one-out nearest-neighbour accuracy of E(x) on the held-out labels, and
`val/reconstruction_error`, mean |G(E(x)) - x|; sample grids show x next to G(E(x)).
"""

from collections.abc import Iterable
from itertools import chain
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from ganzoo.losses import lazy_gradient_penalty, lazy_weight, wasserstein_critic_loss
from ganzoo.models.base import AdversarialModule, real_images

Pair = tuple[torch.Tensor, torch.Tensor]


class BiGAN(AdversarialModule):
    """The critic's loss gets `penalty_weight` * E (||grad_(x,z) D|| - 1)^2 at random points between real and
    generated pairs (lazily with `penalty_every` > 1, as WGANGP). With EMA the generator and the encoder are averaged.
    """

    averaged_networks = ("generator", "encoder")

    def __init__(
        self,
        generator: nn.Module,
        encoder: nn.Module,
        critic: nn.Module,
        penalty_weight: float = 10.0,
        penalty_every: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        lazy_weight(penalty_weight, penalty_every, 0)  # refuses a bad penalty_every now
        self.generator = generator
        self.encoder = encoder
        self.critic = critic
        self.penalty_weight = penalty_weight
        self.penalty_every = penalty_every

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
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        self.log_critic(real_scores, fake_scores)
        self.log_train("wasserstein", -loss)
        penalty = lazy_gradient_penalty(
            self.critic, real, fake, self.rng, self.penalty_weight, self.penalty_every, self.critic_updates
        )
        if penalty is None:
            return loss
        self.log_train("gradient_penalty", penalty / self.penalty_every)  # as a plain penalty would be
        return loss + penalty

    def generator_step(self, batch: Any) -> torch.Tensor:
        """E and G play the critic's game with the labels swapped: E makes real pairs look generated, G the reverse."""
        real, fake = self.pairs(real_images(batch))
        real_scores, fake_scores = self.critic(*real), self.critic(*fake)
        return wasserstein_critic_loss(fake_scores, real_scores)

    # ----------------------------------------------------------------- using the encoder
    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """E(x): (N, latent_dim) codes of images in [-1, 1], in whatever mode the encoder is in."""
        return self.network("encoder")(images.to(self.device, torch.float32))

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """G(z) for given codes, e.g. E(x)."""
        return self.network("generator")(codes)

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """G(E(x)): how much of x the code keeps (BiGANs reconstruct semantics, not pixels)."""
        return self.decode(self.encode(images))

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
