"""A tiny CIFAR-10 archive in the official `cifar-10-batches-py` pickle layout, for tests (the real one is not
on these machines)."""

import pickle
from pathlib import Path

import numpy as np

PER_BATCH, TEST = 6, 5
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_archive(root: Path, per_batch: int = PER_BATCH, test: int = TEST, seed: int = 0) -> dict:
    """data_batch_1..5, test_batch and batches.meta as the official pickles hold them: `data` (N, 3072) uint8
    rows (1024 red, 1024 green, 1024 blue values, each row-major 32x32) and `labels` lists. Returns the arrays."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name, n in [*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", test)]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        data[0, 0], data[0, 1] = 0, 255  # both ends of the pixel range
        labels = rng.integers(0, 10, size=n).tolist()
        entry = {
            "batch_label": name,
            "data": data,
            "labels": labels,
            "filenames": [f"{name}_{i}.png" for i in range(n)],
        }
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        written[name] = (data, labels)
    meta = {"label_names": CLASSES, "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written
