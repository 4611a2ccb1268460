"""`python -m ganzoo.report PATH... [out=report.html]`: one self-contained page comparing runs and sweeps.

PATH is a run folder or a multirun folder (its job folders are the runs). The page has a sortable table (one row
per run: overrides, status, steps, wall-clock time, final and best of every `val/*`), the last sample grid of
each run, and matplotlib plots of `val/*` against steps and against minutes and of the critic and generator
losses, one line per run. Images are embedded, so the file opens anywhere without a network. The same table is
written as Markdown next to it (`report.md`). Everything is read from what a run folder holds while it runs:
`.hydra/`, the TensorBoard events, `samples/`, and the `failed.txt` or `finished.txt` that ganzoo.train leaves when a
run fails or ends on its own.
"""

import base64
import html
import io
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from omegaconf import OmegaConf

import ganzoo.config
from ganzoo.events import read_scalar_events

LOSSES = ("train/critic_loss", "train/generator_loss")
# Columns in this order first, then any other val/* tag a run logged.
PREFERRED = ("fid", "is", "kid", "modes", "precision", "recall", "density", "coverage", "acc")


@dataclass
class Run:
    folder: Path
    name: str
    overrides: list[str]
    status: str  # finished, unfinished, failed: <message>
    steps: int | None = None
    minutes: float | None = None
    final: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    curves: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)
    grid: Path | None = None


def job_number(folder: Path) -> tuple[int, str]:
    head = folder.name.split("_")[0]
    return (int(head) if head.isdigit() else 0, folder.name)


def is_run(folder: Path) -> bool:
    """A Hydra run folder, or a folder of TensorBoard events (a run with hydra.output_subdir=null)."""
    return (folder / ".hydra").is_dir() or any(folder.glob("events.out.tfevents.*"))


def find_runs(paths: list[Path]) -> list[Path]:
    """Run folders in the order given; a multirun folder contributes its job folders by job number."""
    runs: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a folder; pass run folders or multirun folders.")
        if is_run(path):
            runs.append(path)
            continue
        jobs = [p for p in path.iterdir() if p.is_dir() and is_run(p)]
        if not jobs:
            raise FileNotFoundError(f"{path} holds no runs (no .hydra/ in it or in its sub-folders).")
        runs += sorted(jobs, key=job_number)
    return runs


def better(tag: str) -> str:
    return ganzoo.config.objective_mode(tag)


def read_run(folder: Path) -> Run:
    listed = folder / ".hydra" / "overrides.yaml"
    overrides = OmegaConf.load(listed) if listed.exists() else []
    kept = [str(o) for o in overrides if not str(o).startswith(("hydra.", "paths."))]
    run = Run(folder=folder, name=folder.name, overrides=kept, status="unfinished")
    if (folder / ganzoo.config.FAILED_MARKER).exists():
        run.status = "failed: " + (folder / ganzoo.config.FAILED_MARKER).read_text().strip()
    try:
        run.curves = read_scalar_events(folder)
    except FileNotFoundError:
        if not run.status.startswith("failed"):
            run.status = "not started (no events)"
    steps = [events[-1][0] for events in run.curves.values() if events]
    walls = [t for events in run.curves.values() for _, t, _ in events]
    if steps:
        run.steps = max(steps) + 1  # events are logged at the step index of the update, from 0
        run.minutes = (max(walls) - min(walls)) / 60
    for tag, events in run.curves.items():
        if tag.startswith("val/") and not tag.endswith("_std") and "/class_" not in tag:
            values = [v for _, _, v in events if math.isfinite(v)]
            if values:
                key = tag.removeprefix("val/")
                run.final[key] = values[-1]
                run.best[key] = (max if better(tag) == "max" else min)(values)
    grids = sorted((folder / "samples").glob("*.png"))
    run.grid = grids[-1] if grids else None
    if not run.status.startswith(("failed", "not started")) and finished(folder, run.steps):
        run.status = "finished"
    return run


