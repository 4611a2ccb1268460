"""`python -m ganzoo.sample ckpt_path=... n=10000 out=samples.npz [translate=<domain>]`: images from a checkpoint.

Writes `images` (uint8, N x C x H x W, 0..255) to an .npz file and a PNG grid beside it. Noise batch b uses
seed + b, as the metrics do, so `seed=0` (the metrics' default) gives the very images that were evaluated.
With translate=<domain>, a two-domain model translates that domain's test split, and `labels` are saved too.
"""

import logging
import sys
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig
from torchvision.utils import make_grid, save_image

from ganzoo.checkpoint import load_model
from ganzoo.config import config_dir
from ganzoo.data import DatasetNotFoundError, ImageDataModule, MNISTDataModule, SyntheticDataModule, USPSDataModule
from ganzoo.models import AdversarialModule
from ganzoo.utils import eval_mode

log = logging.getLogger(__name__)

# Domains a two-domain model may be asked to translate from: their test splits are read here.
DOMAINS: dict[str, type[ImageDataModule]] = {
    "mnist": MNISTDataModule,
    "usps": USPSDataModule,
    "synthetic": SyntheticDataModule,
}


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> 0..255, rounded to the nearest level."""
    return images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()


@torch.no_grad()
def generate(model: AdversarialModule, n: int, batch_size: int = 500, seed: int = 0) -> torch.Tensor:
    """n images as uint8; batch b from a generator seeded seed + b (the metrics' scheme)."""
    batches = []
    with eval_mode(model):
        for b in range(-(-n // batch_size)):
            generator = torch.Generator(device=model.device).manual_seed(seed + b)
            batches.append(to_uint8(model.sample(min(batch_size, n - b * batch_size), generator)))
    return torch.cat(batches)


@torch.no_grad()
def translate(
    model: AdversarialModule, domain: str, data: ImageDataModule, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """`domain`'s test split through `model.translate`: (translated uint8 images, source labels)."""
    data.setup("test")
    images, labels = data.test_set.tensors  # type: ignore[union-attr]
    with eval_mode(model):
        out = [to_uint8(model.translate(images[i : i + batch_size], domain)) for i in range(0, len(images), batch_size)]
    return torch.cat(out), labels


def domain_data(domain: str, run: dict, data_dir: str) -> ImageDataModule:
    if domain not in DOMAINS:
        raise ValueError(f"Unknown domain {domain!r} for translate=; choose one of {sorted(DOMAINS)}.")
    shape = {k: run.get("data", {})[k] for k in ("image_size", "channels") if k in run.get("data", {})}
    if domain == "synthetic":
        return SyntheticDataModule(**shape)
    return DOMAINS[domain](data_dir=data_dir, **shape)


def write(images: torch.Tensor, out: Path, labels: torch.Tensor | None = None, grid_images: int = 64) -> Path:
    """The .npz with `images` (and `labels`), and a PNG grid of the first images beside it; returns the PNG."""
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"images": images.numpy()} | ({"labels": labels.numpy()} if labels is not None else {})
    np.savez_compressed(out, **arrays)
    grid = make_grid(images[:grid_images].float() / 255, nrow=int(np.ceil(np.sqrt(min(grid_images, len(images))))))
    png = out.with_suffix(".png")
    save_image(grid, png)
    return png


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="sample")
def main(cfg: DictConfig) -> None:
    try:
        model, run = load_model(cfg.ckpt_path)
        out = Path(cfg.out).expanduser()
        if cfg.translate:
            data = domain_data(cfg.translate, run, cfg.data_dir)
            images, labels = translate(model, cfg.translate, data, cfg.batch_size)
        else:
            images, labels = generate(model, cfg.n, cfg.batch_size, cfg.seed), None
    except (DatasetNotFoundError, FileNotFoundError, ValueError, NotImplementedError) as error:
        log.error(str(error))
        sys.exit(1)
    png = write(images, out, labels, cfg.grid_images)
    print(f"{tuple(images.shape)} {images.dtype} images written to {out} (grid: {png})")


if __name__ == "__main__":
    main()
