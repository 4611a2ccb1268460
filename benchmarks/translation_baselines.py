"""What a translation score means: the digit classifiers on untranslated and geometrically mapped test images.

    GANZOO_DATA_DIR=... python benchmarks/translation_baselines.py [--classifier mnist=other_mnist.pt ...]

MNIST digits fill a 20x20 box inside 28x28, USPS digits fill their whole frame. Enlarging MNIST's centre and
shrinking USPS into a padded frame are the fixed maps a learned translation must at least match; the classifiers'
accuracy on their own domain bounds what any translation can reach (val/acc_mnist2usps, val/acc_usps2mnist).
`--classifier DOMAIN=PATH` (as in `benchmarks/cyclegan_errors.py`) reads the maps into that domain with another
classifier as well, so that a translation read by an independent classifier can be set against the maps read by the
same one.
"""

import argparse
import os
from pathlib import Path

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


def fixed_maps(mnist: torch.Tensor, usps: torch.Tensor) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """Per target domain, each fixed map's name and the test images it makes."""
    return {
        "usps": [(f"MNIST->USPS centre {c}x{c} enlarged", enlarge_centre(mnist, c)) for c in (24, 22, 20, 18)],
        "mnist": [(f"USPS->MNIST shrunk to {s}x{s}", shrink_into_frame(usps, s)) for s in (22, 20, 18)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", nargs="*", default=[], metavar="DOMAIN=PATH", help="independent classifiers")
    args = parser.parse_args()
    extra = [item.split("=", 1) for item in args.classifier]
    if not all(len(r) == 2 and r[0] in ("mnist", "usps") for r in extra):
        parser.error(f"--classifier takes DOMAIN=PATH pairs, DOMAIN mnist or usps (mnist=other.pt): {args.classifier}")
    root = os.environ.get("GANZOO_DATA_DIR", "data")
    mnist, mnist_labels = test_set(MNISTDataModule(data_dir=root, val_size=0))
    usps, usps_labels = test_set(USPSDataModule(data_dir=root, image_size=28, val_size=0))
    on_mnist, on_usps = load_digit_classifier("mnist"), load_digit_classifier("usps")
    print(f"MNIST classifier on MNIST test: {accuracy(on_mnist, mnist, mnist_labels):.4f}")
    print(f"USPS classifier on USPS test:   {accuracy(on_usps, usps, usps_labels):.4f}")
    print(f"MNIST->USPS untranslated:       {accuracy(on_usps, mnist, mnist_labels):.4f}")
    print(f"USPS->MNIST untranslated:       {accuracy(on_mnist, usps, usps_labels):.4f}")
    maps, labels = fixed_maps(mnist, usps), {"usps": mnist_labels, "mnist": usps_labels}
    readers = [("usps", "", on_usps), ("mnist", "", on_mnist)]
    readers += [(domain, f", read by {Path(path).stem}", load_digit_classifier(path)) for domain, path in extra]
    for domain, by, reader in readers:
        for name, images in maps[domain]:
            print(f"{name}{by}: {accuracy(reader, images, labels[domain]):.4f}")


if __name__ == "__main__":
    main()
