"""Names of sweep run folders: the job number, then what sets the job apart from the others of its sweep.

`0_model-wgan+seed-1` for `-m model=wgan,wgan_gp seed=1,2`: `key-value` pairs joined by `+`, each key cut to the
shortest dotted suffix that stays unique (`lr` for `model.optimizer_critic.lr`), values reduced to characters that
both Hydra's override grammar and the shell take unquoted. So a checkpoint path is typed after `ckpt_path=` as `ls`
shows it, and TensorBoard's run list and the report's legends show first what differs. The full override list stays
in the run's `.hydra/overrides.yaml`. Standard library only: the sweeper plugin imports it at every Hydra start.
"""

import hashlib
import re
from collections.abc import Collection, Sequence

# File systems cap a name at 255 bytes; the job number and its "_" take the rest.
MAX_LABEL_BYTES = 200
# Left out of run-folder names: paths (slashes would nest folders) and keys that do not change the run.
UNNAMED_KEYS = frozenset(
    {"ckpt_path", "paths.data_dir", "paths.output_dir", "hydra.run.dir", "hydra.sweep.dir", "optimized_metric"}
)
# Any other run of characters in a value becomes "_" ("+" separates the pairs; "=", ",", brackets and quotes would
# need quoting in an override, "/" would nest folders).
UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def split_override(override: str) -> tuple[str, str]:
    """`+model.lr=0.1` -> ("model.lr", "0.1"); a deletion (`~callbacks.sample_grid`) has the value "deleted"."""
    key, sep, value = override.partition("=")
    deleted = key.startswith("~")
    return key.lstrip("+~").replace("/", "."), "deleted" if deleted and not sep else value


def short_keys(keys: Sequence[str]) -> list[str]:
    """Each key as its shortest dotted suffix that no other key in `keys` ends with."""
    short = []
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            suffix = ".".join(parts[-n:])
            if not any(other != key and (other == suffix or other.endswith("." + suffix)) for other in keys):
                break
        short.append(suffix)
    return short


def clip(label: str, limit: int = MAX_LABEL_BYTES) -> str:
    """`label` if at most `limit` bytes, else cut and ended by "-" and a hash of the whole, so that two labels that
    differ only past the cut still differ."""
    raw = label.encode()
    if len(raw) <= limit:
        return label
    digest = hashlib.sha1(raw).hexdigest()[:10]
    return raw[: limit - len(digest) - 1].decode(errors="ignore") + "-" + digest


def run_label(overrides: Sequence[str], keys: Collection[str] | None = None) -> str:
    """`model-wgan+seed-1`: the overrides of `keys` (all when None), minus UNNAMED_KEYS, in their order."""
    pairs = [split_override(str(o)) for o in overrides]
    pairs = [(k, v) for k, v in pairs if k not in UNNAMED_KEYS and (keys is None or k in keys)]
    names = short_keys([k for k, _ in pairs])
    values = [UNSAFE.sub("_", v).strip("_") for _, v in pairs]
    return clip("+".join(f"{name}-{value}" for name, value in zip(names, values, strict=True)))


def differing_keys(jobs: Sequence[Sequence[str]]) -> list[str]:
    """The keys whose values are not the same in every job, in the order of the first job (all its keys for a
    sweep of one job, so that its folder still says what it ran)."""
    settings = [dict(split_override(str(o)) for o in job) for job in jobs]
    keys = list(dict.fromkeys(k for job in settings for k in job))
    differing = [k for k in keys if len({job.get(k) for job in settings}) > 1]
    return differing if len(jobs) > 1 else keys


def sweep_subdir(num: int, overrides: Sequence[str], keys: Collection[str] | None = None) -> str:
    """`<num>_<run_label>`, or `<num>` when nothing is left to name."""
    label = run_label(overrides, keys)
    return f"{num}_{label}" if label else str(num)
