"""benchmarks/results.py: real commands on a few steps, then resuming, --only and --redo with a stand-in measurement."""

import importlib.util
import json
import statistics
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from ganzoo.animate import sample_grids

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("results", ROOT / "benchmarks" / "results.py")
results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(results)

# A few steps of the MLP GAN preset on synthetic digits, scored on few samples: the command's plumbing, not a result.
TINY = [
    "data=synthetic",
    "data.num_samples=96",
    "trainer.max_steps=4",
    "metrics.every_n_steps=2",
    "callbacks.sample_grid.every_n_steps=2",
]
SMALL_METRICS = ["metrics.num_samples=64", "metrics.batch_size=32", "metrics.kid_subset_size=16"]


def files(tmp_path: Path) -> list[str]:
    return [
        f"--json={tmp_path / 'results.json'}",
        f"--runs={tmp_path / 'runs'}",
        f"--out={tmp_path / 'docs' / 'results.md'}",
        f"--readme={tmp_path / 'README.md'}",  # none there, unless a test writes one: the real README is left alone
    ]


@pytest.mark.slow
def test_a_preset_runs_as_typed_and_lands_on_the_page(tmp_path, monkeypatch):
    overrides = [f"--override={o}" for o in TINY + SMALL_METRICS] + [f"--eval-override={o}" for o in SMALL_METRICS]
    args = ["--only", "gan_mnist_fast", "--seeds", "1", "--threads", "1", "--animate", "gan_mnist_fast"]
    results.main([*args, *overrides, *files(tmp_path)])
    record = json.loads((tmp_path / "results.json").read_text())["gan_mnist_fast/seed_0"]
    assert record["command"] == "python -m ganzoo.train experiment=gan_mnist_fast seed=0 " + " ".join(
        TINY + SMALL_METRICS
    )
    run = tmp_path / "runs" / "gan_mnist_fast" / "seed_0"
    scored = json.loads((run / "test.json").read_text())
    assert scored["split"] == "test" and record["steps"] == scored["step"] == 4
    assert record["metrics"] == {k: scored[k] for k in results.GENERATION_METRICS}
    assert record["threads"] == 1 and record["train_minutes"] > 0 and record["cores"] >= 1 and record["commit"]
    page = (tmp_path / "docs" / "results.md").read_text()
    assert f"| `gan_mnist_fast` | 0 | 4 | {record['train_minutes']:.1f} | {record['metrics']['fid']:.1f} |" in page
    grids = sample_grids(run)
    assert (tmp_path / "docs" / "samples" / "gan_mnist_fast.png").read_bytes() == grids[-1][1].read_bytes()
    with Image.open(tmp_path / "docs" / "samples" / "gan_mnist_fast.gif") as gif:
        assert sum(1 for _ in ImageSequence.Iterator(gif)) == len(grids)
    assert "(samples/gan_mnist_fast.png)" in page and "(samples/gan_mnist_fast.gif)" in page
    assert "(results_fid.png)" in page and Image.open(tmp_path / "docs" / "results_fid.png").width > 300
    # run again: nothing is measured, and the page is the same
    monkeypatch.setattr(results, "measure", lambda *a: pytest.fail("measured a run that the JSON holds"))
    results.main([*args, *overrides, *files(tmp_path)])
    assert (tmp_path / "docs" / "results.md").read_text() == page


def fake_measure(calls: list, stop_at: int | None = None):
    """Stand-in for `measure`: metrics that depend on name and seed; raises at call `stop_at` (a stopped command)."""
    environment = results.machine()

    def measure(name, seed, runs, threads, overrides, eval_overrides):
        calls.append((name, seed))
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        wanted = results.TRANSLATION_METRICS if name in results.TRANSLATION else results.GENERATION_METRICS
        value = 10.0 * len(calls) + seed  # each measurement its own values
        metrics = {k: value / (100 if k.startswith("acc_") else 1) for k in wanted}
        command = f"python -m ganzoo.train {' '.join(results.NAMES[name])} seed={seed}"
        record = {"command": command, "seed": seed, "threads": threads, "steps": 100, "train_minutes": 1.0 + seed}
        return record | {"metrics": metrics, "date": "2026-01-02", **environment, "run": str(runs / name)}

    return measure


