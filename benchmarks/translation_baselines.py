"""What a translation score means: the digit classifiers on untranslated and geometrically mapped test images.

    GANZOO_DATA_DIR=... .venv/bin/python benchmarks/translation_baselines.py

MNIST digits fill a 20x20 box inside 28x28, USPS digits fill their whole frame. Enlarging MNIST's centre and
shrinking USPS into a padded frame are the fixed maps a learned translation must at least match; the classifiers'
accuracy on their own domain bounds what any translation can reach (val/acc_mnist2usps, val/acc_usps2mnist).
"""

import os

import torch

from ganzoo.data import MNISTDataModule, USPSDataModule
from ganzoo.data.frames import enlarge_centre, shrink_into_frame
from ganzoo.metrics.digits import load_digit_classifier, to_digit_input


def test_set(datamodule: MNISTDataModule | USPSDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    datamodule.setup("test")
    return datamodule.test_set.tensors


@torch.no_grad()
def accuracy(classifier: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    predictions = torch.cat([classifier(to_digit_input(x)).argmax(1) for x in images.split(1000)])
    return float((predictions == labels).float().mean())


def main() -> None:
    root = os.environ.get("GANZOO_DATA_DIR", "data")
    mnist, mnist_labels = test_set(MNISTDataModule(data_dir=root, val_size=0))
    usps, usps_labels = test_set(USPSDataModule(data_dir=root, image_size=28, val_size=0))
    on_mnist, on_usps = load_digit_classifier("mnist").eval(), load_digit_classifier("usps").eval()
    print(f"MNIST classifier on MNIST test: {accuracy(on_mnist, mnist, mnist_labels):.4f}")
    print(f"USPS classifier on USPS test:   {accuracy(on_usps, usps, usps_labels):.4f}")
    print(f"MNIST->USPS untranslated:       {accuracy(on_usps, mnist, mnist_labels):.4f}")
    print(f"USPS->MNIST untranslated:       {accuracy(on_mnist, usps, usps_labels):.4f}")
    for crop in (24, 22, 20, 18):
        score = accuracy(on_usps, enlarge_centre(mnist, crop), mnist_labels)
        print(f"MNIST->USPS centre {crop}x{crop} enlarged: {score:.4f}")
    for size in (22, 20, 18):
        score = accuracy(on_mnist, shrink_into_frame(usps, size), usps_labels)
        print(f"USPS->MNIST shrunk to {size}x{size}:     {score:.4f}")


if __name__ == "__main__":
    main()
