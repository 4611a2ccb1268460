"""Time N DCGAN updates through ganzoo (Lightning, manual optimization) and through a plain PyTorch loop.

Same networks (the report's DCGAN, or narrower with --width), same batches, same optimizers, same
critic/generator alternation, one process. Prints seconds per update for both and their ratio; the target is
ganzoo within 5% of the loop. The last column logs at every step (trainer.log_every_n_steps=1), which is what
every run paid before ganzoo called `self.log` only on the steps that the loggers write.

    python benchmarks/step_overhead.py [--steps 60] [--warmup 10] [--repeats 3] [--batch-size 64] [--width 64]
"""

import argparse
import statistics
import time

import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from torch.utils.data import TensorDataset

from ganzoo.data.sampling import ResumableLoader, ResumableSampler
from ganzoo.losses import discriminator_loss, generator_loss_nonsaturating
from ganzoo.models import GAN
from ganzoo.nets import DCGANDiscriminator, DCGANGenerator


def make_model(width: int) -> GAN:
    seed_everything(0, verbose=False)
    return GAN(
        DCGANGenerator(width=width),
        DCGANDiscriminator(width=width),
        optimizer_critic=lambda p: torch.optim.Adam(p, lr=1e-4),
        optimizer_generator=lambda p: torch.optim.Adam(p, lr=1e-4),
    )


def plain_loop(batches: list[torch.Tensor], warmup: int, width: int) -> float:
    model = make_model(width)
    g, d = model.generator, model.critic
    opt_d, opt_g = torch.optim.Adam(d.parameters(), lr=1e-4), torch.optim.Adam(g.parameters(), lr=1e-4)
    noise = torch.Generator().manual_seed(0)
    for i, real in enumerate(batches):
        if i == warmup:
            start = time.perf_counter()
        z = torch.randn(real.shape[0], g.latent_dim, generator=noise)
        if i % 2 == 0:
            with torch.no_grad():
                fake = g(z)
            loss = discriminator_loss(d(real), d(fake))
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
        else:
            loss = generator_loss_nonsaturating(d(g(z)))
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
        loss.item()  # ganzoo checks every loss for NaN, which reads it
    return (time.perf_counter() - start) / (len(batches) - warmup)


class Stopwatch(Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup = warmup

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self.start


def through_ganzoo(batches: list[torch.Tensor], warmup: int, width: int, logging: bool, every: int = 50) -> float:
    data = TensorDataset(torch.cat(batches), torch.zeros(sum(len(b) for b in batches), dtype=torch.long))
    loader = ResumableLoader(data, batch_size=len(batches[0]), sampler=ResumableSampler(len(data), shuffle=False))
    watch = Stopwatch(warmup)
    trainer = Trainer(
        accelerator="cpu",
        max_steps=len(batches),
        logger=logging,
        log_every_n_steps=every,
        enable_checkpointing=False,
        enable_progress_bar=logging,
        enable_model_summary=False,
        use_distributed_sampler=False,
        callbacks=[watch],
        default_root_dir="outputs/benchmarks",
    )
    trainer.fit(make_model(width), train_dataloaders=loader)
    return watch.seconds / (len(batches) - warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="DCGAN width (64: the report's; 32: the fast preset's)")
    args = parser.parse_args()
    batches = [torch.rand(args.batch_size, 1, 28, 28) * 2 - 1 for _ in range(args.steps)]
    plain, bare, logged, every_step = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so that machine noise hits all four alike
        plain.append(plain_loop(batches, args.warmup, args.width))
        bare.append(through_ganzoo(batches, args.warmup, args.width, logging=False))
        logged.append(through_ganzoo(batches, args.warmup, args.width, logging=True))
        every_step.append(through_ganzoo(batches, args.warmup, args.width, logging=True, every=1))
    print(
        f"DCGAN width {args.width}, batch {args.batch_size}, {args.steps - args.warmup} timed updates, "
        f"{args.repeats} repeats, {torch.get_num_threads()} threads; ratio = ganzoo / plain loop"
    )
    for name, pick in (("median", statistics.median), ("best", min)):
        p, b, lg, e = pick(plain), pick(bare), pick(logged), pick(every_step)
        print(
            f"{name:>6}: plain loop {p * 1e3:6.1f} ms/update | ganzoo, no logger {b * 1e3:6.1f} ({b / p:.3f}) | "
            f"ganzoo, TensorBoard + bar {lg * 1e3:6.1f} ({lg / p:.3f}) | "
            f"logging every step {e * 1e3:6.1f} ({e / p:.3f})"
        )


if __name__ == "__main__":
    main()
