"""Speed of the metrics: feature extraction in images/s, and the time of one full evaluation.

    .venv/bin/python benchmarks/metrics_throughput.py [--features digits|inception] [--num-samples 10000]
        [--batch-size 500] [--device cpu|cuda] [--threads N] [--inception-weights PATH]

Feature extraction feeds batches of random 28x28 gray images in [-1, 1] to the extractor (best of 3 passes).
The full evaluation is what every validation does: the real statistics of MNIST's 5,000-image held-out split
(GANZOO_DATA_DIR; synthetic digits when absent), `--num-samples` images from the default DCGAN generator
(untrained: speed does not depend on the weights) and the final compute of FID, IS, KID and PRDC. Last, the
time and peak memory of precision/recall/density/coverage alone on `--prdc-size` real and generated features.
"""

import argparse
import multiprocessing
import os
import resource
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from ganzoo.config import config_dir
from ganzoo.data import MNISTDataModule, SyntheticDataModule
from ganzoo.metrics import DigitExtractor, FeatureExtractor, GenerativeMetrics, InceptionExtractor
from ganzoo.metrics.prdc import prdc
from ganzoo.utils import eval_mode


def extraction_rate(extractor: FeatureExtractor, batch_size: int, device: torch.device, batches: int) -> float:
    images = torch.rand(batch_size, 1, 28, 28, device=device) * 2 - 1
    extractor(images)  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(batches):
            extractor.clear_cache()
            extractor(images)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return batches * batch_size / best


def real_images() -> tuple[torch.Tensor, str]:
    data_dir = os.environ.get("GANZOO_DATA_DIR", "data")
    try:
        mnist = MNISTDataModule(data_dir=data_dir)
        mnist.setup()
        return mnist.val_set.tensors[0], "MNIST held-out split"  # type: ignore[union-attr]
    except FileNotFoundError:
        return SyntheticDataModule(num_samples=40000).load_split(train=True)[0][:5000], "synthetic digits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", choices=["digits", "inception"], default="digits")
    parser.add_argument("--num-samples", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--inception-weights", default=os.environ.get("GANZOO_INCEPTION_WEIGHTS"))
    parser.add_argument("--prdc-size", type=int, default=10000, help="real and generated features for PRDC")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    extractor = DigitExtractor("mnist") if args.features == "digits" else InceptionExtractor(args.inception_weights)
    extractor.to(device)
    print(f"device {device}, {torch.get_num_threads()} CPU threads, features: {args.features}")
    rate = extraction_rate(extractor, args.batch_size, device, batches=4 if args.features == "digits" else 1)
    print(f"feature extraction: {rate:,.0f} images/s (batches of {args.batch_size})")

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["paths.output_dir=.", "model=dcgan"])
    model = instantiate(cfg.model).to(device)
    metrics = GenerativeMetrics(extractor, num_samples=args.num_samples, batch_size=args.batch_size).to(device)
    real, source = real_images()
    start = time.perf_counter()
    for batch in real.split(args.batch_size):
        metrics.update(batch.to(device), real=True)
    real_s = time.perf_counter() - start
    start = time.perf_counter()
    with eval_mode(model):
        metrics.update_generated(model.sample, device)
    generated_s = time.perf_counter() - start
    start = time.perf_counter()
    values = metrics.compute()
    compute_s = time.perf_counter() - start
    total = real_s + generated_s + compute_s
    print(
        f"full evaluation, {args.num_samples} generated (DCGAN) vs {len(real)} real ({source}): {total:.1f} s = "
        f"real statistics {real_s:.1f} s + generation and features {generated_s:.1f} s + FID/IS/KID {compute_s:.1f} s"
    )
    fid, score, kid = values["fid"], values["is"], values["kid"]
    print(f"(values of the untrained generator: FID {fid:.2f}, IS {score:.2f}, KID {kid:.4f})")
    prdc_cost(args.prdc_size, extractor.num_features)


def _prdc_child(n: int, dim: int, queue: multiprocessing.Queue) -> None:
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(n, dim, generator=g), torch.randn(n, dim, generator=g)
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    before = resident_pages * os.sysconf("SC_PAGE_SIZE") / 1024  # resident KB now
    start = time.perf_counter()
    prdc(real, fake, k=5)
    seconds = time.perf_counter() - start
    queue.put((seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024))


def prdc_cost(n: int, dim: int) -> None:
    """Precision/recall/density/coverage of n x n features, in a fresh process so that its peak memory is its own
    (the blocked distances keep it far below the n x n matrix: 10,000^2 doubles would be 800 MB)."""
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=_prdc_child, args=(n, dim, queue))
    child.start()
    seconds, peak_mb = queue.get()
    child.join()
    print(f"precision/recall/density/coverage, {n:,} x {n:,} features of {dim} dims: {seconds:.1f} s, "
          f"peak resident memory above that before the call {peak_mb:.0f} MB (an upper bound)")  # fmt: skip


if __name__ == "__main__":
    main()
