"""LightningModules, one per objective, all on AdversarialModule."""

from ganzoo.models.base import AdversarialModule
from ganzoo.models.bigan import BiGAN
from ganzoo.models.cgan import ACGAN, ConditionalGAN
from ganzoo.models.conditional import Conditional
from ganzoo.models.cyclegan import CycleGAN
from ganzoo.models.gan import GAN
from ganzoo.models.infogan import InfoGAN
from ganzoo.models.otgan import OTGAN
from ganzoo.models.wgan import WGAN, WGANGP

__all__ = [
    "ACGAN",
    "GAN",
    "OTGAN",
    "WGAN",
    "WGANGP",
    "AdversarialModule",
    "BiGAN",
    "Conditional",
    "ConditionalGAN",
    "CycleGAN",
    "InfoGAN",
]
