"""LightningDataModules yielding (images in [-1, 1], labels) batches."""

from ganzoo.data.base import DatasetNotFoundError, ImageDataModule
from ganzoo.data.cifar import CIFAR10DataModule
from ganzoo.data.digits import MNISTDataModule, USPSDataModule
from ganzoo.data.synthetic import SyntheticDataModule
from ganzoo.data.unpaired import UnpairedDataModule, UnpairedSampler

__all__ = [
    "CIFAR10DataModule",
    "DatasetNotFoundError",
    "ImageDataModule",
    "MNISTDataModule",
    "SyntheticDataModule",
    "USPSDataModule",
    "UnpairedDataModule",
    "UnpairedSampler",
]
