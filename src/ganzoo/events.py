"""Reading a run's TensorBoard scalars back, for plots and checks that compare runs of a sweep."""

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_scalar_events(run_dir: str | Path) -> dict[str, list[tuple[int, float, float]]]:
    """Every scalar tag of the event files directly in `run_dir`, as (step, wall time in s, value) sorted by step
    (a resumed run's later value of a step wins)."""
    files = sorted(Path(run_dir).glob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"No TensorBoard event files in {run_dir}.")
    scalars: dict[str, dict[int, tuple[float, float]]] = {}
    for file in files:
        events = EventAccumulator(str(file), size_guidance={"scalars": 0}).Reload()
        for tag in events.Tags()["scalars"]:
            scalars.setdefault(tag, {}).update((e.step, (e.wall_time, e.value)) for e in events.Scalars(tag))
    return {tag: [(step, *points[step]) for step in sorted(points)] for tag, points in scalars.items()}


def read_scalars(run_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar tag of the event files directly in `run_dir`, as (step, value) pairs sorted by step."""
    return {tag: [(step, value) for step, _, value in events] for tag, events in read_scalar_events(run_dir).items()}
