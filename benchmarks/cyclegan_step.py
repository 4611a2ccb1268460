"""Where a CycleGAN step spends its time on a CPU: forward, backward and optimizer, per side and per network.

    .venv/bin/python benchmarks/cyclegan_step.py [--threads 2] [--batch 64] [--repeats 10]
        [--variant NAME OVERRIDE [OVERRIDE ...]] ...

Times the report's model (model=cyclegan_report), the fast default (model=cyclegan) and each --variant (a name
and its Hydra overrides, e.g. `--variant wide model=cyclegan model.generators.mnist2usps.width=32`) on random
28x28 batches, through the models' own critic_step / generator_step, and prints milliseconds per step (median
over repeats), the ratio to the report's model, and the forward time of each network alone at that batch size.
"""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from ganzoo.config import config_dir

VARIANTS = {"report": ["model=cyclegan_report"], "fast": ["model=cyclegan"]}


def build(overrides: list[str]):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*overrides, "data=mnist_usps"])
    torch.manual_seed(0)
    return instantiate(cfg.model), cfg.data.batch_size


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def phases(model, batch: list[torch.Tensor], repeats: int) -> dict[str, float]:
    """ms of each part of one critic and one generator update (median over repeats, after one warm-up)."""
    out: dict[str, float] = {}
    for side, step, params in (
        ("critic", model.critic_step, model.critic_parameters()),
        ("generator", model.generator_step, model.generator_parameters()),
    ):
        opt = torch.optim.Adam(params, lr=2e-4)
        times: dict[str, list[float]] = {"forward": [], "backward": [], "optimizer": []}
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            loss = step(batch)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            for part, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[part].append(seconds)
        out.update({f"{side} {part}": 1000 * statistics.median(t[1:]) for part, t in times.items()})
    return out


def networks(model, batch: list[torch.Tensor], repeats: int) -> dict[str, float]:
    x = model.real(batch)
    out = {}
    with torch.no_grad():
        for name, net in model.generators.items():
            source = x[name.split("2")[0]]
            out[f"G {name}"] = median_ms(lambda net=net, source=source: net(source), repeats)
        for name, net in model.critics.items():
            out[f"D {name}"] = median_ms(lambda net=net, s=x[name]: net(s), repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, help="default: each variant's data.batch_size")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--variant", nargs="+", action="append", default=[], help="NAME OVERRIDE [OVERRIDE ...]")
    args = parser.parse_args()
    if any(len(v) < 2 for v in args.variant):
        parser.error("--variant takes a name and at least one override, e.g. --variant wide model=cyclegan ...")
    if taken := sorted({name for name, *_ in args.variant} & VARIANTS.keys()):
        parser.error(f"--variant {taken[0]} would replace a built-in variant ({', '.join(VARIANTS)}): rename it")
    variants = {**VARIANTS, **{name: overrides for name, *overrides in args.variant}}
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), median of {args.repeats} repeats, ms")
    baseline = None
    for name, overrides in variants.items():
        model, batch_size = build(overrides)
        n = args.batch or batch_size
        batch = [torch.rand(n, 1, size, size) * 2 - 1 for size in model.image_sizes.values()]
        parts = phases(model, batch, args.repeats)
        total = sum(parts.values())
        baseline = baseline or total / n
        print(f"\n{name} ({' '.join(overrides)}, batch {n}): {total:.1f} ms per critic + generator update, "
              f"{total / n:.2f} ms per image, {baseline / (total / n):.2f}x the report's speed per image")  # fmt: skip
        for part, ms in {**parts, **networks(model, batch, args.repeats)}.items():
            print(f"  {part:<20} {ms:8.1f}")


if __name__ == "__main__":
    main()
