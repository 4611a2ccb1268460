"""`ganzoo.report` on a real 3-job multirun whose middle job fails: the HTML page and its Markdown twin."""

from html.parser import HTMLParser
from pathlib import Path

from ganzoo.events import read_scalars
from ganzoo.report import finished, main
from test_sweeps import run_sweep


class Page(HTMLParser):
    """The report's table cells and row classes, its images by class, and its sort controls."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.row_classes: list[str] = []
        self.images: dict[str, list[str]] = {}
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

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

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
    assert page.images["plot"]  # val/* and the losses, drawn with matplotlib
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