def test_resume_only_and_redo(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(results, "measure", fake_measure(calls, stop_at=4))
    args = ["--only", "wgan_mnist_fast", "cyclegan", "--seeds", "2", "--cyclegan-seeds", "3", "--threads", "2"]
    with pytest.raises(KeyboardInterrupt):
        results.main([*args, *files(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert sorted(saved) == ["cyclegan/seed_0", "wgan_mnist_fast/seed_0", "wgan_mnist_fast/seed_1"]
    # resumed: only the runs that the JSON lacks
    calls.clear()
    monkeypatch.setattr(results, "measure", fake_measure(calls))
    results.main([*args, *files(tmp_path)])
    assert calls == [("cyclegan", 1), ("cyclegan", 2)]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert len(saved) == 5 and saved["cyclegan/seed_0"]["metrics"]["acc_mnist2usps"] == 0.3  # kept from before
    # one name again
    results.main(["--only", "wgan_mnist_fast", "--redo", *args[3:], *files(tmp_path)])
    assert calls[2:] == [("wgan_mnist_fast", 0), ("wgan_mnist_fast", 1)]
    before, saved = saved, json.loads((tmp_path / "results.json").read_text())
    assert saved["wgan_mnist_fast/seed_0"]["metrics"]["fid"] == 30 != before["wgan_mnist_fast/seed_0"]["metrics"]["fid"]
    assert all(saved[f"cyclegan/seed_{s}"] == before[f"cyclegan/seed_{s}"] for s in (0, 1, 2))
    page = (tmp_path / "docs" / "results.md").read_text()
    fids = [saved[f"wgan_mnist_fast/seed_{s}"]["metrics"]["fid"] for s in (0, 1)]
    mean_row = "| `experiment=wgan_mnist_fast` | 0, 1 | 100 | 1.5 ± 0.7 | "
    assert mean_row + f"{statistics.fmean(fids):.1f} ± {statistics.stdev(fids):.1f} |" in page
    accuracies = [100 * saved[f"cyclegan/seed_{s}"]["metrics"]["acc_usps2mnist"] for s in (0, 1, 2)]
    assert f"{statistics.fmean(accuracies):.2f} ± {statistics.stdev(accuracies):.2f} %" in page
    assert "| `cyclegan` | 2 | 100 |" in page  # each seed's row
    # minutes timed on a shared CPU are left out of the mean, or marked where no run was timed alone
    assert results.minutes([{"train_minutes": 2.0}, {"train_minutes": 9.0, "shared_cpu": True}]) == "2.0"
    assert results.minutes([{"train_minutes": 9.0, "shared_cpu": True}]) == "9.0 (CPU shared with other jobs)"
    assert "model.semantic_weight=0" in page and "experiment=gan_mnist_fast" not in page  # not measured: no row
    assert results.machine()["cpu"] in page and "2026-01-02" in page


def test_conditional_presets_get_their_own_table_and_the_readme_its_summary(tmp_path, monkeypatch):
    calls: list = []
    plain = fake_measure(calls)

    def measure(name, seed, *rest):
        record = plain(name, seed, *rest)
        if name == "acgan_mnist_fast":
            record["metrics"] |= {"cond_acc": 0.9 + seed / 100, "intra_fid": 20.0 + seed}
            record["per_class"] = {"per_class_cond_acc": [k / 10 + seed / 100 for k in range(10)]}
        if name == "infogan_mnist_fast":
            record["metrics"] |= {"code_acc": 0.8}
        return record

    monkeypatch.setattr(results, "measure", measure)
    readme = tmp_path / "README.md"
    readme.write_text(f"# ganzoo\n\n{results.SUMMARY[0]}\nold table\n{results.SUMMARY[1]}\n\nafter\n")
    args = ["--only", "acgan_mnist_fast", "infogan_mnist_fast", "dcgan_mnist_fast", "cyclegan", "--seeds", "2"]
    results.main([*args, "--cyclegan-seeds", "1", "--threads", "2", *files(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    page = (tmp_path / "docs" / "results.md").read_text()
    conditional = page[page.index("## Generating digits of a given class") : page.index("## Translating")]
    # acgan: 90 % and 91 % -> mean 90.50, sd 0.71; infogan has a code accuracy and no conditional accuracy
    assert "| `experiment=acgan_mnist_fast` | 0, 1 |" in conditional
    assert "| 90.50 ± 0.71 % | 20.5 ± 0.7 | — |" in conditional
    assert "| — | — | 80.00 ± 0.00 % |" in conditional
    assert "dcgan" not in conditional  # not class-conditional
    per_class = [f"{100 * statistics.fmean([k / 10, k / 10 + 0.01]):.1f}" for k in range(10)]
    assert "| `acgan_mnist_fast` | " + " | ".join(per_class) + " |" in conditional
    # the README: its tables replaced, the rest kept, and they equal what the JSON gives
    text = readme.read_text()
    assert text.startswith("# ganzoo\n\n") and text.endswith("\n\nafter\n") and "old table" not in text
    assert results.summary(saved) in text
    fids = [saved[f"acgan_mnist_fast/seed_{s}"]["metrics"]["fid"] for s in (0, 1)]
    acgan_row = "| `python -m ganzoo.train experiment=acgan_mnist_fast` | 0, 1 | 100 | 1.5 ± 0.7 | "
    assert acgan_row + f"{statistics.fmean(fids):.1f} ± {statistics.stdev(fids):.1f} |" in text
    assert text.count("| 90.50 ± 0.71 % |") == 1 and "| 80.00 ± 0.00 % |" in text
    cyclegan = saved["cyclegan/seed_0"]["metrics"]
    assert f"| {100 * cyclegan['acc_mnist2usps']:.2f} % | {100 * cyclegan['acc_usps2mnist']:.2f} % |" in text


def test_the_readme_shows_the_results_json():
    """The README's results tables are the ones benchmarks/results.py writes from the shipped JSON."""
    saved = json.loads((ROOT / "benchmarks" / "results" / "results.json").read_text())
    assert results.summary(saved) in (ROOT / "README.md").read_text()
