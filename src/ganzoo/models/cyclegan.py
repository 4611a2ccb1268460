"""CycleGAN (Zhu et al., 2017): unpaired translation between two image domains, e.g. MNIST <-> USPS.

Generators G: a -> b and F: b -> a, critics D_a and D_b. A critic step updates both critics (one optimizer) on
real images against translations drawn from a history pool; a generator step updates both generators (one
optimizer) on L_GAN(G, D_b) + L_GAN(F, D_a) + lambda (L_cyc) + identity_weight * lambda (L_idt), plus, with
`semantic_weight` > 0, a semantic-consistency term in the manner of CyCADA (Hoffman et al., 2018):

    L_sem = CE(f_b(G(x_a)), argmax f_a(x_a)) + CE(f_a(F(x_b)), argmax f_b(x_b))

where f_a, f_b are frozen digit classifiers ("teachers"), each trained on its own domain's labelled training
split. It stops label flipping (a 4 translated into a 9 keeps a low cycle loss) that the other terms cannot see.
With `semantic_temperature` tau the labels are soft, as in knowledge distillation (Hinton et al., 2015): the term is
tau^2 KL(softmax(f_a(x_a) / tau) || softmax(f_b(G(x_a)) / tau)), so that a digit the source teacher finds ambiguous
is asked to stay as ambiguous, rather than to become a confident copy of the teacher's first guess. A mapping
({target domain: tau}) softens the labels of one direction only: {usps: 2} for G's translations into USPS.
A teacher has two jobs, labelling its domain's sources and reading the translations into its domain, and
`semantic_labellers` ({domain: classifier, or a list of classifiers whose logits are averaged}) gives the first
job to another classifier: a strong USPS classifier labels USPS digits better for F, while the weaker shipped one
keeps reading G's translations (a robust reader lets G make digits that look less like USPS).
With `source_augment` ({domain: {degrees, translate, scale}}: `AffineJitter`) the generator step jitters that
domain's real images before any term sees them, so that the translator learns from more than the training digits
at no extra cost (the labels of the semantic term are then the teacher's of the jittered images); the critics judge
real images unjittered.
Unlike CyCADA, which has labels for the source domain only, it uses a teacher per domain; the teachers that ship
(`ganzoo/models/weights/teacher_*.pt`) are other networks than the metric classifiers, so the accuracy that
validation reports is not the teachers' own opinion (the headline's USPS labeller, `teacher_usps_w64.pt`, has the
USPS metric classifier's widths, but it only labels USPS sources and never reads a translation).

Batches are (x_a, x_b) from an UnpairedDataModule with the same domains. Validation translates each domain's
held-out validation split and logs `val/acc_a2b`, `val/fid_a2b` (both directions) and their means `val/acc`, `val/fid`.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.losses import (
    cycle_loss,
    discriminator_loss,
    generator_loss_nonsaturating,
    identity_loss,
    least_squares_critic_loss,
    least_squares_generator_loss,
)
from ganzoo.metrics import GenerativeMetrics
from ganzoo.metrics.digits import load_digit_classifier, to_digit_input
from ganzoo.metrics.translation import TranslationMetrics
from ganzoo.models.augment import AffineJitter
from ganzoo.models.base import AdversarialModule
from ganzoo.models.image_pool import ImagePool

log = logging.getLogger(__name__)

TEACHERS_DIR = Path(__file__).resolve().parent / "weights"


def teacher_path(name_or_path: str) -> Path:
    """A shipped teacher by domain name (`mnist`, `usps`: ganzoo/models/weights/teacher_<name>.pt) or a file."""
    shipped = TEACHERS_DIR / f"teacher_{name_or_path}.pt"
    return shipped if shipped.is_file() else Path(name_or_path).expanduser()


class ClassifierEnsemble(nn.Module):
    """Several classifiers as one: the mean of their logits (the normalised geometric mean of their probabilities).
    Networks trained alike from other seeds err on partly different digits: four USPS w64 seeds label 99.45% of the
    jittered USPS training digits right, one alone 99.29% (docs/cyclegan.md, "An ensemble of labellers")."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(0)


def load_teacher(names_or_paths: str | Sequence[str]) -> nn.Module:
    """A frozen teacher or labeller in eval mode: a shipped name or a file, or a list of them as their ensemble."""
    if isinstance(names_or_paths, str):
        return load_digit_classifier(teacher_path(names_or_paths)).requires_grad_(False)
    if not len(names_or_paths):
        raise ValueError(
            "A list in model.semantic_labellers or model.semantic_teachers is an ensemble and needs at least one "
            "member (a shipped name such as usps_w64, or a file of `python -m ganzoo.classifier`); got []."
        )
    return ClassifierEnsemble([load_teacher(member) for member in names_or_paths]).eval()


