"""CycleGAN's teachers and labellers: frozen digit classifiers that read a domain's images for the semantic term.

The teachers that ship (`ganzoo/nets/weights/teacher_*.pt`, `python -m ganzoo.classifier` with widths 8, 16, 32)
are other networks than the metric classifiers of `ganzoo.metrics.digits`, so the accuracy that validation
reports is not the teachers' own opinion; `teacher_usps_w64.pt` has the USPS metric classifier's widths but only
labels USPS sources and never reads a translation.
"""

from pathlib import Path

from torch import nn

from ganzoo.nets.digits import read_digit_classifier

TEACHERS_DIR = Path(__file__).resolve().parent / "weights"


def teacher_path(name_or_path: str) -> Path:
    """A shipped teacher by name (`mnist`, `usps`, `usps_w64`: ganzoo/nets/weights/teacher_<name>.pt) or a file."""
    shipped = TEACHERS_DIR / f"teacher_{name_or_path}.pt"
    return shipped if shipped.is_file() else Path(name_or_path).expanduser()


def load_teacher(name_or_path: str) -> nn.Module:
    """A frozen teacher or labeller in eval mode: a shipped name or a file."""
    return read_digit_classifier(teacher_path(name_or_path)).requires_grad_(False)