def finished(folder: Path, steps: int | None) -> bool:
    """The run ended on its own (`finished.txt`: its configured `trainer.max_steps`, a time budget, early stopping)
    or its events reached `trainer.max_steps` (runs from before the marker). A checkpoint proves nothing: a run
    killed right after a periodic save leaves the same last.ckpt as one that ended there."""
    if (folder / ganzoo.config.FINISHED_MARKER).is_file():
        return True
    if steps is None:
        return False
    try:
        max_steps = int(OmegaConf.select(OmegaConf.load(folder / ".hydra" / "config.yaml"), "trainer.max_steps"))
    except Exception:  # no config, or an interpolation this process cannot resolve
        return False
    return 1 <= max_steps <= steps


def columns(runs: list[Run]) -> list[str]:
    keys = {k for run in runs for k in run.final}
    return [k for k in PREFERRED if k in keys] + sorted(k for k in keys if k not in PREFERRED)


def table_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    """The table as text cells, shared by the HTML and the Markdown versions: what sets each run apart, then its
    metrics (final and best), then its steps, minutes and status."""
    metrics = columns(runs)
    header = ["run", "overrides"]
    header += [f"{k} ({'final' if i == 0 else 'best'})" for k in metrics for i in (0, 1)]
    header += ["steps", "minutes", "status"]
    rows = []
    for run in runs:
        cells = [run.name, " ".join(run.overrides) or "(defaults)"]
        for k in metrics:
            cells += [f"{run.final[k]:.4g}" if k in run.final else "", f"{run.best[k]:.4g}" if k in run.best else ""]
        cells += ["" if run.steps is None else str(run.steps), "" if run.minutes is None else f"{run.minutes:.1f}"]
        rows.append([*cells, run.status])
    return header, rows


def markdown(runs: list[Run]) -> str:
    header, rows = table_rows(runs)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)]) + "\n"


def png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


LINESTYLES = ("-", "--", ":", "-.")
SVG_DASHES = {
    "-": "",
    "--": ' stroke-dasharray="6,3"',
    ":": ' stroke-dasharray="2,2"',
    "-.": ' stroke-dasharray="6,2,2,2"',
}


