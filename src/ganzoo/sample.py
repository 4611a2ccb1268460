"""`python -m ganzoo.sample ckpt_path=... n=10000 out=samples.npz [translate=<domain> | encode=<split>]`: images
(or codes) from a checkpoint.

Writes `images` (uint8, N x C x H x W, 0..255) to an .npz file and a PNG grid beside it. Noise batch b uses
seed + b, as the metrics do, so `seed=0` (the metrics' default) gives the very images that were evaluated.
A class-conditional model generates for `labels`: one class (labels=3), a list (labels=[1,7]) or all of them
(labels=all, the default), taken in turn so that the classes share the images equally; the .npz holds the `labels`
too, and the grid has a row per class.
With translate=<domain>, a two-domain model translates that domain's test split, and `labels` are saved too.
With encode=test (or val), a model with an encoder (BiGAN) encodes that split of its run's data: `codes`
(float32, N x latent_dim), `labels`, and `images` holding the reconstructions G(E(x)).
With interpolate.walks=K, K walks through latent space (one row each: from the K codes of noise seed `seed` to those
of seed + 1, in interpolate.steps images), as a grid PNG (rows the walks) and an animation (.gif) beside the .npz.
"""

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from torchvision.transforms.functional import to_pil_image
from torchvision.utils import make_grid, save_image

from ganzoo.animate import save_animation
from ganzoo.checkpoint import load_model
from ganzoo.config import config_dir, quote_paths
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


def requested_labels(model: AdversarialModule, labels: Any, n: int) -> torch.Tensor | None:
    """The label of each of n images (None for a model that takes none): the classes `labels` names (a class, a
    list, or `all`; None means all) in turn, so that they share the images equally."""
    name = type(model).__name__
    if not hasattr(model, "num_classes"):
        if labels is None:
            return None
        raise ValueError(
            f"labels={labels} asks for classes, but {name} is not class-conditional: it generates from noise alone "
            "and takes no labels. Drop labels=, or sample a class-conditional model (model=cgan, acgan, projection "
            "or infogan)."
        )
    k = model.num_classes
    if labels is None or labels == "all":
        labels = list(range(k))
    elif isinstance(labels, int) and not isinstance(labels, bool):
        labels = [labels]
    elif isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise ValueError(f"labels must be all, a class (labels=3) or a list of classes (labels=[1,7]); got {labels}.")
    if any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < k for c in labels):
        raise ValueError(
            f"labels={list(labels)} asks for labels that {name} does not have: it generates labels 0 to {k - 1} "
            f"({k} classes{', its categorical codes' if not model.labels_are_classes else ''}). Ask for labels "
            f"between 0 and {k - 1}, or labels=all."
        )
    return torch.tensor(list(labels))[torch.arange(n) % len(labels)]


