"""How good is each model after 1, 2, 4 and 8 minutes of training on a CPU?

    GANZOO_DATA_DIR=... .venv/bin/python benchmarks/time_to_quality.py [NAME ...] [--minutes 8] [--threads 2]

Each NAME (a model, e.g. `dcgan`, or a preset, e.g. `dcgan_mnist_fast`; all of them by default) trains from
scratch on MNIST through `python -m ganzoo.train`, with no validation during training and `WallClockMarks`
saving a checkpoint at each mark of training time (the saves are not counted). Every mark's checkpoint is then
scored by `ganzoo.evaluate` (10,000 samples against the MNIST test split, digit features). Results accumulate in
benchmarks/results/time_to_quality.json and names already there are skipped (--force: measure again), so the
whole set, which takes hours, can be measured a few names at a time. Then the table is printed, the plot
docs/time_to_quality.png is drawn (digit FID against minutes, log scale, the runs with this --threads) and each
run's final grid is copied to docs/samples/<name>.png. A trial of other settings (`--label tune:<name> --override
key=value ...`) is stored too, but does neither.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "time_to_quality.json"
RUNS = ROOT / "outputs" / "time_to_quality"
MODELS = ("gan", "dcgan", "dcgan_radford", "wgan", "wgan_gp", "otgan", "bigan")
PRESETS = tuple(p.stem for p in sorted((ROOT / "conf" / "experiment").glob("*_mnist_fast.yaml")))
METRICS = ("fid", "is", "kid", "modes")


def overrides(name: str) -> list[str]:
    group = "experiment" if (ROOT / "conf" / "experiment" / f"{name}.yaml").is_file() else "model"
    return [f"{group}={name}"] + (["data=mnist"] if group == "model" else [])


def train(folder: str, name: str, minutes: list[float], threads: int, extra: list[str]) -> Path:
    run = RUNS / folder
    shutil.rmtree(run, ignore_errors=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    marks = ",".join(f"{m:g}" for m in minutes)
    command = [
        sys.executable, "-m", "ganzoo.train", *overrides(name), *extra,
        "metrics=none", "trainer.max_epochs=-1", "trainer.max_steps=-1", "trainer.enable_progress_bar=false",
        f"+callbacks.wall_clock_marks={{_target_:ganzoo.callbacks.WallClockMarks,minutes:[{marks}]}}",
        f"hydra.run.dir={run}",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with open(run.with_suffix(".log"), "w") as log:
        subprocess.run(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    return run


def evaluate(checkpoint: Path, threads: int, weights: str = "ema") -> dict:
    out = checkpoint.parent / "eval" / f"{checkpoint.stem}_{weights}"
    command = [
        sys.executable, "-m", "ganzoo.evaluate", f"ckpt_path={checkpoint}", f"hydra.run.dir={out}", f"weights={weights}"
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    command.append(f"out={out / 'metrics.json'}")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    return json.loads((out / "metrics.json").read_text())


def measure(name: str, key: str, minutes: list[float], threads: int, extra: list[str]) -> dict:
    started = time.perf_counter()
    run = train(key.replace(":", "_"), name, minutes, threads, extra)
    marks = {}
    for m in minutes:
        report = evaluate(run / "checkpoints" / f"minute_{m:g}.ckpt", threads)
        marks[f"{m:g}"] = {"step": report["step"], **{k: report[k] for k in METRICS}}
        print(f"  {name} at {m:g} min: " + ", ".join(f"{k} {v:.4g}" for k, v in marks[f"{m:g}"].items()), flush=True)
    if report["weights"] == "ema":  # the raw weights of the same run are the run without EMA
        raw = evaluate(run / "checkpoints" / f"minute_{minutes[-1]:g}.ckpt", threads, "raw")
        marks[f"{minutes[-1]:g}"]["raw"] = {k: raw[k] for k in METRICS}
        print(f"  {name} at {minutes[-1]:g} min, raw weights: " + ", ".join(f"{k} {raw[k]:.4g}" for k in METRICS))
    grids = sorted((run / "samples").glob("step_*.png"))
    if grids and not key.startswith("tune:"):  # a trial keeps its grids in its run folder
        (ROOT / "docs" / "samples").mkdir(parents=True, exist_ok=True)
        shutil.copy(grids[-1], ROOT / "docs" / "samples" / f"{key.replace(':', '_')}.png")
    return {
        "command": " ".join(["python -m ganzoo.train", *overrides(name), *extra]),
        "threads": threads,
        "wall_minutes": round((time.perf_counter() - started) / 60, 2),
        "marks": marks,
    }


def table(results: dict) -> str:
    marks = sorted({m for r in results.values() for m in r["marks"]}, key=float)
    head = "| name | threads | " + " | ".join(f"FID {m} min" for m in marks) + " | steps | IS | KID | modes |"
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for name, r in results.items():
        last = r["marks"].get(marks[-1], {})
        fids = [f"{r['marks'][m]['fid']:.1f}" if m in r["marks"] else "" for m in marks]
        rows.append(
            f"| `{name}` | {r['threads']} | " + " | ".join(fids) + f" | {last.get('step', '')} | "
            f"{last.get('is', 0):.2f} | {last.get('kid', 0):.4f} | {last.get('modes', '')} |"
        )
    return "\n".join(rows)


def plot(results: dict, threads: int, path: Path) -> None:
    """One line per run measured on `threads` threads: runs on other thread counts do not compare."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, r in results.items():
        if r["threads"] != threads:
            continue
        minutes = sorted(r["marks"], key=float)
        ax.plot([float(m) for m in minutes], [r["marks"][m]["fid"] for m in minutes], marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="minutes of training (CPU)", ylabel="digit FID (10k samples)")
    ax.set_xticks([1, 2, 4, 8], labels=["1", "2", "4", "8"])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Time to quality on MNIST, {threads} thread{'s' * (threads > 1)}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"default: {' '.join(MODELS + PRESETS)}")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 4, 8], help="marks; the last is the budget")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the training run")
    parser.add_argument("--force", action="store_true", help="measure names that already have results")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--override", action="append", default=[], help="extra ganzoo.train override (a trial)")
    parser.add_argument("--label", help="store the result under this name (tune:<name> for a trial)")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results.is_file() else {}
    print(f"training on {args.threads} thread(s), marks {args.minutes} min", flush=True)
    for name in args.names or MODELS + PRESETS:
        key = args.label or name
        if key in results and not args.force:
            print(f"  {key}: measured already (--force to measure again)")
            continue
        measured = measure(name, key, args.minutes, args.threads, args.override)
        # read again before writing: two runs of this script may share the file
        results = json.loads(args.results.read_text()) if args.results.is_file() else {}
        results[key] = measured
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    if not (args.label or "").startswith("tune:"):  # a trial leaves the plot as it is
        shown = {k: v for k, v in results.items() if not k.startswith("tune:")}
        plot(shown, args.threads, ROOT / "docs" / "time_to_quality.png")


if __name__ == "__main__":
    main()
