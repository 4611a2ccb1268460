"""`ganzoo.animate`: a run's sample grids, in step order, as the frames of a GIF or a lossless WebP."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from ganzoo.animate import LAST_FRAME_MS, animate, main

STEPS = [0, 500, 1000, 10000]


def write_grids(run: Path, colour: bool) -> list[np.ndarray]:
    """Four distinct 34 x 34 RGB grids, written the way SampleGrid names them, last step first."""
    rng = np.random.default_rng(0)
    grids = []
    for _ in STEPS:
        grey = rng.integers(0, 256, (34, 34), dtype=np.uint8)
        pixels = rng.integers(0, 256, (34, 34, 3), dtype=np.uint8) if colour else np.stack([grey] * 3, axis=-1)
        grids.append(pixels)
    (run / "samples").mkdir(parents=True)
    for step, pixels in reversed(list(zip(STEPS, grids, strict=True))):
        Image.fromarray(pixels).save(run / "samples" / f"step_{step:07d}.png")
    return grids


def frames(path: Path) -> tuple[list[np.ndarray], list[int]]:
    shown, durations = [], []
    with Image.open(path) as animation:
        for frame in ImageSequence.Iterator(animation):
            shown.append(np.asarray(frame.convert("RGB")))  # loads the frame, which sets its duration
            durations.append(frame.info["duration"])
    return shown, durations


@pytest.mark.parametrize(("suffix", "colour"), [(".gif", False), (".webp", False), (".webp", True)])
def test_frames_are_the_grids_in_step_order(tmp_path, suffix, colour):
    grids = write_grids(tmp_path / "run", colour)
    out = animate(tmp_path / "run", tmp_path / f"a{suffix}", fps=5, label=False)
    shown, durations = frames(out)
    assert len(shown) == len(STEPS)
    for frame, grid in zip(shown, grids, strict=True):
        assert np.array_equal(frame, grid)
    assert durations == [200, 200, 200, LAST_FRAME_MS]


def test_labelled_frames_hold_the_grid_under_their_step(tmp_path):
    run = tmp_path / "0_model=dcgan"  # a job folder of a sweep: a path, not an option
    grids = write_grids(run, colour=False)
    main([str(run)])  # default: <run>/samples.gif, labelled
    shown, _ = frames(run / "samples.gif")
    assert len(shown) == len(STEPS)
    band = shown[0].shape[0] - grids[0].shape[0]
    assert band > 8
    for frame, grid in zip(shown, grids, strict=True):
        assert np.array_equal(frame[band:], grid)
        assert (frame[:band] < 128).any() and (frame[:band] == 255).mean() > 0.5  # dark text on white
    # the labels differ: "step 0" is narrower than "step 10000"
    assert not np.array_equal(shown[0][:band], shown[-1][:band])


def test_a_folder_without_grids_is_refused_with_what_to_do(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ganzoo.animate", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "holds no step_<N>.png grids" in done.stderr and "sample_grid" in done.stderr
    write_grids(tmp_path, colour=False)
    with pytest.raises(ValueError, match=r"\.gif or \.webp"):
        animate(tmp_path, tmp_path / "a.mp4")


def test_frames_keeps_grids_spread_from_first_to_last(tmp_path):
    grids = write_grids(tmp_path, colour=False)
    shown, durations = frames(animate(tmp_path, tmp_path / "a.gif", label=False, frames=3))
    assert len(shown) == 3 and len(durations) == 3
    for frame, grid in zip(shown, [grids[0], grids[2], grids[3]], strict=True):
        assert np.array_equal(frame, grid)
    with pytest.raises(ValueError, match="frames >= 2"):
        animate(tmp_path, frames=1)
