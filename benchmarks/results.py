"""docs/results.md from one command: every shipped fast preset and the fast CycleGAN, trained from scratch as a user
types them, at several seeds, and scored on the test split.

    GANZOO_DATA_DIR=... python benchmarks/results.py [--seeds 2] [--cyclegan-seeds 3] [--only NAME ...] [--redo]

Each run is `python -m ganzoo.train <command> seed=<s> hydra.run.dir=outputs/results/<name>/seed_<s>` with the
same number of torch threads for every run (--threads; default: what torch takes on this machine), timed from the
command's start to its end, then `python -m ganzoo.evaluate ckpt_path=<run>/checkpoints/last.ckpt split=test`.
Every finished run is added at once to benchmarks/results/results.json under `<name>/seed_<s>`, so a stopped
command resumes where it stopped: runs already there are skipped, and --redo measures them again (with --only
NAME: that name's runs alone). docs/results.md is then written from the JSON (mean and standard deviation over
seeds, then each seed, with the machine, library versions, commit and date of the runs), with each name's sample
grid of seed 0 as docs/samples/<name>.png and, for --animate's name, its grids over training as a GIF. The
README's results tables, between its two `<!-- ... results.py ... -->` markers, are rewritten from the same JSON.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = {p.stem: [f"experiment={p.stem}"] for p in sorted((ROOT / "conf" / "experiment").glob("*_fast.yaml"))}
TRANSLATION = {
    # learns with both domains' labels, through its pretrained labellers (semantic consistency)
    "cyclegan": ["model=cyclegan", "data=mnist_usps"],
    # the same configuration without the semantic term: no labels at all
    "cyclegan_no_labels": ["model=cyclegan", "data=mnist_usps", "model.semantic_weight=0"],
}
NAMES = {**PRESETS, **TRANSLATION}
GENERATION_METRICS = ("fid", "is", "kid", "precision", "recall", "density", "coverage", "modes")
CONDITIONAL_METRICS = ("cond_acc", "intra_fid", "code_acc")  # those a class-conditional model's evaluation adds
TRANSLATION_METRICS = ("acc_mnist2usps", "acc_usps2mnist", "fid_mnist2usps", "fid_usps2mnist")
ANIMATION_FRAMES = 12  # grids in the GIF, from the first to the last: a few hundred KB
LIBRARIES = ("torch", "lightning", "torchmetrics", "hydra-core", "numpy")


def machine() -> dict:
    """What the wall clocks depend on: the CPU, its cores, the libraries, and the code's commit."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    # changes to what this command writes itself (the JSON, the page, its pictures, the README) are not the code's
    written = [":(exclude)benchmarks/results", ":(exclude)docs", ":(exclude)README.md"]
    status = [*git, "status", "--porcelain", "-uno", "--", ".", *written]
    changed = subprocess.run(status, capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **{name: importlib.metadata.version(name) for name in LIBRARIES},
        "commit": (commit or "unknown") + (" (with uncommitted changes)" if changed else ""),
    }


def run_command(args: list[str], log: Path, threads: int) -> float:
    """Run `python -m <args>` from the repository root with `threads` torch threads; seconds it took."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run([sys.executable, "-m", *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"`python -m {' '.join(args)}` failed (exit {done.returncode}); its output is in {log}.")
    return time.perf_counter() - started


def measure(name: str, seed: int, runs: Path, threads: int, overrides: list[str], eval_overrides: list[str]) -> dict:
    """Train `name` at `seed` from scratch, score its last checkpoint on the test split: one record of the JSON."""
    run = runs / name / f"seed_{seed}"
    shutil.rmtree(run, ignore_errors=True)  # a run stopped half-way starts again: its clock would be wrong
    run.mkdir(parents=True)
    typed = [*NAMES[name], f"seed={seed}", *overrides]
    train_seconds = run_command(["ganzoo.train", *typed, f"hydra.run.dir={run}"], run / "train.log", threads)
    checkpoint = run / "checkpoints" / "last.ckpt"
    scored = [f"ckpt_path={checkpoint}", "split=test", f"out={run / 'test.json'}", f"hydra.run.dir={run / 'evaluate'}"]
    eval_seconds = run_command(["ganzoo.evaluate", *scored, *eval_overrides], run / "evaluate.log", threads)
    report = json.loads((run / "test.json").read_text())
    wanted = TRANSLATION_METRICS if name in TRANSLATION else GENERATION_METRICS
    return {
        "command": " ".join(["python -m ganzoo.train", *typed]),
        "seed": seed,
        "threads": threads,
        "steps": report["step"],
        "train_minutes": round(train_seconds / 60, 2),
        "evaluate_minutes": round(eval_seconds / 60, 2),
        "metrics": {k: report[k] for k in wanted} | {k: report[k] for k in CONDITIONAL_METRICS if k in report},
        "per_class": {k: v for k, v in report.items() if k.startswith("per_class_cond")},
        "date": datetime.date.today().isoformat(),
        **machine(),
        "run": str(run.relative_to(ROOT) if run.is_relative_to(ROOT) else run),
    }


def save(results: dict, path: Path) -> None:
    """Write the JSON whole or not at all: a stop while writing keeps the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    partial.replace(path)


