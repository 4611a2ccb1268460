"""A grid sweeper that runs every job even when some fail, then names the failures in one summary.

Hydra's basic sweeper re-raises the first failed job at the end of each batch with its traceback, and a job
that calls `sys.exit` ends the whole sweep. This one lets Hydra mark failed jobs as such, runs the rest, and
ends the sweep with one paragraph listing each failed job, its overrides and its message (exit status 1).
It also tells each job which override keys differ between the jobs of the sweep (`hydra.sweeper.differing_keys`),
so that conf/hydra/default.yaml names the run folders by them (ganzoo.run_names).
"""

import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher

from ganzoo import run_names


class SweepFailedError(CompactHydraException):
    """Some jobs of a sweep failed; the message lists them (printed by Hydra without a traceback)."""


def failure_summary(failed: Sequence[tuple[int, JobReturn]], total: int) -> str:
    lines = [f"{len(failed)} of {total} sweep jobs failed (the others finished; their run folders are complete):"]
    for num, job in failed:
        error = job._return_value
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        lines.append(f"  job {num} [{' '.join(job.overrides or [])}]: {type(error).__name__}: {message}")
    return "\n".join(lines)


def record_failure(job: JobReturn) -> None:
    """`failed.txt` in the job's run folder: what `ganzoo.report` lists for the run. An error that ganzoo.train
    explains has written its message there already; any other (a bug, most likely) leaves its traceback."""
    folder = Path(job.hydra_cfg.hydra.runtime.output_dir) if job.hydra_cfg is not None else None
    if folder is not None and folder.is_dir() and not (folder / "failed.txt").is_file():
        error = job._return_value
        trace = "".join(traceback.format_exception(error))
        (folder / "failed.txt").write_text(f"{type(error).__name__}: {error}\n\n{trace}")


class _RecordingLauncher(Launcher):
    """Passes jobs to the real launcher and hands the sweeper only completed results, recording the failed."""

    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher
        self.failed: list[tuple[int, JobReturn]] = []
        self.total = 0

    def setup(self, **kwargs: Any) -> None:
        self.launcher.setup(**kwargs)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        results = self.launcher.launch(job_overrides, initial_job_idx=initial_job_idx)
        self.total += len(results)
        kept = []
        for num, result in enumerate(results, start=initial_job_idx):
            if result.status == JobStatus.FAILED:
                self.failed.append((num, result))
                record_failure(result)
            else:
                kept.append(result)
        return kept


class KeepGoingSweeper(BasicSweeper):
    def __init__(
        self, max_batch_size: int | None, params: dict[str, str] | None = None, differing_keys: list | None = None
    ) -> None:
        # differing_keys is set per job, by get_job_batch below; the sweeper itself has none.
        super().__init__(max_batch_size=max_batch_size, params=params)

    def setup(self, **kwargs: Any) -> None:
        super().setup(**kwargs)
        self.launcher = _RecordingLauncher(self.launcher)

    def sweep(self, arguments: list[str]) -> Any:
        returns = super().sweep(arguments)
        launcher = self.launcher
        assert isinstance(launcher, _RecordingLauncher)
        if launcher.failed:
            raise SweepFailedError(failure_summary(launcher.failed, launcher.total))
        return returns

    def get_job_batch(self) -> Sequence[Sequence[str]]:
        """The next batch of jobs, each told the keys in which the sweep's jobs differ."""
        assert self.overrides is not None
        keys = run_names.differing_keys([job for batch in self.overrides for job in batch])
        listed = ",".join(f"'{key}'" for key in keys)
        return [[*job, f"hydra.sweeper.differing_keys=[{listed}]"] for job in super().get_job_batch()]
