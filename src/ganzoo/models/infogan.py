"""InfoGAN (Chen et al., 2016): a GAN whose generator takes codes beside its noise, and a head Q on the
discriminator's features that recovers them; maximising the mutual information between codes and images, with no
labels, makes the codes mean something (on MNIST the categorical code finds the digits, the continuous ones
width and slant)."""

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.losses import discriminator_loss, generator_loss_nonsaturating
from ganzoo.models.base import PREVIEW_SEED, AdversarialModule, real_images
from ganzoo.models.conditional import Conditional


class InfoGAN(Conditional, AdversarialModule):
    """The generator's input is (z, c, k): normal noise z, `continuous` codes c ~ U(-1, 1) and a `categories`-way
    categorical code k (one-hot), in that order; the critic (`InfoGANDiscriminator`) returns its score, the logits
    of k and the means of c. Both players minimise, beside the GAN loss, the information loss on fakes

        L_I = categorical_weight * CE(Q_k(G(z, c, k)), k) + continuous_weight * 0.5 * ||Q_c(G(z, c, k)) - c||^2,

    the negative log-likelihood of the codes under Q (a Gaussian of unit variance for c), which bounds the mutual
    information from below. The categorical code is this model's label: `sample(n, labels=...)` picks it.
    """

    labels_are_classes = False

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        categorical_weight: float = 1.0,
        continuous_weight: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.categories, self.continuous = int(critic.categories), int(critic.continuous)
        self.noise_dim = generator.latent_dim - self.categories - self.continuous
        if self.categories < 2 or self.noise_dim < 1:
            raise ValueError(
                f"InfoGAN needs a categorical code (model.critic.categories >= 2, got {self.categories}) and noise "
                f"beside its codes: model.generator.latent_dim={generator.latent_dim} must exceed categories + "
                f"continuous = {self.categories + self.continuous}."
            )
        if min(categorical_weight, continuous_weight) < 0:
            raise ValueError("model.categorical_weight and model.continuous_weight must be >= 0.")
        self.generator = generator
        self.critic = critic
        self.categorical_weight = categorical_weight
        self.continuous_weight = continuous_weight

    @property
    def num_classes(self) -> int:
        return self.categories

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(z, c): normal noise, then the continuous codes, uniform in [-1, 1]."""
        g = generator if generator is not None else self.rng
        z = torch.randn(n, self.noise_dim, generator=g, device=g.device)
        return torch.cat([z, torch.rand(n, self.continuous, generator=g, device=g.device) * 2 - 1], dim=1)

    def generator_input(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, F.one_hot(labels, self.categories).to(z.dtype)], dim=1)

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.network("generator")(self.generator_input(z, labels))

    def fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fakes G(z, c, k) with their continuous codes c and categorical codes k."""
        z, codes = self.latent(n), self.random_labels(n)
        return self.generator(self.generator_input(z, codes)), z[:, self.noise_dim :], codes

    def information_loss(
        self, logits: torch.Tensor, means: torch.Tensor, continuous: torch.Tensor, codes: torch.Tensor
    ) -> torch.Tensor:
        categorical = F.cross_entropy(logits, codes)
        gaussian = 0.5 * (means - continuous).pow(2).sum(dim=1).mean()
        self.log_train("info_categorical", categorical)
        self.log_train("info_continuous", gaussian)
        return self.categorical_weight * categorical + self.continuous_weight * gaussian

    def critic_step(self, batch: Any) -> torch.Tensor:
        real = real_images(batch)
        with torch.no_grad():
            fake, continuous, codes = self.fakes(len(real))
        real_logits = self.critic(real)[0]
        fake_logits, code_logits, means = self.critic(fake)
        self.log_critic(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        information = self.information_loss(code_logits, means, continuous, codes)
        return discriminator_loss(real_logits, fake_logits) + information

    def generator_step(self, batch: Any) -> torch.Tensor:
        fake, continuous, codes = self.fakes(len(real_images(batch)))
        logits, code_logits, means = self.critic(fake)
        return generator_loss_nonsaturating(logits) + self.information_loss(code_logits, means, continuous, codes)

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """A (categories, columns, C, H, W) grid from one fixed latent: row k sets the categorical code to k,
        columns move the first continuous code from -1 to 1 (columns = n // categories, at least 2). Without
        continuous codes, the columns hold fixed latents, as for other conditional models."""
        if not self.continuous:
            return super().preview(n)
        columns = max(2, n // self.categories)
        z = self.latent(1, torch.Generator(device=self.device).manual_seed(PREVIEW_SEED)).repeat(columns, 1)
        z[:, self.noise_dim] = torch.linspace(-1, 1, columns, device=self.device)
        labels = torch.arange(self.categories, device=self.device).repeat_interleave(columns)
        images = self.generate(z.repeat(self.categories, 1), labels)
        return images.view(self.categories, columns, *images.shape[1:])