@torch.no_grad()
def generate(
    model: AdversarialModule, n: int, batch_size: int = 500, seed: int = 0, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """n images as uint8; batch b from a generator seeded seed + b (the metrics' scheme), for `labels` (n,) when
    the model is class-conditional."""
    batches = []
    with eval_mode(model):
        for b in range(-(-n // batch_size)):
            generator = torch.Generator(device=model.device).manual_seed(seed + b)
            size = min(batch_size, n - b * batch_size)
            asked = {} if labels is None else {"labels": labels[b * batch_size : b * batch_size + size]}
            batches.append(to_uint8(model.sample(size, generator, **asked)))
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


@torch.no_grad()
def encode(
    model: AdversarialModule, data: ImageDataModule, split: str = "test", batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`split` (test or val) of `data` through `model.encode`: (float32 codes, uint8 reconstructions, labels)."""
    if not callable(getattr(model, "encode", None)):
        raise ValueError(f"{type(model).__name__} has no encoder; encode=<split> needs a model such as BiGAN.")
    if split not in ("test", "val"):
        raise ValueError(f"encode must be test or val, got {split!r}.")
    data.setup("test")
    images, labels = (data.test_set if split == "test" else data.val_set).tensors  # type: ignore[union-attr]
    codes, reconstructions = [], []
    with eval_mode(model):
        for i in range(0, len(images), batch_size):
            z = model.encode(images[i : i + batch_size])
            codes.append(z.float().cpu())
            reconstructions.append(to_uint8(model.network("generator")(z)))
    return torch.cat(codes), torch.cat(reconstructions), labels


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points (1 - t) a + t b of the lines from rows of `a` (N x D) to rows of `b`, at each of `t` (T): N x T x D.
    Exactly a at t = 0 and b at t = 1."""
    w = t.to(a.dtype)[None, :, None]
    return (1 - w) * a[:, None] + w * b[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake, 1985) from rows of `a` (N x D) to rows of `b`, at fractions `t` (T) of the
    angle between them: N x T x D, exactly a at t = 0 and b at t = 1. Gaussian codes have norms near sqrt(D); the
    straight line between two of them passes through shorter codes that the generator never saw, the arc does not
    (White, 2016, "Sampling Generative Networks"). Parallel rows take the straight line."""
    omega = torch.acos(F.cosine_similarity(a, b, dim=-1).clamp(-1, 1))[:, None, None]
    w = t.to(a.dtype)[None, :, None]
    sin = torch.sin(omega)
    arc = torch.sin((1 - w) * omega) / sin * a[:, None] + torch.sin(w * omega) / sin * b[:, None]
    return torch.where(sin.abs() > 1e-6, arc, lerp(a, b, t))


@torch.no_grad()
def interpolate(
    model: AdversarialModule,
    walks: int,
    steps: int,
    seed: int = 0,
    spherical: bool = True,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`walks` walks of `steps` images each, walk i from the i-th code of noise seed `seed` to the i-th of seed + 1,
    so that their ends are the images `generate(model, walks, walks, seed)` and `(..., seed + 1)`: (uint8 images,
    walks x steps x C x H x W; latent codes, walks x steps x D). Along the arc between codes (`spherical`) or the
    straight line; InfoGAN's continuous codes (the last `continuous` entries) always move along the line. Walk i of
    a class-conditional model keeps the label `labels[i]`."""
    if walks < 1 or steps < 2:
        raise ValueError(f"interpolate.walks must be >= 1 and interpolate.steps >= 2, got {walks} and {steps}.")
    ends = []
    for s in (seed, seed + 1):
        try:
            ends.append(model.latent(walks, torch.Generator(device=model.device).manual_seed(s)))
        except AttributeError as error:  # no generator with a latent size: a translation model
            raise NotImplementedError(
                f"{type(model).__name__} has no latent codes to walk between: interpolate= needs a model that "
                "generates from noise."
            ) from error
    a, b = ends
    t = torch.linspace(0, 1, steps, device=a.device)
    noise = a.shape[1] - getattr(model, "continuous", 0)
    path = slerp(a[:, :noise], b[:, :noise], t) if spherical else lerp(a[:, :noise], b[:, :noise], t)
    path = torch.cat([path, lerp(a[:, noise:], b[:, noise:], t)], dim=2)
    with eval_mode(model):
        if labels is None:
            images = [to_uint8(model.network("generator")(path[:, i])) for i in range(steps)]
        else:
            images = [to_uint8(model.generate(path[:, i], labels.to(model.device))) for i in range(steps)]
    return torch.stack(images, dim=1), path.float().cpu()


def write_walks(
    images: torch.Tensor,
    latents: torch.Tensor,
    out: Path,
    frame_ms: int = 100,
    labels: torch.Tensor | None = None,
) -> tuple[Path, Path]:
    """The .npz (`images` and `latents`, walk by walk, and each image's label for a conditional model), a PNG grid
    beside it (one row per walk) and an animation (.gif) whose frames go from the walks' first images to their last
    and back; returns (grid, animation)."""
    walks, steps = images.shape[:2]
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"images": images.flatten(0, 1).numpy(), "latents": latents.flatten(0, 1).numpy()}
    if labels is not None:
        arrays["labels"] = labels.repeat_interleave(steps).numpy()
    np.savez_compressed(out, **arrays)
    png = out.with_suffix(".png")
    save_image(make_grid(images.flatten(0, 1).float() / 255, nrow=steps), png)
    nrow = int(np.ceil(np.sqrt(walks)))
    frames = [to_pil_image(make_grid(images[:, i], nrow=nrow)) for i in [*range(steps), *range(steps - 2, 0, -1)]]
    gif = save_animation(frames, out.with_suffix(".gif"), [frame_ms] * len(frames))
    return png, gif


def label_rows(images: torch.Tensor, labels: torch.Tensor, grid_images: int) -> torch.Tensor:
    """A grid with a row per label, in increasing order, of its first images (grid_images / labels of them, at
    least one; a label with fewer leaves the rest of its row blank)."""
    rows = labels.unique()
    columns = max(1, grid_images // len(rows))
    cells = torch.zeros(len(rows), columns, *images.shape[1:], dtype=images.dtype)
    for i, k in enumerate(rows):
        own = images[labels == k][:columns]
        cells[i, : len(own)] = own
    return make_grid(cells.flatten(0, 1).float() / 255, nrow=columns)


def run_data(run: dict, data_dir: str) -> ImageDataModule:
    """The datamodule of the checkpoint's run, reading from this machine's `data_dir`."""
    config = dict(run["data"])
    if "data_dir" in config:
        config["data_dir"] = data_dir
    return instantiate(config)


def domain_data(domain: str, run: dict, data_dir: str) -> ImageDataModule:
    if domain not in DOMAINS:
        raise ValueError(f"Unknown domain {domain!r} for translate=; choose one of {sorted(DOMAINS)}.")
    shape = {k: run.get("data", {})[k] for k in ("image_size", "channels") if k in run.get("data", {})}
    if domain == "synthetic":
        return SyntheticDataModule(**shape)
    return DOMAINS[domain](data_dir=data_dir, **shape)


def write(
    images: torch.Tensor,
    out: Path,
    labels: torch.Tensor | None = None,
    grid_images: int = 64,
    codes: torch.Tensor | None = None,
    rows_by_label: bool = False,
) -> Path:
    """The .npz with `images` (and `labels`, `codes`), and a PNG grid of the first images beside it, or with
    `rows_by_label` the first images of each label in a row of its own; returns the PNG."""
    out.parent.mkdir(parents=True, exist_ok=True)
    extra = {"labels": labels, "codes": codes}
    arrays = {"images": images.numpy()} | {k: v.numpy() for k, v in extra.items() if v is not None}
    np.savez_compressed(out, **arrays)
    if rows_by_label and labels is not None:
        grid = label_rows(images, labels, grid_images)
    else:
        grid = make_grid(images[:grid_images].float() / 255, nrow=int(np.ceil(np.sqrt(min(grid_images, len(images))))))
    png = out.with_suffix(".png")
    save_image(grid, png)
    return png


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="sample")
def main(cfg: DictConfig) -> None:
    try:
        model, run = load_model(cfg.ckpt_path)
        model.use_weights(cfg.weights)
        out = Path(cfg.out).expanduser()
        codes = None
        walks = cfg.interpolate.walks
        asked = OmegaConf.to_object(cfg.labels) if isinstance(cfg.labels, ListConfig) else cfg.labels
        if sum(map(bool, (cfg.translate, cfg.get("encode"), walks))) > 1:
            raise ValueError("Choose one of translate=<domain>, encode=<split> and interpolate.walks=<K>.")
        if asked is not None and (cfg.translate or cfg.get("encode")):
            raise ValueError(
                "labels= chooses the classes a conditional model generates; translate= and encode= read a test "
                "split, whose own labels they save. Drop labels=."
            )
        if walks:
            spherical = cfg.interpolate.path == "slerp"
            if cfg.interpolate.path not in ("slerp", "lerp"):
                raise ValueError(f"interpolate.path must be slerp or lerp, got {cfg.interpolate.path!r}.")
            labels = requested_labels(model, asked, walks)
            images, codes = interpolate(model, walks, cfg.interpolate.steps, cfg.seed, spherical, labels)
        elif cfg.get("encode"):
            codes, images, labels = encode(model, run_data(run, cfg.data_dir), cfg.encode, cfg.batch_size)
        elif cfg.translate:
            data = domain_data(cfg.translate, run, cfg.data_dir)
            images, labels = translate(model, cfg.translate, data, cfg.batch_size)
        else:
            labels = requested_labels(model, asked, cfg.n)
            images = generate(model, cfg.n, cfg.batch_size, cfg.seed, labels)
    except (DatasetNotFoundError, FileNotFoundError, ValueError, NotImplementedError) as error:
        log.error(str(error))
        sys.exit(1)
    if walks:
        png, gif = write_walks(images, codes, out, labels=labels)
        print(f"{walks} latent walks of {images.shape[1]} images written to {out} (grid: {png}, animation: {gif})")
        return
    by_label = not (walks or cfg.translate or cfg.get("encode"))
    png = write(images, out, labels, cfg.grid_images, codes, rows_by_label=by_label)
    what = f"{tuple(codes.shape)} codes and reconstructions" if codes is not None else "images"
    print(f"{tuple(images.shape)} {images.dtype} {what} written to {out} (grid: {png})")


def cli() -> None:
    """`python -m ganzoo.sample`: any checkpoint path unquoted (ganzoo.config.quote_paths), then Hydra."""
    sys.argv[1:] = quote_paths(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli()
