"""`ganzoo.report` on a real 3-job multirun whose middle job fails: the HTML page and its Markdown twin."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

from ganzoo.events import read_scalars
from ganzoo.report import Run, finished, labels, main, smoothed
from test_sweeps import run_sweep


class Page(HTMLParser):
    """The report's table cells and row classes, its images by class, and its sort controls."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.row_classes: list[str] = []
        self.images: dict[str, list[str]] = {}
        self.alts: dict[str, list[str]] = {}
        self.legend: list[str] = []
        self.sortable = 0
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
            self.row_classes.append(a.get("class") or "")
        elif tag in ("td", "th"):
            self._cell = []
            self.sortable += tag == "th" and (a.get("onclick") or "").startswith("sortTable(")
        elif tag == "img":
            self.images.setdefault(a.get("class") or "", []).append(a.get("src") or "")
            self.alts.setdefault(a.get("class") or "", []).append(a.get("alt") or "")
        elif tag == "span" and a.get("title"):
            self.legend.append("")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self.legend and not self.legend[-1]:
            self.legend[-1] = data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            (self.rows[-1] if tag == "td" else self.header).append("".join(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False


def markdown_cells(text: str) -> list[list[str]]:
    lines = text.strip().splitlines()
    return [
        [c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")] for line in lines if "---" not in line
    ]


def test_report_of_a_sweep_with_a_failed_job(tmp_path: Path):
    missing = tmp_path / "missing.ckpt"
    sweep = tmp_path / "sweep"
    jobs, _ = run_sweep(
        sweep,
        f"ckpt_path=null,{missing},null",
        "+callbacks.sample_grid={_target_:ganzoo.callbacks.SampleGrid,every_n_steps:6}",
        "metrics.every_n_steps=6",
        "metrics.num_samples=64",
        "metrics.batch_size=32",
        "metrics.kid_subset_size=16",
        returncode=1,
    )
    out = tmp_path / "report" / "report.html"
    main([str(sweep), f"out={out}"])
    page = Page()
    page.feed(out.read_text())
    assert len(page.rows) == 3
    status = page.header.index("status")
    assert [row[status].split(":")[0] for row in page.rows] == ["finished", "failed", "finished"]
    assert "No checkpoint at" in page.rows[1][status] and page.row_classes[1] == "failed"
    assert page.sortable == len(page.header) and "fid (final)" in page.header
    assert page.rows[0][page.header.index("steps")] == "12"
    assert len(page.images["grid"]) == 2 and all(
        src.startswith("data:image/png;base64,") for src in page.images["grid"]
    )
    # FID against steps and minutes, then the critic's and the generator's losses, then the other val/* tags
    assert page.alts["plot"][:4] == [
        "val/fid (step)",
        "val/fid (minutes)",
        *(f"train/{n}_loss (step)" for n in ("critic", "generator")),
    ]
    assert "val/kid (step)" in page.alts["plot"] and "val/kid (minutes)" not in page.alts["plot"]
    # the metric columns come right after what names the run, so that a window shows them
    assert page.header[2:4] == ["fid (final)", "fid (best)"] and page.header[-3:] == ["steps", "minutes", "status"]
    # one legend entry per run; ckpt_path=null names two runs, so the folders name them
    assert page.legend == [row[0] for row in page.rows]
    assert "http" not in out.read_text()  # self-contained: nothing to fetch
    assert markdown_cells(out.with_suffix(".md").read_text()) == [page.header, *page.rows]
    assert [(job / "finished.txt").is_file() for job in jobs] == [True, False, True]
    # the numbers: each finished run's final and best values, as its event files hold them
    for row, job in ((page.rows[0], jobs[0]), (page.rows[2], jobs[2])):
        scalars = read_scalars(job)
        fid, inception = [v for _, v in scalars["val/fid"]], [v for _, v in scalars["val/is"]]
        assert len(fid) == 2  # validated at steps 6 and 12
        assert row[page.header.index("fid (final)")] == f"{fid[-1]:.4g}"
        assert row[page.header.index("fid (best)")] == f"{min(fid):.4g}"  # lower is better
        assert row[page.header.index("is (best)")] == f"{max(inception):.4g}"  # higher is better


def test_a_run_killed_after_a_periodic_save_is_unfinished(tmp_path: Path):
    """Without a configured max_steps (a time budget), only the marker that ganzoo.train writes when fit returns
    says the run ended: a last.ckpt at the last logged step is what a periodic save before a kill -9 leaves too."""
    (tmp_path / ".hydra").mkdir()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    (tmp_path / ".hydra" / "config.yaml").write_text("trainer:\n  max_steps: -1\n")
    assert not finished(tmp_path, 12)
    (tmp_path / "finished.txt").write_text("step 12\n")
    assert finished(tmp_path, 12)
    (tmp_path / "finished.txt").unlink()
    (tmp_path / ".hydra" / "config.yaml").write_text("trainer:\n  max_steps: 12\n")
    assert finished(tmp_path, 12) and not finished(tmp_path, 11)


def test_legend_labels_and_smoothed_losses():
    runs = [Run(Path(f"{i}_job"), f"{i}_job", overrides, "finished") for i, overrides in enumerate(([], ["lr=1"]))]
    assert labels(runs) == ["0_job", "1_job"]  # a run without overrides of its own: the folders name them
    runs[0].overrides = ["lr=2"]
    assert labels(runs) == ["lr=2", "lr=1"]
    assert smoothed([3.0] * 100) == pytest.approx([3.0] * 100)  # debiased: no ramp up from 0
    values = [float(i % 2) for i in range(400)]
    decay = 1 - 40 / 400
    direct = [
        sum((1 - decay) * decay ** (n - k) * values[k] for k in range(n + 1)) / (1 - decay ** (n + 1))
        for n in range(400)
    ]
    assert smoothed(values) == pytest.approx(direct)
    assert smoothed([1.0, 5.0]) == [1.0, 5.0]  # 40 points or fewer: as logged
