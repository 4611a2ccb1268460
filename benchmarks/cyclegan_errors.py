"""Which test digits does a CycleGAN translate wrongly, and do classifiers of the source domain misread them too?

    GANZOO_DATA_DIR=... python benchmarks/cyclegan_errors.py outputs/<run>/checkpoints/last.ckpt \
        [--classifier mnist=other_mnist.pt usps=other_usps.pt mnist=third_mnist.pt] [--grid DIR]

For each direction s -> t it prints the translation's accuracy read by t's metric classifier (what `val/acc_*`
reports), by t's teacher (the classifier of the semantic-consistency term: the run's `model.semantic_teachers`) and
by each `--classifier` for t (an independent classifier, one that took no part in training, e.g. from `python -m
ganzoo.classifier ... seed=1 out=other.pt`; a domain may have several, since two classifiers read one translation
differently by up to about a point), the accuracy of s's metric classifier and labeller (the run's
`model.semantic_labellers`, by default s's teacher) on the untranslated test images, and how many of the
translation's errors those also make. Shared errors are test digits that classifiers of the source domain misread too.
Last, the source labeller on the training digits that the semantic term labels (as they are, and as the run's
`model.source_augment` jitters them: the labels the term really imposes), and the translation's accuracy on those
digits. With `--grid DIR` it also draws, per direction, the first wrongly translated test digits beside their
translations, each titled with its label and the metric classifier's reading
(DIR/cyclegan_errors_<source>2<target>.png): whether the misses are ambiguous digits or translations gone wrong
is quicker seen than counted.
"""

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate

from ganzoo.checkpoint import load_model
from ganzoo.metrics import load_digit_classifier
from ganzoo.metrics.digits import to_digit_input
from ganzoo.nets.teachers import load_teacher


@torch.no_grad()
def predictions(classifier: torch.nn.Module, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """The classifier's labels for [-1, 1] images, in batches."""
    return torch.cat([classifier(to_digit_input(x)).argmax(1) for x in images.split(batch)])


def translations(model: torch.nn.Module, images: torch.Tensor, source: str, batch: int = 500) -> torch.Tensor:
    """`source` images translated to the other domain, in batches."""
    return torch.cat([model.translate(x, source) for x in images.split(batch)])


def draw_errors(
    images: torch.Tensor, translated: torch.Tensor, labels: torch.Tensor, read: torch.Tensor, path: Path, n: int = 40
) -> None:
    """The first n test digits whose translation is read wrongly: pairs (original, translation), titled label->read."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrong = (read != labels).nonzero().flatten()[:n]
    columns = 8  # pairs per row
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(2 * columns * 0.7, rows * 0.85), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, i in enumerate(wrong.tolist()):
        pair = axes[k // columns, 2 * (k % columns) : 2 * (k % columns) + 2]
        for ax, image in zip(pair, (images[i], translated[i]), strict=True):
            ax.imshow(image[0].cpu(), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        pair[0].set_title(f"{int(labels[i])}->{int(read[i])}", fontsize=8, loc="left")
    fig.tight_layout(pad=0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"  {len(wrong)} of them drawn (original, translation; label->read) in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--classifier", nargs="*", default=[], metavar="DOMAIN=PATH", help="independent classifiers")
    parser.add_argument("--grid", type=Path, metavar="DIR", help="draw the first wrongly translated digits here")
    args = parser.parse_args()
    if not all("=" in item for item in args.classifier):
        parser.error(f"--classifier takes DOMAIN=PATH pairs, e.g. mnist=other_mnist.pt; got {args.classifier}")
    independent_files = [tuple(item.split("=", 1)) for item in args.classifier]
    model, config = load_model(args.checkpoint)
    if not {d for d, _ in independent_files} <= set(model.domains):
        named = sorted(d for d, _ in independent_files)
        parser.error(f"--classifier names the model's domains, {list(model.domains)}; got {named}")
    teacher_files = {d: d for d in model.domains} | dict(config["model"].get("semantic_teachers") or {})
    teacher = {d: load_teacher(teacher_files[d]) for d in model.domains}
    labeller_files = dict(config["model"].get("semantic_labellers") or {})
    labeller = teacher | {d: load_teacher(paths) for d, paths in labeller_files.items()}
    metric = {d: load_digit_classifier(d) for d in model.domains}
    independent = [(d, Path(path).stem, load_digit_classifier(path)) for d, path in independent_files]
    data = instantiate(config["data"])
    data.setup("fit")
    data.setup("test")
    for source, target in model.directions:
        images, labels = data.test_sets[source].tensors
        translated = translations(model, images, source)
        reported = f"{target} classifier on the translations"  # what val/acc_<source>2<target> reports
        predicted = {
            reported: predictions(metric[target], translated),
            f"{target} teacher on the translations": predictions(teacher[target], translated),
            f"{source} classifier on the originals": predictions(metric[source], images),
            f"{source} labeller on the originals": predictions(labeller[source], images),
        }
        for domain, name, classifier in independent:
            if domain == target:
                predicted[f"{target} classifier {name} on the translations"] = predictions(classifier, translated)
        correct = {name: p == labels for name, p in predicted.items()}
        wrong = ~correct[reported]
        print(f"{source} -> {target}: {len(labels)} test images, {int(wrong.sum())} translated wrongly")
        for name, ok in correct.items():
            shared = int((wrong & ~ok).sum())
            print(f"  {name:<48} {100 * ok.float().mean():6.2f}%   wrong on {shared} of those {int(wrong.sum())}")
        if args.grid:
            draw_errors(
                images, translated, labels, predicted[reported], args.grid / f"cyclegan_errors_{source}2{target}.png"
            )
        # the semantic term's labels: the source labeller (by default its teacher) on the training digits
        train_images, train_labels = data.domains[source].train_set.tensors
        right = (predictions(labeller[source], train_images) == train_labels).float().mean()
        print(
            f"  {source} labeller on the {len(train_labels)} training digits that the term labels: {100 * right:.2f}%"
        )
        if source in model.source_augment:  # the jitter the run trained with
            jittered = model.source_augment[source](train_images, torch.Generator().manual_seed(0))
            right = (predictions(labeller[source], jittered) == train_labels).float().mean()
            print(f"  {source} labeller on those digits jittered as in training: {100 * right:.2f}%")
        right = (predictions(metric[source], train_images) == train_labels).float().mean()
        print(f"  {source} classifier on those training digits: {100 * right:.2f}%")
        # the same digits translated: a gap to the test split is overfitting, a shortfall here is not
        translated = translations(model, train_images, source)
        for name, classifier in ((f"{target} classifier", metric[target]), (f"{target} teacher", teacher[target])):
            right = (predictions(classifier, translated) == train_labels).float().mean()
            print(f"  {name} on those training digits translated: {100 * right:.2f}%")


if __name__ == "__main__":
    main()