ADVERSARIAL_LOSSES = {
    "least_squares": (least_squares_critic_loss, least_squares_generator_loss),
    "bce": (discriminator_loss, generator_loss_nonsaturating),
}


class CycleGAN(AdversarialModule):
    """`generators` maps "a2b" and "b2a" to networks, `critics` maps each domain to the critic judging it.

    `image_sizes` (side per domain) lets `translate` accept images of any size and checks the datamodule;
    `identity_weight` is relative to `cycle_weight` (Zhu et al.'s 0.5) and needs equal sizes; `pool_size`
    images per domain are kept for the critics (0: none). With EMA both generators are averaged.
    """

    averaged_networks = ("generators",)

    def __init__(
        self,
        generators: Mapping[str, nn.Module],
        critics: Mapping[str, nn.Module],
        domains: Sequence[str] = ("mnist", "usps"),
        image_sizes: Mapping[str, int] | None = None,
        adversarial_loss: str = "least_squares",
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        semantic_weight: float = 0.0,
        semantic_teachers: Mapping[str, str | Sequence[str]] | None = None,
        semantic_temperature: float | Mapping[str, float | None] | None = None,
        semantic_labellers: Mapping[str, str | Sequence[str]] | None = None,
        source_augment: Mapping[str, Mapping[str, float]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        a, b = self.domains = tuple(domains)
        self.directions = ((a, b), (b, a))
        names = {f"{s}2{t}" for s, t in self.directions}
        if set(generators) != names or set(critics) != {a, b}:
            raise ValueError(
                f"CycleGAN over domains {[a, b]} needs model.generators with keys {sorted(names)} and "
                f"model.critics with keys {[a, b]}; got {sorted(generators)} and {sorted(critics)}."
            )
        if adversarial_loss not in ADVERSARIAL_LOSSES:
            raise ValueError(
                f"Unknown adversarial_loss {adversarial_loss!r}: choose one of {sorted(ADVERSARIAL_LOSSES)} "
                "(model.adversarial_loss=...)."
            )
        self.image_sizes = dict(image_sizes) if image_sizes else None
        if identity_weight and self.image_sizes and self.image_sizes[a] != self.image_sizes[b]:
            raise ValueError(
                f"The identity loss compares G(y) with y, so it needs equal image sizes; got {self.image_sizes}. "
                "Set model.identity_weight=0."
            )
        self.generators = nn.ModuleDict(dict(generators))
        self.critics = nn.ModuleDict(dict(critics))
        self.critic_loss, self.adversarial_loss = ADVERSARIAL_LOSSES[adversarial_loss]
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.pools = {d: ImagePool(pool_size) for d in self.domains}
        self.semantic_weight = semantic_weight
        self.source_augment = {d: AffineJitter.from_settings(v) for d, v in (source_augment or {}).items() if v}
        if not set(self.source_augment) <= {a, b}:
            raise ValueError(
                f"model.source_augment jitters the real images of named domains, {[a, b]}; "
                f"got {sorted(self.source_augment)}."
            )
        if semantic_weight < 0:
            raise ValueError(f"model.semantic_weight must be >= 0 (0 turns the term off), got {semantic_weight}.")
        self.semantic_temperatures = self.temperatures_by_domain(semantic_temperature)
        if semantic_weight and set(semantic_teachers or {}) != {a, b}:
            raise ValueError(
                f"The semantic term needs a teacher classifier per domain: model.semantic_teachers with keys "
                f"{[a, b]} (weights files of `python -m ganzoo.classifier`); got {sorted(semantic_teachers or {})}."
            )
        if not set(semantic_labellers or {}) <= {a, b}:
            raise ValueError(
                f"model.semantic_labellers names the domains whose sources another classifier labels, {[a, b]}; "
                f"got {sorted(semantic_labellers or {})}."
            )
        # Frozen and outside the module tree (as the metrics are): never in checkpoints, optimizers or DDP.
        teachers = semantic_teachers if semantic_weight and semantic_teachers else {}
        self.__dict__["teachers"] = {d: load_teacher(path) for d, path in teachers.items()}
        # each domain's teacher labels its sources too, unless a labeller (or a list of them) is named for it
        own = {d: load_teacher(paths) for d, paths in (semantic_labellers or {}).items()} if teachers else {}
        self.__dict__["labellers"] = self.__dict__["teachers"] | own

    def temperatures_by_domain(self, temperature: float | Mapping[str, float | None] | None) -> dict[str, float | None]:
        """The semantic term's temperature per target domain: one for both, or {domain: tau}; None is hard labels."""
        by_domain = dict(temperature) if isinstance(temperature, Mapping) else dict.fromkeys(self.domains, temperature)
        if not set(by_domain) <= set(self.domains):
            raise ValueError(
                f"model.semantic_temperature maps the domain of the translations, {list(self.domains)}, to a "
                f"temperature; got {sorted(by_domain)}."
            )
        for tau in by_domain.values():
            if tau is not None and not tau > 0:
                raise ValueError(
                    f"model.semantic_temperature must be > 0 (soft labels), or null for the teachers' hard labels; "
                    f"got {tau}."
                )
        return by_domain

    # ----------------------------------------------------------------- the two sides
    def critic_parameters(self) -> Iterable[nn.Parameter]:
        return self.critics.parameters()

    def generator_parameters(self) -> Iterable[nn.Parameter]:
        return self.generators.parameters()

    def real(self, batch: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """A training batch (x_a, x_b) by domain name."""
        return dict(zip(self.domains, batch, strict=True))

    def critic_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        real = self.real(batch)
        with torch.no_grad():
            fake = {t: self.generators[f"{s}2{t}"](real[s]) for s, t in self.directions}
        total = torch.zeros((), device=self.device)
        for d in self.domains:
            real_scores = self.critics[d](real[d])
            fake_scores = self.critics[d](self.pools[d].query(fake[d], self.rng))
            loss = 0.5 * self.critic_loss(real_scores, fake_scores)  # halved as in Zhu et al.: D learns slower
            self.log_train(f"critic_loss/{d}", loss)
            self.log_train(f"critic_real/{d}", real_scores.mean())
            self.log_train(f"critic_fake/{d}", fake_scores.mean())
            total = total + loss
        return total

    def generator_terms(self, real: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Unweighted terms by name: `adversarial/b` (G judged by D_b), `cycle/a` (||F(G(x)) - x||),
        `identity/b` (||G(y) - y||, only with identity_weight > 0)."""
        fake = {t: self.generators[f"{s}2{t}"](real[s]) for s, t in self.directions}
        terms: dict[str, torch.Tensor] = {}
        for s, t in self.directions:
            terms[f"adversarial/{t}"] = self.adversarial_loss(self.critics[t](fake[t]))
            terms[f"cycle/{s}"] = cycle_loss(real[s], self.generators[f"{t}2{s}"](fake[t]))
            if self.identity_weight:
                terms[f"identity/{t}"] = identity_loss(real[t], self.generators[f"{s}2{t}"](real[t]))
            if self.semantic_weight:
                terms[f"semantic/{t}"] = self.semantic_loss(real[s], fake[t], s, t)
        return terms

    def semantic_loss(self, source: torch.Tensor, translated: torch.Tensor, s: str, t: str) -> torch.Tensor:
        """CE of the target teacher on the translations against the source labeller's labels of the originals
        (hard), or with a temperature tau^2 KL between the two softened distributions (soft)."""
        # in eval mode (load_digit_classifier); on the device from on_fit_start
        labellers, teachers = self.__dict__["labellers"], self.__dict__["teachers"]
        with torch.no_grad():
            source_logits = labellers[s](to_digit_input(source))
        logits = teachers[t](to_digit_input(translated))
        tau = self.semantic_temperatures.get(t)
        if tau is None:
            return F.cross_entropy(logits, source_logits.argmax(1))
        soft = F.log_softmax(source_logits / tau, dim=1)
        return tau**2 * F.kl_div(F.log_softmax(logits / tau, dim=1), soft, log_target=True, reduction="batchmean")

    def generator_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        real = self.real(batch)
        for d, jitter in self.source_augment.items():  # every term of the step sees the jittered images
            real[d] = jitter(real[d], self.rng)
        terms = self.generator_terms(real)
        weights = {
            "adversarial": 1.0,
            "cycle": self.cycle_weight,
            "identity": self.identity_weight * self.cycle_weight,
            "semantic": self.semantic_weight,
        }
        total = torch.zeros((), device=self.device)
        for name, value in terms.items():
            kind, domain = name.split("/")
            self.log_train(f"{'generator' if kind == 'adversarial' else kind}_loss/{domain}", value)
            total = total + weights[kind] * value
        self.log_train("cycle_loss", sum(v for k, v in terms.items() if k.startswith("cycle/")))
        for kind in ("identity", "semantic"):
            if getattr(self, f"{kind}_weight"):
                self.log_train(f"{kind}_loss", sum(v for k, v in terms.items() if k.startswith(f"{kind}/")))
        return total

    # ----------------------------------------------------------------- translating
    @torch.no_grad()
    def translate(self, images: torch.Tensor, domain: str) -> torch.Tensor:
        """Images of `domain` (any size: resized to the model's, as the data module does) in the other domain."""
        if domain not in self.domains:
            raise ValueError(f"{type(self).__name__} translates from {list(self.domains)}, not {domain!r}.")
        target = next(t for s, t in self.directions if s == domain)
        images = images.to(self.device, torch.float32)
        size = self.image_sizes[domain] if self.image_sizes else images.shape[-1]
        if images.shape[-1] != size:
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        return self.network("generators")[f"{domain}2{target}"](images)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError(
            f"{type(self).__name__} translates images and has no noise to sample from: use "
            f"translate=<domain> with one of {list(self.domains)}."
        )

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """Rows of (x_a, G(x_a), x_b, F(x_b)) for the first n // 4 test images of each domain (Figure 4 of the
        project report), at the larger image size; with a grid of 4 columns each row is one quadruple."""
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        if datamodule is None or not hasattr(datamodule, "fixed_batch"):
            raise RuntimeError("CycleGAN.preview needs its UnpairedDataModule attached (trainer.fit(datamodule=)).")
        fixed = datamodule.fixed_batch(max(1, n // 4))
        k = min(len(x) for x in fixed.values())
        real = {d: x[:k].to(self.device) for d, x in fixed.items()}
        a, b = self.domains
        columns = [real[a], self.translate(real[a], a), real[b], self.translate(real[b], b)]
        side = max(c.shape[-1] for c in columns)
        columns = [c if c.shape[-1] == side else F.interpolate(c, size=(side, side), mode="nearest") for c in columns]
        return torch.stack(columns, dim=1).flatten(0, 1)

    # ----------------------------------------------------------------- fitting checks
    def on_fit_start(self) -> None:
        """The teachers live outside the module tree, so Lightning does not move them: once, here."""
        for teacher in (*self.__dict__["teachers"].values(), *self.__dict__["labellers"].values()):
            teacher.to(self.device)

    def setup(self, stage: str) -> None:
        """Refuse data that is not these two domains, at these sizes, before any step is taken."""
        super().setup(stage)
        datamodule = self.trainer.datamodule
        if stage != "fit" or datamodule is None:
            return
        found = tuple(getattr(datamodule, "names", ()))
        if found != self.domains:
            raise ValueError(
                f"{type(self).__name__} translates between {list(self.domains)} and trains on unpaired batches "
                f"of those domains (data=mnist_usps); {type(datamodule).__name__} provides "
                f"{list(found) or 'single-domain (images, labels) batches'}."
            )
        if self.image_sizes:
            sizes = {d: datamodule.size_of(d) for d in self.domains}
            if sizes != self.image_sizes:
                raise ValueError(f"The model expects image sizes {self.image_sizes}, the data yields {sizes}.")

    # ----------------------------------------------------------------- validation: translation metrics
    def attach_metrics(self, metrics: GenerativeMetrics | TranslationMetrics | None) -> None:
        """The metrics config's extractor decides FID features; accuracy always uses the digit classifiers."""
        if isinstance(metrics, GenerativeMetrics):
            metrics = TranslationMetrics.from_metrics(self.domains, metrics)
        self.__dict__["_metrics"] = metrics

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int, dataloader_idx: int = 0) -> None:
        """Loader i holds domain i's evaluation split (images, labels): its real statistics once, then translations."""
        metrics = self.metrics
        if metrics is None:
            return
        images, labels = batch
        source = self.domains[dataloader_idx]
        if not metrics.has_real:
            metrics.update_real(images, source)
        metrics.update_translated(self.translate(images, source), labels, source)

    def on_validation_epoch_end(self) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        metrics.has_real = True
        values = metrics.compute()
        self.confusion = metrics.confusion()  # for ganzoo.evaluate's per-class report
        metrics.reset()
        self.log_dict({f"val/{k}": v for k, v in values.items()}, sync_dist=True)
        if self.global_rank == 0:  # the result in the terminal and train.log, as the one-domain models do
            shown = ", ".join(f"{k} {float(v):.4g}" for k, v in values.items() if k.startswith("acc_"))
            log.info(f"step {self.global_step}: {shown}")

    # ----------------------------------------------------------------- checkpoints: the pools travel too
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        pools = {}
        for d, pool in self.pools.items():
            images = pool.state_dict()["images"]
            if images is not None and self.trainer.world_size > 1:  # every rank has its own pool
                images = self.all_gather(images.to(self.device)).cpu()
            elif images is not None:
                images = images[None]
            pools[d] = images
        checkpoint["ganzoo"]["pools"] = pools

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        rank = self.global_rank if self._trainer is not None else 0
        for d, images in checkpoint.get("ganzoo", {}).get("pools", {}).items():
            self.pools[d].load_state_dict({"images": None if images is None else images[rank % len(images)]})
