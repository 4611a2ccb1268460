"""`python -m ganzoo.animate RUN_FOLDER [out=<run>/samples.gif] [fps=4] [label=true] [frames=N]`: a run's sample
grids over training as one animation.

`SampleGrid` draws `samples/step_<N>.png` from one fixed latent batch every few hundred steps, so, played in step
order, the same digits take shape. Each grid is one frame, held 1/fps seconds (the last one 2 seconds, so that the
final result can be seen), with its step written above it (label=false: the grids alone); frames=N keeps N grids
spread evenly from the first to the last, for a smaller file. The file's suffix picks
the format: .gif, which every browser and Markdown viewer shows, or .webp, written lossless. Grey grids stay exact
in both; colour grids keep 256 colours per frame in a GIF, and a GIF shows two equal grids in a row as one frame.
"""

import re
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

STEP = re.compile(r"step_(\d+)\.png$")
LAST_FRAME_MS = 2000


def sample_grids(run: Path) -> list[tuple[int, Path]]:
    """(step, PNG) of every `samples/step_<N>.png` of a run folder, in step order."""
    found = [(int(m.group(1)), p) for p in (run / "samples").glob("step_*.png") if (m := STEP.search(p.name))]
    if not found:
        raise FileNotFoundError(
            f"{run / 'samples'} holds no step_<N>.png grids: pass a run folder of ganzoo.train with the sample_grid "
            "callback on (it is, unless callbacks=none or ~callbacks.sample_grid)."
        )
    return sorted(found)


def is_grey(image: Image.Image) -> bool:
    if image.mode in ("L", "1"):
        return True
    red, green, blue = image.convert("RGB").split()
    return ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(red, blue).getbbox() is None


def with_label(image: Image.Image, text: str) -> Image.Image:
    """`image` under a white band holding `text`."""
    font = ImageFont.load_default(size=12)
    band = 16
    framed = Image.new(image.mode, (image.width, image.height + band), "white")
    framed.paste(image, (0, band))
    ImageDraw.Draw(framed).text((4, 1), text, fill="black", font=font)
    return framed


def save_animation(frames: list[Image.Image], out: Path, durations: list[int]) -> Path:
    """Frames (PIL images of one size) as a looping GIF or lossless WebP, by `out`'s suffix; `durations` in ms.
    All-grey frames are stored as greys, so that a GIF keeps their 256 levels exactly."""
    if out.suffix.lower() not in (".gif", ".webp"):
        raise ValueError(f"An animation is written as .gif or .webp, not {out.name!r}.")
    mode = "L" if all(is_grey(f) for f in frames) else "RGB"
    frames = [f.convert(mode) for f in frames]
    out.parent.mkdir(parents=True, exist_ok=True)
    options = {"lossless": True} if out.suffix.lower() == ".webp" else {"optimize": False}
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=durations, loop=0, **options)
    return out


def animate(run: Path, out: Path | None = None, fps: float = 4, label: bool = True, frames: int | None = None) -> Path:
    """The animation of `run`'s sample grids (see the module's doc); returns its path."""
    if fps <= 0 or (frames is not None and frames < 2):
        raise ValueError(f"fps must be > 0 and frames >= 2, got {fps} and {frames}.")
    grids = sample_grids(run)
    if frames is not None and len(grids) > frames:
        grids = [grids[round(i * (len(grids) - 1) / (frames - 1))] for i in range(frames)]
    images = []
    for step, path in grids:
        with Image.open(path) as image:
            image.load()
            images.append(with_label(image, f"step {step}") if label else image.copy())
    durations = [round(1000 / fps)] * (len(images) - 1) + [LAST_FRAME_MS]
    return save_animation(images, out or run / "samples.gif", durations)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    is_option = [a.partition("=")[0].isidentifier() and "=" in a and not Path(a).exists() for a in args]
    options = dict(a.split("=", 1) for a, option in zip(args, is_option, strict=True) if option)
    runs = [Path(a) for a, option in zip(args, is_option, strict=True) if not option]
    unknown = set(options) - {"out", "fps", "label", "frames"}
    if len(runs) != 1 or unknown:
        extra = f" (unknown options: {sorted(unknown)})" if unknown else ""
        usage = "python -m ganzoo.animate RUN_FOLDER [out=<run>/samples.gif] [fps=4] [label=true] [frames=N]"
        sys.exit(f"usage: {usage}{extra}")
    out = Path(options["out"]) if "out" in options else None
    label = options.get("label", "true").lower() not in ("false", "0", "no")
    try:
        frames = int(options["frames"]) if "frames" in options else None
        path = animate(runs[0], out, float(options.get("fps", 4)), label, frames)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(str(error))
    print(f"animation of the sample grids of {runs[0]}: {path}")


if __name__ == "__main__":
    main()
