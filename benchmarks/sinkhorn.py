"""Time and peak memory of ganzoo's Sinkhorn against POT's `ot.sinkhorn` (torch backend), one process.

    .venv/bin/python benchmarks/sinkhorn.py [--sizes 256 1024 4096] [--epsilons 0.1 0.01 0.001] [--iterations 100]

Every solver gets the same K x K cosine cost in [0, 2], the same epsilon and the same number of iterations
(POT with stopThr=0, so it never stops early). All start from zero potentials and update columns then rows, so
their plans are the same iterate up to rounding: `plan error` is max |P - P_ref| * K^2 (relative to an average
entry) against ganzoo's run in float64, and `marginal err` the L1 violation of both marginals. POT's `sinkhorn`
(Sinkhorn-Knopp on exp(-C / epsilon)) underflows at small epsilon; its `sinkhorn_log` is the like-for-like
log-domain comparison. Every solver first runs once on a small cost (library warm-up).

Peak memory is the rise of the resident set (VmHWM, reset through /proc/self/clear_refs) during one call, in
units of the cost matrix, so it includes the returned plan; glibc is told to return every buffer over 64 KiB
to the system on free so that the peak of each call is its own. Linux only.
"""

import argparse
import ctypes
import gc
import time
from collections.abc import Callable

import ot
import torch

from ganzoo.losses import cosine_cost, sinkhorn

M_MMAP_THRESHOLD = -3


def resident(key: str) -> int:
    """VmRSS or VmHWM of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def measure(solve: Callable[[], torch.Tensor], repeats: int) -> tuple[float, int, torch.Tensor]:
    """Best wall time over `repeats` calls, and the peak resident rise during the first one."""
    gc.collect()
    before = resident("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the high-water mark to the current resident size
    start = time.perf_counter()
    plan = solve()
    best = time.perf_counter() - start
    peak = resident("VmHWM") - before
    for _ in range(repeats - 1):
        del plan
        start = time.perf_counter()
        plan = solve()
        best = min(best, time.perf_counter() - start)
    return best, peak, plan


def solvers(cost: torch.Tensor, epsilon: float, iterations: int) -> dict[str, Callable[[], torch.Tensor]]:
    k, n = cost.shape
    a = torch.full((k,), 1 / k, dtype=cost.dtype)
    b = torch.full((n,), 1 / n, dtype=cost.dtype)

    def pot(method: str) -> Callable[[], torch.Tensor]:
        return lambda: ot.sinkhorn(a, b, cost, epsilon, method=method, numItermax=iterations, stopThr=0, warn=False)

    return {
        "ganzoo": lambda: sinkhorn(cost, epsilon, iterations),
        "pot sinkhorn": pot("sinkhorn"),
        "pot sinkhorn_log": pot("sinkhorn_log"),
    }


def marginal_error(plan: torch.Tensor) -> float:
    """L1 violation of both marginals (nan if the plan is not finite)."""
    k, n = plan.shape
    rows = (plan.sum(1) - 1 / k).abs().sum()
    cols = (plan.sum(0) - 1 / n).abs().sum()
    return float(rows + cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--epsilons", type=float, nargs="+", default=[0.1, 0.01, 0.001])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--dim", type=int, default=64, help="embedding size of the cosine cost")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 16)
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    print(f"torch {torch.__version__}, POT {ot.__version__}, {args.dtype}, {args.threads} threads, CPU")
    print(f"{args.iterations} iterations each; memory: peak rise / size of the cost matrix")
    header = f"{'K':>5} {'epsilon':>8} {'solver':<17} {'time s':>9} {'memory':>7} {'marginal err':>12}"
    print(header + f" {'plan error':>10} {'time / ganzoo':>13} {'memory / ganzoo':>15}")
    g = torch.Generator().manual_seed(0)
    warm = cosine_cost(torch.randn(64, args.dim, dtype=dtype), torch.randn(64, args.dim, dtype=dtype))
    for epsilon in args.epsilons:
        for solve in solvers(warm, epsilon, args.iterations).values():
            solve()
    for k in args.sizes:
        x = torch.randn(k, args.dim, generator=g, dtype=dtype)
        y = torch.randn(k, args.dim, generator=g, dtype=dtype)
        cost = cosine_cost(x, y)
        size = cost.numel() * cost.element_size()
        repeats = args.repeats if k < 4096 else 1
        for epsilon in args.epsilons:
            reference = sinkhorn(cost.double(), epsilon, args.iterations)
            base_time = base_memory = 0.0
            for name, solve in solvers(cost, epsilon, args.iterations).items():
                seconds, peak, plan = measure(solve, repeats)
                if name == "ganzoo":
                    base_time, base_memory = seconds, peak / size
                diff = float((plan.double() - reference).abs().max()) * k * k
                print(
                    f"{k:>5} {epsilon:>8g} {name:<17} {seconds:>9.4f} {peak / size:>7.2f} "
                    f"{marginal_error(plan):>12.2e} {diff:>10.1e} {seconds / base_time:>13.2f} "
                    f"{peak / size / max(base_memory, 1e-9):>15.2f}"
                )
                del plan
            del reference


if __name__ == "__main__":
    main()
