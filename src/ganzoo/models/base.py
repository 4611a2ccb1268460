"""AdversarialModule: the one training contract every ganzoo model follows.

A *step* is one optimizer update on one training batch: a critic update or a generator update. The base class
cycles through `n_critic` critic steps followed by `n_gen` generator steps, so each update sees a fresh
batch (as in WGAN and OT-GAN), Lightning's `global_step` equals the number of updates, `trainer.max_steps`
bounds it, and every model's curves share one x-axis.

Subclasses write only `critic_step(batch) -> loss` and `generator_step(batch) -> loss`, log extra values
with `log_train`, draw all randomness from `self.rng` (so that resuming is exact), and may override
`after_critic_step` (weight clipping), `critic_parameters`/`generator_parameters` (several networks per
side) and `sample`/`preview`. Two-domain models also write `translate(images, domain)`.

With `ema={"decay": 0.999}` the networks named in `averaged_networks` get exponential moving averages (see
`ganzoo.models.ema`), updated after every generator update. Whatever generates or translates for a user
(`sample`, `preview`, sample grids, validation metrics, `ganzoo.sample`, `ganzoo.evaluate`) reaches the networks
through `network(name)`, which gives the average unless `use_weights("raw")` was called.

Validation is evaluation: with metrics attached (`attach_metrics`, done by `ganzoo.train` from the `metrics`
config group), the held-out split's real statistics are gathered once and every validation logs `val/fid`,
`val/is`, `val/kid` (and `val/modes` for digit classifiers) on freshly generated samples.
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule
from torch import nn

from ganzoo.metrics import LOGGED, GenerativeMetrics
from ganzoo.models.ema import EMA
from ganzoo.random_state import capture_global_rng, derived_seed, restore_global_rng
from ganzoo.utils import eval_mode, unchanged_buffers

log = logging.getLogger(__name__)


def own_copies(module: nn.Module) -> None:
    """Give this process its own copy of every tensor of `module` that sits in shared memory.

    DDP by spawn pickles the module for each rank, and torch.multiprocessing pickles a CPU tensor by sharing its
    storage. Lightning un-shares the LightningModule's own tree, not the metrics held outside it: every rank would
    add its features into the same sums (counting the other ranks' samples twice after the gather), and
    concurrent `+=` would lose updates at random, which gave a DDP FID of -11.6 or 724.7 for 32.9.
    """
    module._apply(lambda t: t.clone() if t.is_shared() else t)


OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], Any]

PREVIEW_SEED = 0
WEIGHTS = ("ema", "raw")


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; raised after the weights were saved."""


class AdversarialModule(LightningModule):
    generator: nn.Module
    critic: nn.Module
    # The networks that generate for a user, averaged when EMA is on (CycleGAN: "generators", BiGAN adds "encoder").
    averaged_networks: tuple[str, ...] = ("generator",)
    # Whether the model draws its fakes through `critic_fakes`/`generator_fakes`, so `reuse_fakes` applies.
    can_reuse_fakes = False

    def __init__(
        self,
        optimizer_critic: OptimizerFactory,
        optimizer_generator: OptimizerFactory,
        scheduler_critic: SchedulerFactory | None = None,
        scheduler_generator: SchedulerFactory | None = None,
        n_critic: int = 1,
        n_gen: int = 1,
        stop_on_nonfinite: bool = True,
        ema: Mapping[str, Any] | None = None,
        reuse_fakes: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("n_critic", n_critic), ("n_gen", n_gen)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"{name} must be a whole number >= 1 (updates per cycle), got {value!r}. "
                    f"Set it with model.{name}=<int>."
                )
        if reuse_fakes and not self.can_reuse_fakes:
            raise ValueError(
                f"model.reuse_fakes=true is for models whose generator step only scores fresh fakes (GAN, DCGAN, WGAN, "
                f"WGAN-GP); {type(self).__name__} has none to reuse. Leave model.reuse_fakes=false."
            )
        self.reuse_fakes = reuse_fakes
        self._kept_fakes: tuple[torch.Tensor, torch.Tensor | None] | None = None  # (z, G(z) with its graph)
        self.automatic_optimization = False
        self.optimizer_critic = optimizer_critic
        self.optimizer_generator = optimizer_generator
        self.scheduler_critic = scheduler_critic
        self.scheduler_generator = scheduler_generator
        self.n_critic = n_critic
        self.n_gen = n_gen
        self.stop_on_nonfinite = stop_on_nonfinite
        self.critic_updates = 0
        self.generator_updates = 0
        self._rng: torch.Generator | None = None
        self._rng_state_to_load: torch.Tensor | None = None
        self._global_rng_to_load: dict[str, Any] | None = None
        self._logged: dict[str, torch.Tensor] = {}
        # {"decay": 0.999, "warmup": True}; null, or a null decay, turns EMA off
        self.ema_config = dict(ema) if ema and ema.get("decay") is not None else None
        if self.ema_config:
            EMA.check_decay(self.ema_config["decay"])
        self.ema: EMA | None = None
        self.weights = "ema"

    # ----------------------------------------------------------------- what subclasses write
    def critic_step(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError

    def generator_step(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError

    def after_critic_step(self) -> None:
        """Runs after every critic update (WGAN clips its weights here)."""

    def critic_parameters(self) -> Iterable[nn.Parameter]:
        return self.critic.parameters()

    def generator_parameters(self) -> Iterable[nn.Parameter]:
        return self.generator.parameters()

    # ----------------------------------------------------------------- the averaged networks
    def build_ema(self) -> None:
        """Create the averages (once, from the current weights). Called by `setup` and `on_load_checkpoint`,
        which Lightning runs before it loads a state dict, because subclasses only assign their networks after
        `AdversarialModule.__init__`."""
        if self.ema_config and self.ema is None:
            self.ema = EMA({name: getattr(self, name) for name in self.averaged_networks}, **self.ema_config)

    def setup(self, stage: str) -> None:
        self.build_ema()
        if self.metrics is not None:
            own_copies(self.metrics)
        # Refused now, not at the first validation. Translation metrics draw nothing: they translate real images.
        if isinstance(self.metrics, GenerativeMetrics) and self._trainer is not None:
            self.metrics.check_world_size(self.trainer.world_size)

    def use_weights(self, weights: str) -> None:
        """What generates through `network`: "ema" (the default: the averages when EMA is on, else the raw
        weights) or "raw"."""
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {list(WEIGHTS)}, got {weights!r}.")
        if weights == "ema" and not self.ema_config:
            log.info("This model has no EMA (model.ema.decay is null): generating with its raw weights.")
        self.weights = weights

    def network(self, name: str) -> nn.Module:
        """The network `name` that generates for users: its average, unless EMA is off or raw weights were asked."""
        if self.weights == "ema" and self.ema_config:
            self.build_ema()
            assert self.ema is not None
            return self.ema.average(name)
        return getattr(self, name)

    def update_ema(self) -> None:
        if self.ema is None:
            return
        self.ema.update({name: getattr(self, name) for name in self.averaged_networks})
        if self._trainer is not None and self.trainer.world_size > 1:
            # DDP syncs buffers only at the start of a forward, so each rank's BatchNorm statistics have moved on
            # its own shard since; rank 0's averages are the ones every rank keeps.
            for buffer in self.ema.buffers():
                torch.distributed.broadcast(buffer, src=0)

    # ----------------------------------------------------------------- randomness and sampling
    @property
    def rng(self) -> torch.Generator:
        """The module's own random stream on its device; saved in checkpoints so a resumed run continues it."""
        if self._rng is None or self._rng.device.type != self.device.type:
            rank = self.global_rank if self._trainer is not None else 0
            self._rng = torch.Generator(device=self.device).manual_seed(torch.initial_seed() + rank)
            saved = self._rng_state_to_load
            if saved is not None and saved.numel() == self._rng.get_state().numel():
                self._rng.set_state(saved)
            elif saved is not None:
                # written on another device type (a CUDA state is 16 bytes, a CPU one 5056): a stream of its own
                self._rng.manual_seed(derived_seed(saved, rank))
                log.warning(
                    f"The checkpoint's random stream was written on another device type than {self.device.type}: "
                    "reseeded from it, so the resumed run is deterministic but not bit-exact."
                )
            self._rng_state_to_load = None
        return self._rng

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal codes z ~ N(0, I) of the generator's latent size."""
        g = generator if generator is not None else self.rng
        return torch.randn(n, self.generator.latent_dim, generator=g, device=g.device)

    def critic_fakes(self, n: int) -> torch.Tensor:
        """n fakes for a critic step, detached. With `reuse_fakes`, the last critic step of a cycle keeps their
        graph, and the generator step that follows scores these fakes with the updated critic instead of drawing
        new ones (as PyTorch's DCGAN example does): one generator forward less per cycle (docs/time_to_quality.md: the
        WGAN and WGAN-GP presets take it, the DCGAN preset does not)."""
        return self.critic_latents_and_fakes(n)[1]

    def critic_latents_and_fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`critic_fakes` with the latent codes they came from."""
        z = self.latent(n)
        if self.reuse_fakes and self.cycle_position == self.n_critic - 1:  # the last critic step of the cycle
            # the critic phase has switched the generator's gradients off (toggle_optimizer); this graph needs them
            switched_off = [p for p in self.generator_parameters() if not p.requires_grad]
            for p in switched_off:
                p.requires_grad_(True)
            try:
                fake = self.generator(z)
            finally:
                for p in switched_off:
                    p.requires_grad_(False)
            self._kept_fakes = (z, fake)
            return z, fake.detach()
        with torch.no_grad():
            return z, self.generator(z)

    def generator_fakes(self, n: int) -> torch.Tensor:
        """n fakes for a generator step, with their graph: the ones a critic step kept, or new ones."""
        return self.generator_latents_and_fakes(n)[1]

    def generator_latents_and_fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`generator_fakes` with the latent codes they came from."""
        if self._kept_fakes is None:
            z = self.latent(n)
            return z, self.generator(z)
        z, fake = self._kept_fakes
        self._kept_fakes = None
        if fake is None:
            # resumed between the two steps: the generator has not changed since, so G(z) is the same; the critic
            # step has moved BatchNorm's statistics already
            with unchanged_buffers(self.generator):
                fake = self.generator(z.to(self.device))
        return z, fake

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generated images in [-1, 1] from `network("generator")`, in whatever mode it is in."""
        return self.network("generator")(self.latent(n, generator))

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """Images from a fixed latent batch, so that grids of one run are comparable over time."""
        fixed = torch.Generator(device=self.device).manual_seed(PREVIEW_SEED)
        return self.sample(n, fixed)

    def translate(self, images: torch.Tensor, domain: str) -> torch.Tensor:
        """Two-domain models (CycleGAN) map images from `domain` to the other domain, in [-1, 1]."""
        raise NotImplementedError(
            f"{type(self).__name__} generates from noise and cannot translate images; translate=<domain> needs a "
            "two-domain model such as CycleGAN."
        )

    # ----------------------------------------------------------------- logging
    def log_train(self, name: str, value: torch.Tensor) -> None:
        """Record `train/<name>`; every recorded value is logged at every step (see `training_step`)."""
        self._logged[f"train/{name}"] = value.detach()

    # ----------------------------------------------------------------- the schedule
    @property
    def step_is_critic(self) -> bool:
        """Whether the next update belongs to the critic: n_critic critic steps, then n_gen generator steps."""
        return self.cycle_position < self.n_critic

    @property
    def cycle_position(self) -> int:
        """Where the next update sits in its cycle: 0 to n_critic - 1 for critic steps, then the generator's."""
        return (self.critic_updates + self.generator_updates) % (self.n_critic + self.n_gen)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        critic = self.step_is_critic
        phase = "critic" if critic else "generator"
        optimizer = self.optimizers()[0 if critic else 1]
        self.toggle_optimizer(optimizer)
        loss = self.critic_step(batch) if critic else self.generator_step(batch)
        if self.stop_on_nonfinite:
            self._stop_if_nonfinite(loss, phase)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.untoggle_optimizer(optimizer)
        if critic:
            self.critic_updates += 1
            self.after_critic_step()
        else:
            self.generator_updates += 1
            self.update_ema()
        for scheduler in self._schedulers(critic):
            scheduler.step()
        self.log_train(f"{phase}_loss", loss)
        if self.logs_this_step:
            self._log_recorded()

    @property
    def logs_this_step(self) -> bool:
        """Whether the loggers will write this step, as Lightning decides it (every `log_every_n_steps`), or
        it is the last of the run or of an epoch (so that callbacks see fresh values). Logging every step cost
        7-10% of a fast DCGAN's step (benchmarks/step_overhead.py) for values the loggers then dropped."""
        trainer = self.trainer
        every, step = trainer.log_every_n_steps, self.global_step  # global_step: updates so far, this one included
        return (
            bool(trainer.fast_dev_run)
            or (every > 0 and step % every == 0)
            or step == trainer.max_steps
            or bool(trainer.is_last_batch)
        )

    def _log_recorded(self) -> None:
        # Both phases' latest values go out together: the logger samples every `log_every_n_steps`
        # and would otherwise see only one phase when that period is a multiple of the cycle.
        losses = {k: v for k, v in self._logged.items() if k.endswith("_loss")}
        self.log_dict(losses, prog_bar=True)
        self.log_dict({k: v for k, v in self._logged.items() if k not in losses})
        self.log_dict(
            {
                "train/critic_updates": float(self.critic_updates),
                "train/generator_updates": float(self.generator_updates),
            }
        )

    def _schedulers(self, critic: bool) -> list[Any]:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return []
        if not isinstance(schedulers, list):
            schedulers = [schedulers]
        wanted = self.optimizers()[0 if critic else 1].optimizer
        return [s for s in schedulers if s.optimizer is wanted]

    def _stop_if_nonfinite(self, loss: torch.Tensor, phase: str) -> None:
        finite = bool(torch.isfinite(loss).all())
        if self.trainer.world_size > 1:
            finite = self.trainer.strategy.reduce_boolean_decision(finite, all=True)
        if finite:
            return
        step = self.global_step
        callback = self.trainer.checkpoint_callback
        folder = Path(getattr(callback, "dirpath", None) or self.trainer.default_root_dir)
        path = folder / f"nonfinite-step_{step}.ckpt"
        self.trainer.save_checkpoint(path, weights_only=False)
        raise NonFiniteLossError(
            f"train/{phase}_loss became {loss.item()} at step {step} (critic updates {self.critic_updates}, "
            f"generator updates {self.generator_updates}). The weights before this update are in {path}. "
            f"Go on from it with a lower learning rate (python -m ganzoo.train ckpt_path={path} "
            f"model.optimizer_{phase}.lr=...), or check the data; model.stop_on_nonfinite=false trains on regardless."
        )

    # ----------------------------------------------------------------- validation: generative metrics
    @property
    def metrics(self) -> GenerativeMetrics | None:
        return self.__dict__.get("_metrics")

    def attach_metrics(self, metrics: GenerativeMetrics | None) -> None:
        """Evaluate with `metrics` in validation. Held outside the module tree, so that the frozen feature
        network stays out of checkpoints, optimizers and DDP, and any run resumes under any metric choice."""
        self.__dict__["_metrics"] = metrics

    def on_validation_epoch_start(self) -> None:
        if self.metrics is not None:
            with torch.inference_mode(False):  # parameters moved inside inference mode could not be used outside
                self.metrics.to(self.device)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """The real side: this rank's shard of the held-out split, once per run (statistics are kept)."""
        metrics = self.metrics
        if metrics is not None and not metrics.has_real:
            metrics.update(batch[0] if isinstance(batch, list | tuple) else batch, real=True)

    def on_validation_epoch_end(self) -> None:
        """The generated side, on every rank: this rank's share of `metrics.num_samples` images, drawn from
        the metrics' own seeds (never from `self.rng`, so that validating leaves training untouched)."""
        metrics = self.metrics
        if metrics is None:
            return
        metrics.has_real = True
        start = time.perf_counter()
        if self.global_rank == 0:  # tens of seconds on a CPU: say so, rather than leave the bar frozen
            log.info(f"step {self.global_step}: generating {metrics.num_samples} samples for the metrics ...")
        with eval_mode(self):
            metrics.update_generated(self.sample, self.device, self.global_rank, self.trainer.world_size)
        values = metrics.compute()
        metrics.reset()
        self.log_dict({f"val/{k}": v for k, v in values.items() if k in LOGGED}, sync_dist=True)
        if self.global_rank == 0:
            shown = ", ".join(f"{k} {values[k]:.4g}" for k in ("fid", "is", "kid", "modes") if k in values)
            log.info(f"step {self.global_step}: {shown} ({time.perf_counter() - start:.0f} s)")

    # ----------------------------------------------------------------- optimizers
    def configure_optimizers(self) -> Any:
        critic_opt = self.optimizer_critic(self.critic_parameters())
        generator_opt = self.optimizer_generator(self.generator_parameters())
        schedulers = [
            factory(opt)
            for factory, opt in (
                (self.scheduler_critic, critic_opt),
                (self.scheduler_generator, generator_opt),
            )
            if factory is not None
        ]
        return [critic_opt, generator_opt], schedulers

    # ----------------------------------------------------------------- checkpoints
    @classmethod
    def load_from_checkpoint(  # type: ignore[override]
        cls, checkpoint_path: str | Path, map_location: Any = None, **kwargs: Any
    ) -> "AdversarialModule":
        """The trained module, in eval mode, as Lightning users expect: `GAN.load_from_checkpoint(path)`.

        The networks are objects built from the run config that every ganzoo checkpoint carries, not
        hyper-parameters that Lightning could pass to `__init__`; so this rebuilds them from that config.
        """
        from ganzoo.checkpoint import load_model  # ganzoo.checkpoint imports the models

        if kwargs:
            raise TypeError(
                f"{cls.__name__}.load_from_checkpoint rebuilds the model from the run config in the checkpoint and "
                f"takes no hyper-parameter overrides; got {sorted(kwargs)}."
            )
        model, _ = load_model(checkpoint_path)
        if not isinstance(model, cls):
            raise TypeError(f"{checkpoint_path} holds a {type(model).__name__}, not a {cls.__name__}.")
        return model.to(map_location) if map_location is not None else model

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Every rank saves through here (rank 0 writes), so each rank's random streams can be gathered.
        state = self.rng.get_state().to(self.device)
        world = self.trainer.world_size
        states = self._per_rank(state)
        global_states = [capture_global_rng()]
        if world > 1:
            global_states = [None] * world
            torch.distributed.all_gather_object(global_states, capture_global_rng())
        checkpoint["ganzoo"] = {
            "critic_updates": self.critic_updates,
            "generator_updates": self.generator_updates,
            "rng_states": states.cpu(),
            "global_rng_states": global_states,
            "config": getattr(self, "run_config", None),
            "overrides": getattr(self, "run_overrides", None),
            # per rank, when saved between a critic step and the generator step that reuses its fakes
            "kept_latents": None if self._kept_fakes is None else self._per_rank(self._kept_fakes[0]).cpu(),
        }

    def _per_rank(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every rank's `tensor`, stacked rank by rank (a collective under DDP: every rank calls it)."""
        return self.all_gather(tensor) if self.trainer.world_size > 1 else tensor[None]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.build_ema()
        state = checkpoint.get("ganzoo", {})
        self.critic_updates = state.get("critic_updates", 0)
        self.generator_updates = state.get("generator_updates", 0)
        rank, world = (self.global_rank, self.trainer.world_size) if self._trainer is not None else (0, 1)
        kept = state.get("kept_latents")  # per rank: saved between a critic step and the generator step reusing it
        self._kept_fakes = None if kept is None else (kept[rank % len(kept)], None)
        states = state.get("rng_states")
        if states is not None:
            saved = states[rank % len(states)].cpu()
            if len(states) != world:
                # another number of ranks: each rank gets a stream of its own, derived from the saved ones
                log.warning(
                    f"The checkpoint was written by {len(states)} rank(s), this run has {world}: every rank's random "
                    "stream is reseeded from the saved ones, so the run is deterministic but not bit-exact."
                )
                saved = torch.Generator().manual_seed(derived_seed(saved, rank)).get_state()
            self._rng_state_to_load = saved
        if self._trainer is not None and checkpoint.get("optimizer_states"):
            self._retune_saved_optimizers(checkpoint)
        global_states = state.get("global_rng_states")
        self._global_rng_to_load = global_states[rank] if global_states and len(global_states) == world else None
        self._rng = None

    def _retune_saved_optimizers(self, checkpoint: dict[str, Any]) -> None:
        """Lightning restores the optimizers' hyper-parameters from the checkpoint, which would undo a resume
        with another learning rate or betas; set the configured ones in the saved states instead. A changed
        learning rate rescales the scheduled one (and the schedulers' base rates) by new / old base rate."""
        factories = (
            (self.optimizer_critic, self.critic_parameters, self.scheduler_critic),
            (self.optimizer_generator, self.generator_parameters, self.scheduler_generator),
        )
        schedulers = iter(checkpoint.get("lr_schedulers", []))
        for saved, (factory, parameters, scheduler) in zip(checkpoint["optimizer_states"], factories, strict=False):
            scheduler_state = next(schedulers, None) if scheduler is not None else None
            fresh = factory(parameters()).param_groups
            for i, (group, new) in enumerate(zip(saved["param_groups"], fresh, strict=False)):
                base = group.get("initial_lr", group["lr"])
                if new["lr"] != base:
                    scale = new["lr"] / base
                    group["lr"] *= scale
                    if "initial_lr" in group:
                        group["initial_lr"] = new["lr"]
                    for key in ("base_lrs", "_last_lr"):
                        if scheduler_state and key in scheduler_state:
                            scheduler_state[key][i] *= scale
                for key, value in new.items():
                    if key not in ("params", "lr", "initial_lr") and key in group and group[key] != value:
                        group[key] = value

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """The global streams (dropout draws from torch's) are restored here, right before the first step after a
        resume, so that nothing Lightning draws while it sets the loop up comes between."""
        if self._global_rng_to_load is not None:
            if not restore_global_rng(self._global_rng_to_load):
                log.warning("The checkpoint's CUDA random states are for other devices: left as seeded here.")
            self._global_rng_to_load = None