def spread(values: list[float], digits: int) -> str:
    """`mean ± standard deviation` (sample, over seeds), or the value alone for one seed."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


DIGITS = {"fid": 1, "is": 2, "kid": 2, "modes": 1, "precision": 3, "recall": 3, "density": 3, "coverage": 3}
HEADS = {
    "fid": "FID",
    "is": "IS",
    "kid": "KID",
    "acc_mnist2usps": "accuracy MNIST→USPS",
    "acc_usps2mnist": "accuracy USPS→MNIST",
    "fid_mnist2usps": "FID MNIST→USPS",
    "fid_usps2mnist": "FID USPS→MNIST",
    "cond_acc": "conditional accuracy",
    "intra_fid": "intra-class FID",
    "code_acc": "code accuracy",
}
PERCENT = ("acc_mnist2usps", "acc_usps2mnist", "cond_acc", "code_acc")  # fractions, shown as percentages


def cell(metric: str, values: list[float]) -> str:
    if not values:  # a metric this model has not got (a code accuracy for a model without codes)
        return "—"
    if metric in PERCENT:
        return spread([100 * v for v in values], 2) + " %"
    return spread(values, DIGITS.get(metric, 1))


def minutes(records: list[dict]) -> str:
    """Mean training minutes of the runs timed alone; runs timed while other jobs shared the CPU (`shared_cpu`) are
    left out, or marked when there is no other."""
    alone = [r["train_minutes"] for r in records if not r.get("shared_cpu")]
    if alone:
        return spread(alone, 1)
    return spread([r["train_minutes"] for r in records], 1) + " (CPU shared with other jobs)"


def seeds_steps_minutes(records: list[dict]) -> list[str]:
    """The cells that open a row of means: the seeds, the steps (all there were), the mean minutes."""
    steps = sorted({r["steps"] for r in records})
    return [", ".join(str(r["seed"]) for r in records), "/".join(map(str, steps)), minutes(records)]


def records_of(results: dict, name: str) -> list[dict]:
    """The runs of one name, by seed."""
    return sorted((r for k, r in results.items() if k.split("/")[0] == name), key=lambda r: r["seed"])


def conditional(results: dict) -> dict:
    """The presets whose runs were scored as class-conditional models (they hold a conditional metric)."""
    return {
        name: typed
        for name, typed in PRESETS.items()
        if any(m in r["metrics"] for r in records_of(results, name) for m in CONDITIONAL_METRICS)
    }


def markdown(rows: list[list[str]], header: list[str]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def tables(results: dict, names: dict, metrics: tuple[str, ...], per_seed: tuple[str, ...] | None = None) -> list[str]:
    """A table of means over seeds (one row per name), then one of every seed with the `per_seed` metrics (default:
    all of them)."""
    per_seed = per_seed or metrics
    head = ["`python -m ganzoo.train` ...", "seeds", "steps", "minutes", *(HEADS.get(m, m) for m in metrics)]
    mean_rows, seed_rows = [], []
    for name in names:
        records = records_of(results, name)
        if not records:
            continue
        mean_rows.append(
            [
                f"`{' '.join(names[name])}`",
                *seeds_steps_minutes(records),
            ]
            + [cell(m, [r["metrics"][m] for r in records if m in r["metrics"]]) for m in metrics]
        )
        for r in records:
            seed_rows.append(
                [f"`{name}`", str(r["seed"]), str(r["steps"])]
                + [f"{r['train_minutes']:.1f}" + (" (CPU shared with other jobs)" if r.get("shared_cpu") else "")]
                + [cell(m, [r["metrics"][m]] if m in r["metrics"] else []) for m in per_seed]
            )
    if not mean_rows:
        return ["(not measured yet)"]
    return [
        "Mean ± standard deviation over the seeds:",
        markdown(mean_rows, head),
        "Each seed (the command above with `seed=<s>`):",
        markdown(seed_rows, ["name", "seed", "steps", "minutes", *(HEADS.get(m, m) for m in per_seed)]),
    ]


def per_class_table(results: dict, names: dict) -> list[str]:
    """Conditional accuracy of each class asked for, mean over seeds, one row per conditional preset."""
    rows = []
    for name in names:
        lists = [r["per_class"]["per_class_cond_acc"] for r in records_of(results, name)
                 if "per_class_cond_acc" in r.get("per_class", {})]  # fmt: skip
        if lists:
            rows.append([f"`{name}`"] + [f"{100 * statistics.fmean(c):.1f}" for c in zip(*lists, strict=True)])
    if not rows:
        return []
    head = ["preset", *(f"{k}" for k in range(len(rows[0]) - 1))]
    return ["Conditional accuracy of each class asked for, %, mean over the seeds:", markdown(rows, head)]


SUMMARY = ("<!-- written by benchmarks/results.py from docs/results.md's runs -->", "<!-- end of results.py -->")


def summary(results: dict) -> str:
    """The README's results tables: the mean over seeds of each command's headline figures."""
    generation, translation = [], []
    for name, typed in NAMES.items():
        records = records_of(results, name)
        if not records:
            continue
        first = [
            f"`python -m ganzoo.train {' '.join(typed)}`",
            *seeds_steps_minutes(records),
        ]

        means = {m: cell(m, [r["metrics"][m] for r in records if m in r["metrics"]]) for m in records[0]["metrics"]}
        if name in TRANSLATION:
            translation.append([*first, means["acc_mnist2usps"], means["acc_usps2mnist"]])
        else:
            accuracy = means.get("code_acc", means.get("cond_acc", "—"))
            generation.append([*first, means["fid"], means["is"], means["modes"], accuracy])
    head = ["command", "seeds", "steps", "minutes"]
    parts = [SUMMARY[0]]
    if generation:
        parts.append(markdown(generation, [*head, "digit FID", "IS", "modes", "class (code) accuracy"]))
    if translation:
        parts.append(markdown(translation, [*head, "accuracy MNIST→USPS", "accuracy USPS→MNIST"]))
    return "\n\n".join([*parts, SUMMARY[1]])


def update_readme(readme: Path, results: dict) -> bool:
    """Replace the README's results tables (between SUMMARY's two markers) with `summary`; False without markers."""
    text = readme.read_text()
    start, end = text.find(SUMMARY[0]), text.find(SUMMARY[1])
    if start < 0 or end < start:
        return False
    readme.write_text(text[:start] + summary(results) + text[end + len(SUMMARY[1]) :])
    return True


def environment(results: dict) -> list[str]:
    """The machines, libraries, commits and dates of the runs (more than one of each if a run resumed elsewhere)."""
    keys = ("cpu", "cores", "threads", "python", *LIBRARIES, "commit", "date")
    seen = {k: sorted({str(r[k]) for r in results.values()}) for k in keys}
    return [
        f"- CPU: {' / '.join(seen['cpu'])}, {' / '.join(seen['cores'])} logical cores; every run with "
        f"{' / '.join(seen['threads'])} torch threads",
        "- Python " + " / ".join(seen["python"]) + ", " + ", ".join(f"{k} {' / '.join(seen[k])}" for k in LIBRARIES),
        f"- ganzoo commit {' / '.join(seen['commit'])}",
        f"- run on {' to '.join(sorted({seen['date'][0], seen['date'][-1]}))}; {len(results)} runs, "
        f"{sum(r['train_minutes'] + r.get('evaluate_minutes', 0) for r in results.values()) / 60:.1f} hours of "
        "training and evaluation in all",
    ]


def gallery(pictures: list[str], columns: int = 3) -> list[str]:
    """The pictures as a Markdown table, `columns` to a row, each under its name."""
    if not pictures:
        return []
    lines = []
    for i in range(0, len(pictures), columns):
        row = pictures[i : i + columns]
        names = [Path(p).stem + " over training" * p.endswith(".gif") for p in row]
        pad = [""] * (columns - len(row))
        if i == 0:  # the table's header: the first row's names
            lines += ["| " + " | ".join(names + pad) + " |", "|" + " --- |" * columns]
        else:
            lines.append("| " + " | ".join([f"**{n}**" for n in names] + pad) + " |")
        lines.append("| " + " | ".join([f"![{n}]({p})" for n, p in zip(names, row, strict=True)] + pad) + " |")
    return ["\n".join(lines)]


def page(results: dict, pictures: list[str], figure: str | None = None) -> str:
    """The Markdown page; `pictures`: paths of the sample grids (and animation), `figure`: the FID-against-minutes
    plot, relative to the page."""
    conditional_presets = conditional(results)
    parts = [
        "# Results",
        "Every figure on this page is written by `python benchmarks/results.py` (see its help for resuming and for "
        "measuring one preset again). It trains each command below from scratch exactly as typed, at each seed "
        "(`seed=<s>`), with the given number of torch threads, and scores the last checkpoint on the test split with "
        "`python -m ganzoo.evaluate ckpt_path=<run>/checkpoints/last.ckpt split=test`. Minutes are the training "
        "command's own, from its start to its end, validations during training included.",
        "\n".join(environment(results)) if results else "(no runs yet)",
        "## Generating digits: MNIST",
        "FID, KID and precision, recall, density and coverage (k = 5) on the 128-dimensional features of "
        "ganzoo's own MNIST classifier, IS on its softmax, from 10,000 samples of the generator (its moving average "
        "where the preset keeps one) against the 10,000 test images; modes: digit classes that receive at least 5% "
        "of the samples. Digit FID is not Inception FID: compare these only with each other.",
        *tables(results, PRESETS, GENERATION_METRICS, per_seed=("fid", "is", "kid", "modes")),
        *(
            [
                "The same runs during training (one seed each; 10,000 samples against the validation split):\n\n"
                f"![digit FID against minutes of training, one line per preset]({figure})"
            ]
            if figure
            else []
        ),
        *(
            [
                "## Generating digits of a given class: MNIST",
                "The class-conditional presets above, scored per class: they are asked for each digit in equal shares. "
                "Conditional accuracy: the share of samples that ganzoo's MNIST classifier reads as the digit asked "
                "for; intra-class FID: the FID of each digit's samples against that digit's test images, averaged "
                "over the digits (Miyato & Koyama, 2018); code accuracy (InfoGAN, trained without labels): its "
                "categorical code read as a clustering of the digits, after the best one-to-one matching of codes "
                "to digits (Hungarian).",
                *tables(results, conditional_presets, CONDITIONAL_METRICS),
                *per_class_table(results, conditional_presets),
            ]
            if conditional_presets
            else []
        ),
        "## Translating digits: MNIST ↔ USPS",
        "Accuracy: the target domain's digit classifier (not the labellers that `model=cyclegan` learns with) "
        "reads the translation of every test image and is scored against the source image's label; FID between the "
        "translations and the target domain's test images, on that classifier's features. `model=cyclegan` learns "
        "with both domains' labels through its pretrained labellers (a semantic-consistency term, as in CyCADA); "
        "`model.semantic_weight=0` is the same configuration without that term, which uses no labels.",
        *tables(results, TRANSLATION, TRANSLATION_METRICS),
        "## Sample grids",
        "The last grid of seed 0 (CycleGAN: rows of a MNIST digit, its translation, a USPS digit, its translation).",
        *gallery(pictures),
    ]
    return "\n\n".join(parts) + "\n"


def plot_fid(results: dict, out: Path) -> bool:
    """Digit FID during training (on the validation split) against minutes, one line per preset: its lowest seed
    whose run folder is on this machine; False (and no file written) when there is none."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from ganzoo.events import read_scalar_events

    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    drawn = False
    for name in PRESETS:
        here = [r for r in records_of(results, name) if (ROOT / r["run"]).is_dir()]
        if not here:
            continue
        events = read_scalar_events(ROOT / here[0]["run"])
        if events.get("val/fid"):
            start = min(t for curve in events.values() for _, t, _ in curve)  # the run's first logged step
            minutes, fids = zip(*[((t - start) / 60, v) for _, t, v in events["val/fid"]], strict=True)
            ax.plot(minutes, fids, marker="o", label=f"{name}, seed {here[0]['seed']}")
            drawn = True
    if drawn:
        ax.set(yscale="log", xlabel="minutes of training", ylabel="digit FID, validation split")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))  # 10, 20, 50, 100, ...
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)  # beside the axes, not over the lines
        figure.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return drawn


