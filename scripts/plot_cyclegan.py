"""The README's CycleGAN pictures: accuracy against minutes of training, and the report's Figure 4 grid.

    python scripts/plot_cyclegan.py RUN [RUN ...] [--labels seed=0 ...] [--out docs/cyclegan_accuracy.png]
        [--grid docs/cyclegan_mnist_usps.png]

Each RUN is a run folder of `model=cyclegan data=mnist_usps`. The curves come from its TensorBoard events
(`val/acc_mnist2usps`, `val/acc_usps2mnist`, against the wall-clock time of each event since the run's first),
with the fixed geometric maps of benchmarks/translation_baselines.py as horizontal lines. The grid translates the
first 16 test images of each domain with the first RUN's last.ckpt: rows of (MNIST, G(MNIST), USPS, F(USPS)).
"""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torchvision.utils import save_image

from ganzoo.checkpoint import load_model
from ganzoo.data import MNISTDataModule, USPSDataModule
from ganzoo.utils import eval_mode

# benchmarks/translation_baselines.py, whole test splits
BASELINES = {"mnist2usps": 92.0, "usps2mnist": 94.2}
COLOURS = {"mnist2usps": "tab:blue", "usps2mnist": "tab:orange"}


def curves(run: Path) -> dict[str, list[tuple[float, float]]]:
    """(minutes since the run's first event, accuracy in %) per direction."""
    out: dict[str, list[tuple[float, float]]] = {}
    for file in sorted(run.glob("events.out.tfevents.*")):
        events = EventAccumulator(str(file), size_guidance={"scalars": 0}).Reload()
        start = min(e.wall_time for tag in events.Tags()["scalars"] for e in events.Scalars(tag))
        for direction in BASELINES:
            tag = f"val/acc_{direction}"
            if tag in events.Tags()["scalars"]:
                out[direction] = [((e.wall_time - start) / 60, 100 * e.value) for e in events.Scalars(tag)]
    return out


def plot(runs: list[Path], labels: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for run, label, style in zip(runs, labels, ["-", "--", ":", "-."] * 4, strict=False):
        for direction, points in curves(run).items():
            ax.plot(
                *zip(*points, strict=True), style, marker="o", color=COLOURS[direction], label=f"{direction} {label}"
            )
    for direction, value in BASELINES.items():
        ax.axhline(value, color=COLOURS[direction], alpha=0.4, lw=1, label=f"{direction} fixed map ({value}%)")
    ax.set(xlabel="minutes of training (CPU, validation included)", ylabel="accuracy (%)", ylim=(85, 100))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("CycleGAN MNIST <-> USPS: translation accuracy on the test splits")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


@torch.no_grad()
def figure4(checkpoint: Path, path: Path, k: int = 16) -> None:
    model, _ = load_model(checkpoint)
    data_dir = os.environ.get("GANZOO_DATA_DIR", "data")
    real = {}
    for name, module in (("mnist", MNISTDataModule), ("usps", USPSDataModule)):
        datamodule = module(data_dir=data_dir, val_size=0)
        datamodule.setup("test")
        real[name] = datamodule.test_set.tensors[0][:k]
    with eval_mode(model):
        columns = [
            real["mnist"],
            model.translate(real["mnist"], "mnist"),
            real["usps"],
            model.translate(real["usps"], "usps"),
        ]
    grid = torch.stack(columns, dim=1).flatten(0, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, path, nrow=4, normalize=True, value_range=(-1, 1), pad_value=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--labels", nargs="*")
    parser.add_argument("--out", type=Path, default=Path("docs/cyclegan_accuracy.png"))
    parser.add_argument("--grid", type=Path, default=Path("docs/cyclegan_mnist_usps.png"))
    args = parser.parse_args()
    labels = args.labels or [run.name for run in args.runs]
    plot(args.runs, labels, args.out)
    figure4(args.runs[0] / "checkpoints" / "last.ckpt", args.grid)
    print(f"written {args.out} and {args.grid}")


if __name__ == "__main__":
    main()
