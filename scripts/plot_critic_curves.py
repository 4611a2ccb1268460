"""Render the critic curves of a sweep's runs, read back from their TensorBoard event files, into one PNG.

    python scripts/plot_critic_curves.py outputs/multirun/<date>/<time> --out critic_curves.png

One panel per tag (critic loss, Wasserstein estimate, gradient penalty), one line per run folder, each run
labelled by the overrides that set it apart from the others (read from its `.hydra/overrides.yaml`).
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
from omegaconf import OmegaConf

from ganzoo.events import read_scalars

TAGS = {
    "train/critic_loss": "critic loss",
    "train/wasserstein": "Wasserstein estimate  E f(real) - E f(fake)",
    "train/gradient_penalty": "gradient penalty (WGAN-GP)",
}


def labels(runs: list[Path]) -> list[str]:
    """The overrides of each run that not every run shares; the folder name where a run has none of its own."""
    overrides = []
    for run in runs:
        listed = run / ".hydra" / "overrides.yaml"
        overrides.append(set(OmegaConf.load(listed)) if listed.is_file() else set())
    common = set.intersection(*overrides) if len(runs) > 1 else set()
    return [" ".join(sorted(o - common)) or run.name for o, run in zip(overrides, runs, strict=True)]


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's exponential moving average, so that the trend shows through mini-batch noise."""
    out, last = [], values[0]
    for v in values:
        last = weight * last + (1 - weight) * v
        out.append(last)
    return out


def plot(sweep_dir: Path, out: Path, smoothing: float = 0.8) -> Path:
    runs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and list(p.glob("events.out.tfevents.*")))
    if not runs:
        raise FileNotFoundError(f"No run folders with TensorBoard events in {sweep_dir}.")
    scalars = [read_scalars(run) for run in runs]
    fig, axes = plt.subplots(1, len(TAGS), figsize=(5 * len(TAGS), 3.6), constrained_layout=True)
    for ax, (tag, title) in zip(axes, TAGS.items(), strict=True):
        for label, scalar, color in zip(labels(runs), scalars, plt.cm.tab10.colors, strict=False):
            if tag not in scalar:
                continue
            steps, values = zip(*scalar[tag], strict=True)
            ax.plot(steps, values, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(steps, smooth(list(values), smoothing), color=color, linewidth=1.8, label=label)
        ax.set_title(f"{title}\n{tag}", fontsize=10)
        ax.set_xlabel("step (optimizer updates: critic + generator)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", type=Path, help="a multirun folder: outputs/multirun/<date>/<time>")
    parser.add_argument("--out", type=Path, default=Path("critic_curves.png"))
    parser.add_argument("--smoothing", type=float, default=0.8, help="EMA weight, as TensorBoard's slider")
    args = parser.parse_args()
    print(plot(args.sweep_dir, args.out, args.smoothing))


if __name__ == "__main__":
    main()
