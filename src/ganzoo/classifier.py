"""`python -m ganzoo.classifier data=mnist|usps`: train the digit classifier whose features metrics=digits uses."""

import logging
import math
from pathlib import Path

import hydra
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader, TensorDataset

from ganzoo.augment import classifier_jitter
from ganzoo.config import config_dir
from ganzoo.data import ImageDataModule
from ganzoo.metrics.digits import CLASSIFIERS, DigitClassifier, save_digit_classifier, weights_path

log = logging.getLogger(__name__)


@torch.no_grad()
def accuracy(net: DigitClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    correct = sum(
        int((net(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum())
        for i in range(0, len(images), batch_size)
    )
    return correct / len(images)


def fit_classifier(cfg: DictConfig, datamodule: ImageDataModule) -> tuple[DigitClassifier, dict[str, float]]:
    """AdamW with a one-cycle schedule on the training split; accuracy on the held-out and test splits."""
    torch.manual_seed(cfg.seed)
    datamodule.setup("fit")
    train_set, val_set, test_set = datamodule.train_set, datamodule.val_set, datamodule.test_set
    assert isinstance(train_set, TensorDataset) and isinstance(test_set, TensorDataset)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(train_set, batch_size=datamodule.batch_size, shuffle=True, drop_last=True, generator=generator)
    net = DigitClassifier(channels=datamodule.channels, widths=tuple(cfg.widths))
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=cfg.epochs * len(loader))
    for epoch in range(cfg.epochs):
        net.train()
        for images, labels in loader:
            x = classifier_jitter(images, generator) if cfg.augment else images
            loss = F.cross_entropy(net(x), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        held_out = accuracy(net, *val_set.tensors) if isinstance(val_set, TensorDataset) and len(val_set) else math.nan
        log.info(f"epoch {epoch + 1}/{cfg.epochs}: loss {loss.item():.4f}, held-out accuracy {held_out:.4f}")
    scores = {"val_accuracy": held_out, "test_accuracy": accuracy(net, *test_set.tensors)}
    return net.eval(), scores


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="classifier")
def main(cfg: DictConfig) -> float:
    datamodule = instantiate(cfg.data)
    dataset = datamodule.name.lower()
    net, scores = fit_classifier(cfg, datamodule)
    if cfg.replace_shipped:
        out = weights_path(dataset if dataset in CLASSIFIERS else "mnist")
        log.warning(f"Replacing the shipped classifier {out}: every digit FID, IS and KID from now on uses it.")
    else:
        out = Path(cfg.out) if cfg.out else Path(cfg.paths.output_dir) / f"{dataset}.pt"
    save_digit_classifier(net, out, dataset=dataset, epochs=cfg.epochs, seed=cfg.seed, **scores)
    log.info(
        f"{dataset}: validation accuracy {scores['val_accuracy']:.4f}, test accuracy {scores['test_accuracy']:.4f}; "
        f"weights written to {out}"
    )
    return scores["val_accuracy"]  # what a sweep optimises: choices made on held-out training data, not on test


if __name__ == "__main__":
    main()
