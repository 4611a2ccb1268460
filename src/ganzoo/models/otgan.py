"""OT-GAN (Salimans et al., 2018): the generator minimises the mini-batch energy distance, the critic learns
the cosine cost that the distance is measured in, and maximises it.

Each update needs two independent real batches X, X' and two generated ones Y, Y' of equal size K. One step
still takes one data batch: a batch of 2K images is split in halves X and X' (so `data.batch_size` is 2K),
and 2K codes give Y and Y'. The paper updates the generator `n_gen` = 5 times per critic update.
"""

from typing import Any

import torch
from torch import nn

from ganzoo.losses import minibatch_energy_distance
from ganzoo.models.base import AdversarialModule, real_images


class OTGAN(AdversarialModule):
    """`critic` maps images to embedding vectors; `epsilon`, `iterations` set the Sinkhorn matching."""

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        epsilon: float = 0.05,
        iterations: int = 100,
        n_gen: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(n_gen=n_gen, **kwargs)
        self.generator = generator
        self.critic = critic
        self.epsilon = epsilon
        self.iterations = iterations

    def critic_step(self, batch: Any) -> torch.Tensor:
        return -self.energy_distance(batch, train_generator=False)

    def generator_step(self, batch: Any) -> torch.Tensor:
        return self.energy_distance(batch, train_generator=True)

    def energy_distance(self, batch: Any, train_generator: bool) -> torch.Tensor:
        """L on this batch's halves and 2K generated images; logs the six W terms as train/w_<pair>."""
        real = real_images(batch)
        k = real.shape[0] // 2
        if k < 2:
            raise ValueError(
                f"OT-GAN splits each batch into two halves X, X' of K >= 2 images; got a batch of "
                f"{real.shape[0]}. Set data.batch_size to 2K >= 4."
            )
        with torch.set_grad_enabled(train_generator):
            fake = self.generator(self.latent(2 * k))
        embeddings = self.critic(torch.cat([real[: 2 * k], fake]))
        x, x2, y, y2 = embeddings.chunk(4)
        loss, terms = minibatch_energy_distance(x, x2, y, y2, self.epsilon, self.iterations)
        for name, value in terms.items():
            self.log_train(f"w_{name}", value)
        return loss
