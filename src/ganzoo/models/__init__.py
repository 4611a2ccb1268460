"""LightningModules, one per objective, all on AdversarialModule."""

from ganzoo.models.base import AdversarialModule, NonFiniteLossError
from ganzoo.models.gan import GAN

__all__ = ["GAN", "AdversarialModule", "NonFiniteLossError"]
