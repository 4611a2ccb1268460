"""How far is an IS target from a FID target? IS against digit FID over the measured marks of the time-to-quality runs.

    python scripts/is_against_fid.py [--results benchmarks/results/time_to_quality.json] [--below 60]
        [--apart info_codes=10 wgan_gp_mnist_fast@2threads] [--out docs/is_against_fid.png]

Reads every (FID, IS) pair that benchmarks/time_to_quality.py stored (all runs, all marks, EMA weights) with FID
below `--below`, fits IS = a ln(FID) + b by least squares, prints the fit, its correlation and the FID at which the
fit reaches a few IS values, and draws the points with the fit (log FID axis). `--apart TEXT ...`: the runs named
TEXT, or whose training command contains it (a lever), are left out of the fit and drawn in their own colour, with
their distance from the line printed.
"""

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "time_to_quality.json")
    parser.add_argument("--below", type=float, default=60.0, help="only marks with a digit FID below this")
    parser.add_argument("--apart", nargs="*", default=[], help="runs of this name, or whose command holds it")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "is_against_fid.png")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())

    def is_apart(name: str, run: dict) -> bool:
        return any(text == name or text in run.get("command", "") for text in args.apart)

    def marks(apart: bool) -> np.ndarray:
        return np.array(
            [
                (mark["fid"], mark["is"])
                for name, run in results.items()
                if is_apart(name, run) == apart
                for mark in run["marks"].values()
                if "is" in mark and 0 < mark["fid"] < args.below
            ]
        ).reshape(-1, 2)

    points, others = marks(apart=False), marks(apart=True)
    log_fid, inception = np.log(points[:, 0]), points[:, 1]
    slope, intercept = np.polyfit(log_fid, inception, 1)
    r = np.corrcoef(log_fid, inception)[0, 1]
    residuals = inception - (slope * log_fid + intercept)
    print(f"{len(points)} marks with FID < {args.below:g}: IS = {slope:.3f} ln(FID) + {intercept:.3f}, r = {r:.3f}")
    print(f"distance from the line: at most {np.abs(residuals).max():.2f}, standard deviation {residuals.std():.2f}")
    best = points[points[:, 0].argmin()]
    print(f"lowest FID measured: {best[0]:.1f} (IS {best[1]:.2f}); highest IS: {inception.max():.2f}")
    for target in (8.5, 9.0, 9.3):  # beyond the lowest FID measured this extrapolates, and the line must bend
        print(f"  the fit reaches IS {target}: at FID {np.exp((target - intercept) / slope):.1f}")
    for fid, score in others:
        off = score - (slope * np.log(fid) + intercept)
        print(f"  apart: FID {fid:.1f}, IS {score:.2f}, {off:+.2f} from the line")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(points[:, 0], inception, s=12, label=f"time-to-quality marks with FID < {args.below:g}")
    if len(others):
        ax.scatter(others[:, 0], others[:, 1], s=16, color="tab:red", marker="^", label=", ".join(args.apart))
    lowest = min(points[:, 0].min(), others[:, 0].min() if len(others) else np.inf)
    measured, beyond = np.geomspace(lowest, args.below, 50), np.geomspace(2, lowest, 20)
    ax.plot(measured, slope * np.log(measured) + intercept, color="black", linewidth=1, label=f"fit, r = {r:.3f}")
    ax.plot(beyond, slope * np.log(beyond) + intercept, color="black", linewidth=1, linestyle="--", label="beyond")
    ax.axhline(9.3, color="grey", linestyle=":", linewidth=1)
    ax.annotate("IS target 9.3", (2, 9.3), xytext=(2, 2), textcoords="offset points", fontsize=7)
    ax.set(xscale="log", xlabel="digit FID (10k samples)", ylabel="IS (digit classifier)")
    ticks = [t for t in (2, 4, 8, 15, 30, 60) if t <= args.below]
    ax.set_xticks(ticks, labels=[str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_title("IS against digit FID (EMA weights, 10k samples)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