def publish(results: dict, out: Path, animated: str | None) -> None:
    """Copy each name's seed-0 grid (and the animated name's GIF) to samples/ beside the page, then write the page.
    A run folder no longer on this machine keeps the picture that is there."""
    from ganzoo.animate import animate, sample_grids

    images = out.parent / "samples"
    images.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        record = results.get(f"{name}/seed_0")
        run = ROOT / record["run"] if record else None
        if run is not None and run.is_dir():
            shutil.copy(sample_grids(run)[-1][1], images / f"{name}.png")
            if name == animated:
                animate(run, images / f"{name}.gif", frames=ANIMATION_FRAMES)
    plot_fid(results, out.parent / "results_fid.png")
    shown = [f"samples/{name}.png" for name in NAMES if f"{name}/seed_0" in results]
    if animated and f"{animated}/seed_0" in results:
        shown.append(f"samples/{animated}.gif")
    figure = "results_fid.png" if (out.parent / "results_fid.png").is_file() and results else None
    out.write_text(page(results, [p for p in shown if (out.parent / p).is_file()], figure))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(NAMES), help="measure these names only (default: all)")
    parser.add_argument("--redo", action="store_true", help="measure runs already in the JSON again")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 of each fast preset")
    parser.add_argument("--cyclegan-seeds", type=int, default=3, help="seeds 0..N-1 of each CycleGAN command")
    parser.add_argument("--threads", type=int, help="torch threads of every run (default: torch's on this machine)")
    parser.add_argument("--animate", default="dcgan_mnist_fast", help="the name whose grids become a GIF")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "results.json")
    parser.add_argument("--runs", type=Path, default=ROOT / "outputs" / "results", help="where the runs are kept")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="whose results tables to rewrite")
    parser.add_argument("--override", action="append", default=[], help="appended to every training command: "
                        "only to try the command itself on a few steps (the page shows it)")  # fmt: skip
    parser.add_argument("--eval-override", action="append", default=[], help="appended to every evaluation")
    args = parser.parse_args(argv)
    if args.threads is None:
        import torch

        args.threads = torch.get_num_threads()
    results = json.loads(args.json.read_text()) if args.json.is_file() else {}
    todo = []
    for name in args.only or NAMES:
        for seed in range(args.cyclegan_seeds if name in TRANSLATION else args.seeds):
            key = f"{name}/seed_{seed}"
            if key in results and not args.redo:
                print(f"{key}: measured on {results[key]['date']} (--redo to measure again)")
            else:
                todo.append((name, seed))
    for i, (name, seed) in enumerate(todo, start=1):
        print(f"[{i}/{len(todo)}] {name}, seed {seed}, {args.threads} threads ...", flush=True)
        record = measure(name, seed, args.runs, args.threads, args.override, args.eval_override)
        results[f"{name}/seed_{seed}"] = record
        save(results, args.json)
        shown = ", ".join(f"{k} {v:.4g}" for k, v in record["metrics"].items())
        print(f"  {record['steps']} steps in {record['train_minutes']:.1f} min: {shown}", flush=True)
    publish(results, args.out, args.animate)
    print(f"written: {args.out} ({len(results)} runs in {args.json})")
    if args.readme.is_file() and update_readme(args.readme, results):
        print(f"written: the results tables of {args.readme}")


if __name__ == "__main__":
    main()
