"""Plain torch.nn networks: generators map (N, latent_dim) to images in [-1, 1], critics map images to (N,),
encoders map images to (N, D) embeddings; CycleGAN's generators map images to images and its PatchGAN critic
scores patches (N, 1, h, w); BiGAN's joint critic scores (image, code) pairs. Class-conditional networks take
the labels (N,) beside their input; ACGAN's and InfoGAN's discriminators return their extra heads beside the
scores."""

from ganzoo.nets.bigan import JointCritic
from ganzoo.nets.conditional import (
    ACGANDiscriminator,
    ConditionalBatchNorm2d,
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    InfoGANDiscriminator,
    LabelConcat,
    ProjectionDiscriminator,
    ProjectionHead,
)
from ganzoo.nets.cyclegan import PatchDiscriminator, ResNetGenerator
from ganzoo.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.nets.encoder import DCGANEncoder
from ganzoo.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "ACGANDiscriminator",
    "ConditionalBatchNorm2d",
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "DCGANDiscriminator",
    "DCGANEncoder",
    "DCGANGenerator",
    "InfoGANDiscriminator",
    "JointCritic",
    "LabelConcat",
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "ProjectionDiscriminator",
    "ProjectionHead",
    "ResNetGenerator",
]