def line_styles(runs: list[Run]) -> list[dict]:
    """One colour and dash per run, the same in every plot and in the page's legend (tab10, then dashed)."""
    colours = plt.get_cmap("tab10").colors
    return [{"color": colours[i % 10], "linestyle": LINESTYLES[i // 10 % 4]} for i in range(len(runs))]


def labels(runs: list[Run]) -> list[str]:
    """What names each run in the legend: its own overrides when they tell it apart, else its folder's name."""
    own = [" ".join(run.overrides) for run in runs]
    distinct = all(own) and len(set(own)) == len(own)
    return own if distinct else [run.name for run in runs]


def smoothed(values: list[float]) -> list[float]:
    """An exponential moving average spanning about 1/40 of the curve, debiased at its start as TensorBoard's is:
    per-step losses are too noisy to read raw."""
    decay = max(0.0, 1 - 40 / len(values))
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = decay * average + (1 - decay) * value
        out.append(average / (1 - decay**i))
    return out


def plot_order(tags: set[str]) -> list[str]:
    """FID, the losses and a translation's accuracy, then the other val/* tags: what runs are mostly compared by comes
    first."""
    vals = sorted(t for t in tags if t.startswith("val/") and "/class_" not in t and not t.endswith("_std"))
    first = [t for t in ("val/fid", *LOSSES, "val/acc") if t in tags]
    return first + [t for t in vals if t not in first]


def plots(runs: list[Run]) -> list[tuple[str, str]]:
    """(title, base64 PNG), one panel each: val/fid against steps and against minutes, the losses against steps
    (raw, faint, and smoothed), then every other val/* tag against steps. No legends on the axes: each run keeps its
    colour in every panel, and the page says which is which."""
    styles = line_styles(runs)
    figures = []
    for tag in plot_order({t for r in runs for t in r.curves}):
        axes_x = ("step", "minutes") if tag == "val/fid" else ("step",)
        for x in axes_x:
            figure, ax = plt.subplots(figsize=(4.6, 2.9))
            drawn = False
            for run, style in zip(runs, styles, strict=True):
                if not run.curves.get(tag):
                    continue
                drawn = True
                steps, walls, values = zip(*run.curves[tag], strict=True)
                start = min(t for events in run.curves.values() for _, t, _ in events)  # the run's first event
                xs = steps if x == "step" else [(t - start) / 60 for t in walls]
                if tag.startswith("val/"):
                    ax.plot(xs, values, marker="." if len(xs) < 30 else None, **style)
                else:
                    ax.plot(xs, values, alpha=0.2, linewidth=0.6, color=style["color"])
                    ax.plot(xs, smoothed(list(values)), **style)
            if not drawn:
                plt.close(figure)
                continue
            ax.set(xlabel=x, title=f"{tag} against {'steps' if x == 'step' else 'minutes'}")
            ax.title.set_fontsize(10)
            ax.grid(alpha=0.3)
            figures.append((f"{tag} ({x})", png(figure)))
    return figures


SORT_SCRIPT = """
function sortTable(col) {
  const table = document.getElementById('runs');
  const rows = Array.from(table.tBodies[0].rows);
  const asc = table.dataset.col == col ? table.dataset.dir != 'asc' : true;
  const key = r => { const t = r.cells[col].innerText; const n = parseFloat(t); return isNaN(n) ? t : n; };
  rows.sort((a, b) => { const x = key(a), y = key(b);
    if (x === '' ) return 1; if (y === '') return -1;
    return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); });
  rows.forEach(r => table.tBodies[0].appendChild(r));
  table.dataset.col = col; table.dataset.dir = asc ? 'asc' : 'desc';
}
"""
STYLE = """
body { font-family: sans-serif; margin: 1em 1.5em; } h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1em 0 .4em; } p.note { font-size: 12px; color: #444; margin: .2em 0 .6em; }
table { border-collapse: collapse; font-size: 12px; } th, td { border: 1px solid #ccc; padding: 2px 5px; }
th { background: #eee; cursor: pointer; font-weight: normal; } td.num { text-align: right; }
svg { margin-right: 4px; vertical-align: middle; }
td.name { max-width: 14em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
td.overrides { min-width: 9em; max-width: 24em; overflow-wrap: anywhere; } td.status { max-width: 18em; }
.failed { background: #fde2e2; } .unfinished { background: #fff6d6; }
.legend { font-size: 12px; display: flex; flex-wrap: wrap; gap: 4px 16px; margin: .3em 0 .6em; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 6px 12px; }
img.plot { width: 100%; max-width: 560px; }
.grids { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; max-width: 230px; }
figcaption { font-size: 11px; word-break: break-all; } img.grid { width: 220px; image-rendering: pixelated; }
"""


def swatch(style: dict) -> str:
    """A short line in the run's colour and dash, for the legend and the table."""
    red, green, blue = (round(255 * c) for c in style["color"][:3])
    dashes = SVG_DASHES[style["linestyle"]]
    return (
        f'<svg width="26" height="8"><line x1="0" y1="4" x2="26" y2="4" stroke="rgb({red},{green},{blue})" '
        f'stroke-width="2.5"' + (f' stroke-dasharray="{dashes}"' if dashes else "") + "/></svg>"
    )


def page(runs: list[Run], common: list[str]) -> str:
    """The HTML page: the table (metrics next to the run's name), a legend, the curves from FID and the losses on,
    then the last sample grids; sized to read in a window of about 1,400 pixels."""
    header, rows = table_rows(runs)
    styles, names = line_styles(runs), labels(runs)
    head = "".join(
        f'<th onclick="sortTable({i})" data-sortable="true">{html.escape(h)}</th>' for i, h in enumerate(header)
    )
    body = []
    for run, cells, style in zip(runs, rows, styles, strict=True):
        kind = "failed" if run.status.startswith(("failed", "not started")) else run.status
        tds = [f'<td class="name" title="{html.escape(cells[0])}">{swatch(style)}{html.escape(cells[0])}</td>']
        tds.append(f'<td class="overrides">{html.escape(cells[1])}</td>')
        tds += [f'<td class="num">{html.escape(c)}</td>' for c in cells[2:-1]]
        tds.append(f'<td class="status">{html.escape(cells[-1])}</td>')
        body.append(f'<tr class="{kind}">' + "".join(tds) + "</tr>")
    legend = "".join(
        f'<span title="{html.escape(run.name)}">{swatch(style)}{html.escape(name)}</span>'
        for run, style, name in zip(runs, styles, names, strict=True)
    )
    grids = []
    for run, name in zip(runs, names, strict=True):
        if run.grid is not None:
            data = base64.b64encode(run.grid.read_bytes()).decode()
            grids.append(
                f'<figure><img class="grid" alt="{html.escape(run.name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(name)} ({run.grid.stem})</figcaption></figure>"
            )
    figures = "".join(
        f'<img class="plot" alt="{html.escape(t)}" title="{html.escape(t)}" src="data:image/png;base64,{d}">'
        for t, d in plots(runs)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ganzoo report</title><style>{STYLE}</style>"
        f"<script>{SORT_SCRIPT}</script></head><body><h1>ganzoo report: {len(runs)} runs</h1>"
        f"<p class='note'>Overrides of every run: <code>{html.escape(' '.join(common) or '(none)')}</code>; the "
        "table shows the others. Click a column header to sort. Two-domain runs show translation grids and their "
        "accuracies.</p>"
        f'<table id="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f'<h2>Curves</h2><div class="legend">{legend}</div><div class="plots">{figures}</div>'
        f'<h2>Last sample grids</h2><div class="grids">{"".join(grids)}</div></body></html>'
    )


def shared_overrides(runs: list[Run]) -> list[str]:
    """The overrides that every run has (none for a single run: it keeps all of its own)."""
    if len(runs) < 2:
        return []
    return [o for o in runs[0].overrides if all(o in run.overrides for run in runs[1:])]


def write_report(paths: list[Path], out: Path) -> tuple[Path, Path]:
    """The HTML page at `out` and its table as Markdown beside it (same name, .md)."""
    runs = [read_run(folder) for folder in find_runs(paths)]
    common = shared_overrides(runs)
    for run in runs:  # label each run by what sets it apart
        run.overrides = [o for o in run.overrides if o not in common]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(runs, common))
    md = out.with_suffix(".md")
    md.write_text(markdown(runs))
    return out, md


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # out=...; a folder that exists is a path even when its name holds "=" (sweep folders of earlier versions)
    is_option = [re.fullmatch(r"[A-Za-z_]+=.*", a) is not None and not Path(a).exists() for a in args]
    options = dict(a.split("=", 1) for a, option in zip(args, is_option, strict=True) if option)
    paths = [Path(a) for a, option in zip(args, is_option, strict=True) if not option]
    unknown = set(options) - {"out"}
    if not paths or unknown:
        extra = f" (unknown options: {sorted(unknown)})" if unknown else ""
        sys.exit(f"usage: python -m ganzoo.report RUN_OR_MULTIRUN_FOLDER... [out=report.html]{extra}")
    try:
        html_path, md_path = write_report(paths, Path(options.get("out", "report.html")))
    except FileNotFoundError as error:
        sys.exit(str(error))
    print(f"report: {html_path} (table also in {md_path})")


if __name__ == "__main__":
    main()
