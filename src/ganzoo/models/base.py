"""AdversarialModule: the one training contract every ganzoo model follows.

A *step* is one optimizer update on one training batch: a critic update or a generator update. The base class
cycles through `n_critic` critic steps followed by `n_gen` generator steps, so each update sees a fresh batch (as
in WGAN and OT-GAN), Lightning's `global_step` equals the number of updates, `trainer.max_steps` bounds it, and
every model's curves share one x-axis. It owns that schedule, the two optimizers and their schedulers, the update
counters, the module's random stream `rng` (saved in checkpoints, so that resuming is exact) and the sampling API
that sample grids, validation metrics, `ganzoo.sample` and `ganzoo.evaluate` use.

A subclass writes:
    - `__init__`, assigning its networks (`generator` and `critic`, or others) after `super().__init__(**kwargs)`;
    - `critic_step(batch) -> loss` and `generator_step(batch) -> loss`, drawing all randomness from `self.rng` and
      recording values with `log_train(name, value)` (and `log_critic(real_scores, fake_scores)`).
It may override:
    - `critic_parameters` / `generator_parameters`, when a side has several networks (BiGAN, CycleGAN);
    - `after_critic_step`, e.g. WGAN's weight clipping;
    - `averaged_networks`, the networks EMA averages; mixing in `FakeReuse` (GAN, WGAN) allows `reuse_fakes`;
    - `latent`, `sample`, `preview` (n images, or a (rows, columns, C, H, W) grid, e.g. a row per class); class-
      conditional models mix in `ganzoo.models.conditional.Conditional` (labels beside z: `sample(n, labels=)`);
    - `translate(images, domain)` and `domains` (two-domain models), `encode(images)` and `decode(codes)` (BiGAN);
    - `on_save_checkpoint` / `on_load_checkpoint`, calling `super()`, for state beyond the weights (CycleGAN's pools).
Nothing else of the loop: checkpoints, validation metrics (`ganzoo.callbacks.ValidationMetrics`) and the stop at a
non-finite loss (`ganzoo.callbacks.StopOnNonFinite`) are callbacks. With `ema={"decay": 0.999}` the networks named in
`averaged_networks` get moving averages (`ganzoo.models.ema`), updated after every generator update; what generates
for a user reaches the networks through `network(name)`: the average unless `use_weights("raw")` was called.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule
from torch import nn

from ganzoo.distributed import finish_gloo_work_at_exit
from ganzoo.models.ema import AveragedNetworks
from ganzoo.models.resume import (
    OptimizerFactory,
    continue_stream,
    load_state,
    load_trained,
    retune_saved_optimizers,
    save_state,
)
from ganzoo.random_state import restore_global_rng

log = logging.getLogger(__name__)

SchedulerFactory = Callable[[torch.optim.Optimizer], Any]
PREVIEW_SEED = 0


def real_images(batch: Any) -> torch.Tensor:
    """Datamodules yield (images, labels); models that ignore labels take the images."""
    return batch[0] if isinstance(batch, list | tuple) else batch


class AdversarialModule(AveragedNetworks, LightningModule):
    generator: nn.Module
    critic: nn.Module
    # Whether the model draws its fakes through `FakeReuse`, so that `reuse_fakes` applies.
    can_reuse_fakes = False

    def __init__(
        self,
        optimizer_critic: OptimizerFactory,
        optimizer_generator: OptimizerFactory,
        scheduler_critic: SchedulerFactory | None = None,
        scheduler_generator: SchedulerFactory | None = None,
        n_critic: int = 1,
        n_gen: int = 1,
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
        self.automatic_optimization = False
        self.optimizer_critic, self.optimizer_generator = optimizer_critic, optimizer_generator
        self.scheduler_critic, self.scheduler_generator = scheduler_critic, scheduler_generator
        self.n_critic, self.n_gen = n_critic, n_gen
        self.reuse_fakes = reuse_fakes
        self._kept_fakes: tuple[torch.Tensor, torch.Tensor | None] | None = None  # (z, G(z) with its graph)
        self.critic_updates = self.generator_updates = 0
        self._rng: torch.Generator | None = None
        self._rng_state_to_load: torch.Tensor | None = None
        self._global_rng_to_load: dict[str, Any] | None = None
        self._logged: dict[str, torch.Tensor] = {}
        self.init_ema(ema)

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

    # ----------------------------------------------------------------- the schedule
    @property
    def cycle_position(self) -> int:
        """Where the next update sits in its cycle: 0 to n_critic - 1 for critic steps, then the generator's."""
        return (self.critic_updates + self.generator_updates) % (self.n_critic + self.n_gen)

    @property
    def step_is_critic(self) -> bool:
        """Whether the next update belongs to the critic: n_critic critic steps, then n_gen generator steps."""
        return self.cycle_position < self.n_critic

    def training_step(self, batch: Any, batch_idx: int) -> None:
        critic = self.step_is_critic
        optimizer = self.optimizers()[0 if critic else 1]
        self.toggle_optimizer(optimizer)
        loss = self.critic_step(batch) if critic else self.generator_step(batch)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)  # callbacks see the loss first (StopOnNonFinite)
        optimizer.step()
        self.untoggle_optimizer(optimizer)
        if critic:
            self.critic_updates += 1
            self.after_critic_step()
        else:
            self.generator_updates += 1
            self.update_ema()
        schedulers = self.lr_schedulers() or []
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            if scheduler.optimizer is optimizer.optimizer:
                scheduler.step()
        self.log_train(f"{'critic' if critic else 'generator'}_loss", loss)
        if self.logs_this_step:
            # both phases' latest values together: a logging period that is a multiple of the cycle sees both
            losses = {k: v for k, v in self._logged.items() if k.endswith("_loss")}
            self.log_dict(losses, prog_bar=True)
            self.log_dict({k: v for k, v in self._logged.items() if k not in losses})
            updates = {"critic_updates": self.critic_updates, "generator_updates": self.generator_updates}
            self.log_dict({f"train/{k}": float(v) for k, v in updates.items()})

    def configure_optimizers(self) -> Any:
        critic = self.optimizer_critic(self.critic_parameters())
        generator = self.optimizer_generator(self.generator_parameters())
        pairs = ((self.scheduler_critic, critic), (self.scheduler_generator, generator))
        return [critic, generator], [factory(opt) for factory, opt in pairs if factory is not None]

    # ----------------------------------------------------------------- logging
    def log_train(self, name: str, value: torch.Tensor) -> None:
        """Record `train/<name>`; the latest recorded values go to the loggers whenever they write."""
        self._logged[f"train/{name}"] = value.detach()

    def log_critic(self, real_scores: torch.Tensor, fake_scores: torch.Tensor, domain: str | None = None) -> None:
        """`train/critic_real` and `train/critic_fake` (per domain: `.../<domain>`), the critic's mean scores."""
        suffix = f"/{domain}" if domain else ""
        self.log_train(f"critic_real{suffix}", real_scores.mean())
        self.log_train(f"critic_fake{suffix}", fake_scores.mean())

    @property
    def logs_this_step(self) -> bool:
        """Whether the loggers will write this step, as Lightning decides it (every `log_every_n_steps`), or it is
        the last of the run or of an epoch (so that callbacks see fresh values). Logging every step cost 7-10% of
        a fast DCGAN's step (benchmarks/step_overhead.py) for values the loggers then dropped."""
        trainer, step = self.trainer, self.global_step  # global_step: updates so far, this one included
        every = trainer.log_every_n_steps
        last = step == trainer.max_steps or bool(trainer.is_last_batch)
        return bool(trainer.fast_dev_run) or (every > 0 and step % every == 0) or last

    def setup(self, stage: str) -> None:
        finish_gloo_work_at_exit()  # each rank of a CPU DDP run
        self.build_ema()

    # ----------------------------------------------------------------- randomness and sampling
    @property
    def rng(self) -> torch.Generator:
        """The module's own random stream on its device, one per rank; saved in checkpoints."""
        if self._rng is None or self._rng.device.type != self.device.type:
            rank = self.global_rank if self._trainer is not None else 0
            self._rng = continue_stream(self._rng_state_to_load, self.device, rank)
            self._rng_state_to_load = None
        return self._rng

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal codes z ~ N(0, I) of the generator's latent size."""
        g = generator if generator is not None else self.rng
        return torch.randn(n, self.generator.latent_dim, generator=g, device=g.device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generated images in [-1, 1] from `network("generator")`, in whatever mode it is in."""
        return self.network("generator")(self.latent(n, generator))

    @torch.no_grad()
    def preview(self, n: int) -> torch.Tensor:
        """Images from a fixed latent batch, so that grids of one run are comparable over time."""
        return self.sample(n, torch.Generator(device=self.device).manual_seed(PREVIEW_SEED))

    def translate(self, images: torch.Tensor, domain: str) -> torch.Tensor:
        """Two-domain models (CycleGAN) map images from `domain` to the other domain, in [-1, 1]."""
        raise NotImplementedError(
            f"{type(self).__name__} generates from noise and cannot translate images; translate=<domain> needs a "
            "two-domain model such as CycleGAN."
        )

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Validation measures what the model makes through the API above: see `ganzoo.callbacks.ValidationMetrics`."""

    # ----------------------------------------------------------------- checkpoints
    @classmethod
    def load_from_checkpoint(  # type: ignore[override]
        cls, checkpoint_path: str | Path, map_location: Any = None, **kwargs: Any
    ) -> "AdversarialModule":
        """The trained module, in eval mode, as Lightning users expect: `GAN.load_from_checkpoint(path)`."""
        return load_trained(cls, checkpoint_path, map_location, kwargs)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        save_state(self, checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.build_ema()
        load_state(self, checkpoint)
        if self._trainer is not None and checkpoint.get("optimizer_states"):
            retune_saved_optimizers(
                checkpoint,
                (
                    (self.optimizer_critic, self.critic_parameters, self.scheduler_critic),
                    (self.optimizer_generator, self.generator_parameters, self.scheduler_generator),
                ),
            )

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """The global streams (dropout draws from torch's) are restored here, right before the first step after a
        resume, so that nothing Lightning draws while it sets the loop up comes between."""
        if self._global_rng_to_load is not None:
            if not restore_global_rng(self._global_rng_to_load):
                log.warning("The checkpoint's CUDA random states are for other devices: left as seeded here.")
            self._global_rng_to_load = None
