"""How much class information a representation keeps: nearest-neighbour accuracy of labelled codes."""

import torch


@torch.no_grad()
def nearest_neighbour_accuracy(codes: torch.Tensor, labels: torch.Tensor, chunk: int = 1024) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy (Euclidean) of `codes` (N, D) with `labels` (N,).

    Every sample is classified by the label of its closest other sample, so there is nothing to fit and no
    split to choose; chance is the frequency of the commonest class. Distances in float64, `chunk` rows at a time.
    """
    if len(codes) < 2:
        raise ValueError(f"nearest_neighbour_accuracy needs at least 2 samples, got {len(codes)}.")
    x = codes.flatten(1).double()
    correct = 0
    for start in range(0, len(x), chunk):
        distances = torch.cdist(x[start : start + chunk], x)
        rows = torch.arange(distances.shape[0], device=x.device)
        distances[rows, rows + start] = float("inf")  # not its own neighbour
        correct += int((labels[distances.argmin(dim=1)] == labels[start : start + chunk]).sum())
    return correct / len(x)


class EncoderMetrics:
    """What an encoder E keeps of held-out images x: `probe_acc`, the leave-one-out nearest-neighbour accuracy
    of E(x) on their labels, and `reconstruction_error`, mean |G(E(x)) - x| (BiGANs reconstruct semantics, not
    pixels). Accumulates this process's batches; `compute` takes the flags that every process agreed on."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.codes: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        self.errors: list[torch.Tensor] = []

    def update(
        self, images: torch.Tensor, codes: torch.Tensor, reconstructions: torch.Tensor, labels: torch.Tensor | None
    ) -> None:
        self.errors.append((reconstructions - images).abs().flatten(1).mean(dim=1))
        if labels is not None:
            self.codes.append(codes)
            self.labels.append(labels)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def has_codes(self) -> bool:
        """At least two labelled codes: one to classify and its neighbour."""
        return sum(len(c) for c in self.codes) > 1

    def compute(self, errors: bool = True, probe: bool = True) -> dict[str, torch.Tensor]:
        values = {}
        if errors:
            values["reconstruction_error"] = torch.cat(self.errors).mean()
        if probe:
            codes, labels = torch.cat(self.codes), torch.cat(self.labels)
            values["probe_acc"] = torch.tensor(nearest_neighbour_accuracy(codes, labels))
        return values
