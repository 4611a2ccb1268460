"""Class-conditional GANs whose players are told the class: the conditional GAN (Mirza & Osindero, 2014), the
projection discriminator (Miyato & Koyama, 2018) and the auxiliary-classifier GAN (Odena et al., 2017)."""

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.losses import discriminator_loss, generator_loss_nonsaturating
from ganzoo.models.base import AdversarialModule
from ganzoo.models.conditional import Conditional, labelled
from ganzoo.models.gan import adversarial_losses


class ConditionalGAN(Conditional, AdversarialModule):
    """G(z, y) and a critic D(x, y) that scores an image as a sample of class y; the losses of `GAN`.

    The networks make the variant: the conditional GAN joins a label embedding to z and to the critic's input
    (`model=cgan`); the projection GAN has a generator with class-conditional BatchNorm and a spectrally normalised
    critic whose score adds the inner product of a class embedding with its features, trained with the hinge loss
    (`model=projection`). Real images are scored with their own labels, fakes with the labels they were made for,
    drawn uniformly.
    """

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        generator_loss: str = "nonsaturating",
        critic_loss: str = "bce",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator_loss, self.critic_loss = adversarial_losses(generator_loss, critic_loss)
        self.generator = generator
        self.critic = critic

    def critic_step(self, batch: Any) -> torch.Tensor:
        real, labels = labelled(batch, self)
        fake_labels = self.random_labels(len(real))
        with torch.no_grad():
            fake = self.generator(self.latent(len(real)), fake_labels)
        real_logits, fake_logits = self.critic(real, labels), self.critic(fake, fake_labels)
        self.log_critic(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        return self.critic_loss(real_logits, fake_logits)

    def generator_step(self, batch: Any) -> torch.Tensor:
        n = len(labelled(batch, self)[0])
        fake_labels = self.random_labels(n)
        return self.generator_loss(self.critic(self.generator(self.latent(n), fake_labels), fake_labels))


class ACGAN(Conditional, AdversarialModule):
    """G(z, y) and a critic that scores images without being told the class and also classifies them. With
    L_S the GAN loss and L_C the cross-entropy of the class, on real images (their labels) and fakes (the labels
    they were made for), the critic minimises L_S + L_C and the generator its non-saturating loss plus L_C of its
    fakes: the generator is rewarded for images that the critic reads as the class asked for."""

    def __init__(self, generator: nn.Module, critic: nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic

    def critic_step(self, batch: Any) -> torch.Tensor:
        real, labels = labelled(batch, self)
        fake_labels = self.random_labels(len(real))
        with torch.no_grad():
            fake = self.generator(self.latent(len(real)), fake_labels)
        (real_logits, real_classes), (fake_logits, fake_classes) = self.critic(real), self.critic(fake)
        self.log_critic(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        classification = F.cross_entropy(real_classes, labels) + F.cross_entropy(fake_classes, fake_labels)
        self.log_train("class_loss", classification)
        self.log_train("class_acc_real", (real_classes.argmax(1) == labels).float().mean())
        return discriminator_loss(real_logits, fake_logits) + classification

    def generator_step(self, batch: Any) -> torch.Tensor:
        n = len(labelled(batch, self)[0])
        fake_labels = self.random_labels(n)
        logits, classes = self.critic(self.generator(self.latent(n), fake_labels))
        classification = F.cross_entropy(classes, fake_labels)
        self.log_train("class_acc_fake", (classes.argmax(1) == fake_labels).float().mean())
        return generator_loss_nonsaturating(logits) + classification
