"""What did InfoGAN's categorical code learn? Per category, which digit its samples are, and a grid by category.

    python scripts/info_codes.py CKPT [--per-code 1000] [--grid docs/samples/<name>_codes.png] [--columns 10]

For a checkpoint trained with `model.info_codes=K`, draws `per_code` latents (seed 0) and sets their category to k,
for each k, generates with the EMA weights and reads the images with the MNIST digit classifier. Prints, per
category, the most frequent digit, its share of the category's samples (purity), the classifier's mean entropy
E H(y|x) and the digit counts; then the mean purity and which digits no category took. `--grid` saves the first
`columns` samples of each category, one category per row.
"""

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.utils import save_image

from ganzoo.checkpoint import load_model
from ganzoo.metrics import DigitExtractor, inception_score_parts


@torch.no_grad()
def samples_by_code(model: torch.nn.Module, per_code: int) -> torch.Tensor:
    """(K, per_code, C, H, W) images in [-1, 1]: the same noise for every category, category k in row k."""
    codes = model.info_codes
    z = model.latent(per_code, torch.Generator().manual_seed(0))
    network = model.network("generator").eval()
    rows = []
    for k in range(codes):
        z[:, -codes:] = F.one_hot(torch.full((per_code,), k), codes).to(z.dtype)
        rows.append(torch.cat([network(part) for part in z.split(500)]))
    return torch.stack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--per-code", type=int, default=1000)
    parser.add_argument("--grid", type=Path)
    parser.add_argument("--columns", type=int, default=10)
    args = parser.parse_args()
    model = load_model(args.checkpoint)[0]
    if not getattr(model, "info_codes", 0):
        parser.error(f"{args.checkpoint} was not trained with model.info_codes: it has no categorical code.")
    images = samples_by_code(model, args.per_code)
    classifier = DigitExtractor("mnist")
    taken, purities = set(), []
    for k, row in enumerate(images):
        logits = torch.cat([classifier(part)[1] for part in row.split(500)])
        counts = torch.bincount(logits.argmax(dim=1), minlength=classifier.num_classes)
        digit = int(counts.argmax())
        taken.add(digit)
        purities.append(float(counts.max()) / len(row))
        entropy = inception_score_parts(logits)["mean_entropy"]
        shown = f"purity {purities[-1]:.3f}, E H(y|x) {entropy:.3f}, counts {counts.tolist()}"
        print(f"category {k}: digit {digit}, {shown}")
    missing = sorted(set(range(classifier.num_classes)) - taken)
    print(f"mean purity {sum(purities) / len(purities):.3f}; digits no category took: {missing or 'none'}")
    if args.grid:
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        grid = images[:, : args.columns].flatten(0, 1)
        save_image(grid * 0.5 + 0.5, args.grid, nrow=args.columns, padding=2)
        print(f"grid: {args.grid}")


if __name__ == "__main__":
    main()
