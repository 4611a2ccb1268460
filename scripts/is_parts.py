"""Why is IS low? Its two parts for generator checkpoints and for the real MNIST test split.

    GANZOO_DATA_DIR=... python scripts/is_parts.py CKPT [CKPT ...] [--num-samples 10000] [--keep-best-critic 0.8 0.5]

IS = exp(H(y) - E_x H(y|x)) on the MNIST digit classifier (`ganzoo.metrics.inception_score_parts`): H(y), at most
ln 10 = 2.303, is low when some digits are drawn more often than others; E_x H(y|x) is high when images are ambiguous.
Each checkpoint generates with its EMA weights (seeds as ganzoo.evaluate's). Also prints the share of images whose
top class has probability below 0.9, and the class shares.

`--keep-best-critic f`: draws num_samples / f images and keeps the num_samples that the checkpoint's own critic
scores as most real, then prints IS, digit FID and modes of that selection against the test split, to see whether
the critic can tell the ambiguous images apart (a discriminator rejection sampler, Azadi et al., 2019, in its
simplest form).
"""

import argparse
import os

import torch

from ganzoo.checkpoint import load_model
from ganzoo.data import MNISTDataModule
from ganzoo.metrics import DigitExtractor, GenerativeMetrics, inception_score_parts
from ganzoo.models import GAN, WGAN
from ganzoo.sample import generate


def describe(name: str, logits: torch.Tensor) -> None:
    parts = inception_score_parts(logits)
    probabilities = logits.softmax(dim=1)
    unsure = (probabilities.max(dim=1).values < 0.9).float().mean()
    shares = " ".join(f"{share:.3f}" for share in probabilities.mean(dim=0).tolist())
    print(
        f"{name}: IS (one split) {parts['is']:.3f}, H(y) {parts['class_entropy']:.4f}, "
        f"E H(y|x) {parts['mean_entropy']:.4f}, top class below 0.9: {unsure:.1%}; class shares {shares}"
    )


def logits_of(extractor: DigitExtractor, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([extractor(batch)[1] for batch in images.split(500)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--keep-best-critic", type=float, nargs="*", default=[])
    args = parser.parse_args()
    if any(not 0 < f <= 1 for f in args.keep_best_critic):
        parser.error(f"--keep-best-critic takes shares in (0, 1], got {args.keep_best_critic}.")
    extractor = DigitExtractor("mnist")
    real, _ = MNISTDataModule(data_dir=os.environ.get("GANZOO_DATA_DIR", "data")).load_split(train=False)
    describe("MNIST test split", logits_of(extractor, real))
    metrics = GenerativeMetrics(extractor, num_samples=args.num_samples)  # the real split's features, once
    for batch in real.split(500):
        metrics.update(batch, real=True)
    for path in args.checkpoints:
        model, _ = load_model(path)
        if args.keep_best_critic and not isinstance(model, GAN | WGAN):
            raise SystemExit(
                f"{path}: --keep-best-critic needs a critic that scores images alone (gan, dcgan, wgan, "
                f"wgan_gp), not {type(model).__name__}'s."
            )
        n = max([args.num_samples] + [round(args.num_samples / f) for f in args.keep_best_critic])
        images = generate(model, n).float() / 127.5 - 1
        describe(path, logits_of(extractor, images[: args.num_samples]))
        for fraction in args.keep_best_critic:
            drawn = images[: round(args.num_samples / fraction)]
            with torch.no_grad():
                scores = torch.cat([model.critic(batch).flatten() for batch in drawn.split(500)])
            kept = drawn[scores.argsort(descending=True)[: args.num_samples]]
            for batch in kept.split(500):
                metrics.update(batch, real=False)
            values = metrics.compute()
            metrics.reset()  # forgets the selection; the real statistics stay
            print(
                f"  the {args.num_samples} of {len(drawn)} that the critic scores highest: digit FID "
                f"{float(values['fid']):.2f}, IS {float(values['is']):.2f}, modes {int(values['modes'])}"
            )


if __name__ == "__main__":
    main()
