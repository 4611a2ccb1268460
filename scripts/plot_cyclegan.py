"""CycleGAN pictures: translation accuracy against minutes of training, and the report's Figure 4 grid.

    python scripts/plot_cyclegan.py RUN [RUN ...] [--labels seed=0 ...] [--out docs/cyclegan_accuracy.png]
        [--grid docs/cyclegan_mnist_usps.png]

Each RUN is a run folder of `model=cyclegan data=mnist_usps`. The curves come from its TensorBoard events
(`val/acc_mnist2usps`, `val/acc_usps2mnist`, against the wall-clock time of each event since the run's first),
with the fixed geometric maps of benchmarks/translation_baselines.py as horizontal lines. The grid translates the
first 16 test images of each domain with the first RUN's last.ckpt: rows of (MNIST, G(MNIST), USPS, F(USPS)).
It also prints a Markdown table of the final accuracies, their mean and range, and when each direction first
passed 95%.
"""

import argparse
import os
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torchvision.utils import save_image

from ganzoo.checkpoint import load_model
from ganzoo.data import MNISTDataModule, USPSDataModule
from ganzoo.events import read_scalar_events
from ganzoo.utils import eval_mode

# benchmarks/translation_baselines.py, whole test splits
BASELINES = {"mnist2usps": 92.0, "usps2mnist": 94.2}
COLOURS = {"mnist2usps": "tab:blue", "usps2mnist": "tab:orange"}


def curves(run: Path, x: str = "minutes") -> dict[str, list[tuple[float, float]]]:
    """(minutes since the run's first event, or step + 1; accuracy in %) per direction."""
    events = read_scalar_events(run)
    start = min(t for points in events.values() for _, t, _ in points)
    return {
        direction: [
            ((t - start) / 60 if x == "minutes" else step + 1, 100 * value)
            for step, t, value in events[f"val/acc_{direction}"]
        ]
        for direction in BASELINES
        if f"val/acc_{direction}" in events
    }


def summary(runs: list[Path], labels: list[str]) -> str:
    """Markdown: per run, the final accuracies and the first validation at which each direction passed 95%."""
    lines = ["| run | MNIST->USPS final | USPS->MNIST final | passes 95% (step, minutes) |", "|---|---|---|---|"]
    finals: dict[str, list[float]] = {d: [] for d in BASELINES}
    for run, label in zip(runs, labels, strict=True):
        by_minute, by_step = curves(run), curves(run, "step")
        passes = []
        for direction in BASELINES:
            finals[direction].append(by_step[direction][-1][1])
            first = next(((s, m) for (s, a), (m, _) in zip(by_step[direction], by_minute[direction], strict=True)
                          if a >= 95.0), None)  # fmt: skip
            passes.append(f"{direction}: " + (f"{first[0]:.0f}, {first[1]:.0f} min" if first else "never"))
        cells = [label, f"{finals['mnist2usps'][-1]:.1f}", f"{finals['usps2mnist'][-1]:.1f}", "; ".join(passes)]
        lines.append("| " + " | ".join(cells) + " |")
    spread = [f"{statistics.mean(v):.1f} ({min(v):.1f} to {max(v):.1f})" for v in finals.values()]
    lines.append(f"| mean (range) | {spread[0]} | {spread[1]} | |")
    return "\n".join(lines)


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
    print(summary(args.runs, labels))
    print(f"written {args.out} and {args.grid}")


if __name__ == "__main__":
    main()
