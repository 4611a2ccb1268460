"""Fakes that a cycle's last critic step can share with the generator step after it (`model.reuse_fakes`)."""

import torch

from ganzoo.utils import unchanged_buffers


class FakeReuse:
    """For models whose generator step only scores fresh fakes G(z) (GAN, WGAN): critic and generator steps draw
    them through `critic_fakes` and `generator_fakes`. With `reuse_fakes` the last critic step of a cycle keeps
    their graph, and the generator step that follows scores these fakes with the updated critic instead of drawing
    new ones, as PyTorch's DCGAN example does: one generator forward less per cycle. Mixed in before
    `AdversarialModule`, whose checkpoints carry the kept latents."""

    can_reuse_fakes = True

    def critic_fakes(self, n: int) -> torch.Tensor:
        """n fakes for a critic step, detached."""
        return self.critic_latents_and_fakes(n)[1]

    def critic_latents_and_fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`critic_fakes` with the latent codes they came from."""
        z = self.latent(n)
        if self.reuse_fakes and self.cycle_position == self.n_critic - 1:  # the last critic step of the cycle
            # the critic phase has switched the generator's gradients off (toggle_optimizer); this graph needs them
            switched_off = [p for p in self.generator_parameters() if not p.requires_grad]
            for p in switched_off:
                p.requires_grad_(True)
            try:
                fake = self.generator(z)
            finally:
                for p in switched_off:
                    p.requires_grad_(False)
            self._kept_fakes = (z, fake)
            return z, fake.detach()
        with torch.no_grad():
            return z, self.generator(z)

    def generator_fakes(self, n: int) -> torch.Tensor:
        """n fakes for a generator step, with their graph: the ones a critic step kept, or new ones."""
        return self.generator_latents_and_fakes(n)[1]

    def generator_latents_and_fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`generator_fakes` with the latent codes they came from."""
        if self._kept_fakes is None:
            z = self.latent(n)
            return z, self.generator(z)
        z, fake = self._kept_fakes
        self._kept_fakes = None
        if fake is None:
            # resumed between the two steps: the generator has not changed since, so G(z) is the same; the critic
            # step has moved BatchNorm's statistics already
            with unchanged_buffers(self.generator):
                fake = self.generator(z.to(self.device))
        return z, fake
