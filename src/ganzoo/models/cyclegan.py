"""CycleGAN (Zhu et al., 2017): unpaired translation between two image domains, e.g. MNIST <-> USPS.

Generators G: a -> b and F: b -> a, critics D_a and D_b. A critic step updates both critics (one optimizer) on
real images against translations drawn from a history pool (Shrivastava et al., 2017); a generator step updates
both generators (one optimizer) on the least-squares adversarial terms (Mao et al., 2017) L_GAN(G, D_b) +
L_GAN(F, D_a) + lambda L_cyc + identity_weight * lambda L_idt, plus, with `semantic_weight` > 0, CyCADA's
semantic consistency term (Hoffman et al., 2018; `ganzoo.losses.semantic`): frozen digit classifiers of each
domain (`ganzoo.nets.teachers`) must read in G(x_a) the label that domain a's classifier reads in x_a, and
likewise for F. It stops label flipping (a 4 translated into a 9 keeps a low cycle loss) that the other terms
cannot see. `semantic_labellers` ({domain: classifier}) has another classifier label that domain's sources, while
its teacher keeps reading the translations into it. With `source_augment` ({domain: {degrees, translate,
scale}}) the generator step jitters that domain's real images before any term sees them (Simard et al., 2003);
the critics judge real images unjittered. Validation reaches the model through `translate`.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.augment import AffineJitter
from ganzoo.losses import (
    cycle_loss,
    identity_loss,
    least_squares_critic_loss,
    least_squares_generator_loss,
    semantic_consistency_loss,
)
from ganzoo.models.base import AdversarialModule
from ganzoo.models.image_pool import ImagePool, gather_pool
from ganzoo.nets.digits import to_digit_input
from ganzoo.nets.teachers import load_teacher


class CycleGAN(AdversarialModule):
    """`generators` maps "a2b" and "b2a" to networks, `critics` maps each domain to the critic judging it.

    `image_sizes` (side per domain) lets `translate` accept images of any size; `identity_weight` is relative to
    `cycle_weight` (Zhu et al.'s 0.5) and needs equal sizes; `pool_size` images per domain are kept for the
    critics. With EMA both generators are averaged.
    """

    averaged_networks = ("generators",)

    def __init__(
        self,
        generators: Mapping[str, nn.Module],
        critics: Mapping[str, nn.Module],
        domains: Sequence[str] = ("mnist", "usps"),
        image_sizes: Mapping[str, int] | None = None,
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        semantic_weight: float = 0.0,
        semantic_teachers: Mapping[str, str] | None = None,
        semantic_temperature: float | None = None,
        semantic_labellers: Mapping[str, str] | None = None,
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
        self.image_sizes = dict(image_sizes) if image_sizes else None
        if identity_weight and self.image_sizes and self.image_sizes[a] != self.image_sizes[b]:
            raise ValueError(
                f"The identity loss compares G(y) with y, so it needs equal image sizes; got {self.image_sizes}. "
                "Set model.identity_weight=0."
            )
        if semantic_weight < 0:
            raise ValueError(f"model.semantic_weight must be >= 0 (0 turns the term off), got {semantic_weight}.")
        if semantic_temperature is not None and not semantic_temperature > 0:
            raise ValueError(
                "model.semantic_temperature must be > 0 (soft labels), or null for the teachers' hard labels; "
                f"got {semantic_temperature}."
            )
        if semantic_weight and set(semantic_teachers or {}) != {a, b}:
            raise ValueError(
                f"The semantic term needs a teacher classifier per domain: model.semantic_teachers with keys "
                f"{[a, b]} (weights files of `python -m ganzoo.classifier`); got {sorted(semantic_teachers or {})}."
            )
        for key, by_domain in (("semantic_labellers", semantic_labellers), ("source_augment", source_augment)):
            if not set(by_domain or {}) <= {a, b}:
                raise ValueError(f"model.{key} names domains, {[a, b]}; got {sorted(by_domain or {})}.")
        self.generators = nn.ModuleDict(dict(generators))
        self.critics = nn.ModuleDict(dict(critics))
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.pools = {d: ImagePool(pool_size) for d in self.domains}
        self.semantic_weight = semantic_weight
        self.semantic_temperature = semantic_temperature
        self.source_augment = {d: AffineJitter.from_settings(v) for d, v in (source_augment or {}).items() if v}
        # Frozen and outside the module tree: never in checkpoints, optimizers or DDP. Each domain's teacher labels
        # its sources too, unless a labeller is named for it.
        teachers = {d: load_teacher(p) for d, p in (semantic_teachers or {}).items()} if semantic_weight else {}
        labellers = {d: load_teacher(p) for d, p in (semantic_labellers or {}).items()} if teachers else {}
        self.__dict__["teachers"], self.__dict__["labellers"] = teachers, teachers | labellers

    def critic_parameters(self) -> Iterable[nn.Parameter]:
        return self.critics.parameters()

    def generator_parameters(self) -> Iterable[nn.Parameter]:
        return self.generators.parameters()

    # ----------------------------------------------------------------- the two phases
    def critic_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        real = dict(zip(self.domains, batch, strict=True))
        with torch.no_grad():
            fake = {t: self.generators[f"{s}2{t}"](real[s]) for s, t in self.directions}
        total = torch.zeros((), device=self.device)
        for d in self.domains:
            real_scores = self.critics[d](real[d])
            fake_scores = self.critics[d](self.pools[d].query(fake[d], self.rng))
            loss = 0.5 * least_squares_critic_loss(real_scores, fake_scores)  # halved as in Zhu et al.: D learns slower
            self.log_train(f"critic_loss/{d}", loss)
            self.log_critic(real_scores, fake_scores, domain=d)
            total = total + loss
        return total

    def generator_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        real = dict(zip(self.domains, batch, strict=True))
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
        for kind in ("cycle", "identity", "semantic"):
            if kind == "cycle" or getattr(self, f"{kind}_weight"):
                self.log_train(f"{kind}_loss", sum(v for k, v in terms.items() if k.startswith(f"{kind}/")))
        return total

    def generator_terms(self, real: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Unweighted terms by name: `adversarial/b` (G judged by D_b), `cycle/a` (||F(G(x)) - x||),
        `identity/b` (||G(y) - y||) and `semantic/b` (f_b reading G(x)), the last two only when weighted."""
        fake = {t: self.generators[f"{s}2{t}"](real[s]) for s, t in self.directions}
        terms: dict[str, torch.Tensor] = {}
        for s, t in self.directions:
            terms[f"adversarial/{t}"] = least_squares_generator_loss(self.critics[t](fake[t]))
            terms[f"cycle/{s}"] = cycle_loss(real[s], self.generators[f"{t}2{s}"](fake[t]))
            if self.identity_weight:
                terms[f"identity/{t}"] = identity_loss(real[t], self.generators[f"{s}2{t}"](real[t]))
            if self.semantic_weight:
                with torch.no_grad():  # in eval mode (load_teacher); on the device from on_fit_start
                    labels = self.__dict__["labellers"][s](to_digit_input(real[s]))
                reading = self.__dict__["teachers"][t](to_digit_input(fake[t]))
                terms[f"semantic/{t}"] = semantic_consistency_loss(labels, reading, self.semantic_temperature)
        return terms

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
        """Rows of (x_a, G(x_a), x_b, F(x_b)) for the first n // 4 held-out images of each domain, at the larger
        image size; with a grid of 4 columns each row is one quadruple."""
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

    def on_fit_start(self) -> None:
        """The teachers live outside the module tree, so Lightning does not move them: once, here."""
        for teacher in (*self.__dict__["teachers"].values(), *self.__dict__["labellers"].values()):
            teacher.to(self.device)

    # ----------------------------------------------------------------- checkpoints: the pools travel too
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["ganzoo"]["pools"] = {d: gather_pool(pool, self) for d, pool in self.pools.items()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        rank = self.global_rank if self._trainer is not None else 0
        for d, images in checkpoint.get("ganzoo", {}).get("pools", {}).items():
            self.pools[d].load_state_dict({"images": None if images is None else images[rank % len(images)]})
