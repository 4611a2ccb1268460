"""What a checkpoint holds beyond the weights, so that a resumed run continues exactly: the update counters, every
rank's random streams, fakes kept between two steps, and the optimizers' states under newly configured rates; and
the model rebuilt from a checkpoint alone."""

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.checkpoint import load_model
from ganzoo.random_state import capture_global_rng, derived_seed

log = logging.getLogger(__name__)


def save_state(module: Any, checkpoint: dict[str, Any]) -> None:
    """Write `checkpoint["ganzoo"]`. Every rank saves through here (rank 0 writes), so that each rank's random
    streams are gathered: a collective under DDP."""
    world = module.trainer.world_size
    global_states = [capture_global_rng()]
    if world > 1:
        global_states = [None] * world
        torch.distributed.all_gather_object(global_states, capture_global_rng())
    kept = module._kept_fakes
    checkpoint["ganzoo"] = {
        "critic_updates": module.critic_updates,
        "generator_updates": module.generator_updates,
        "rng_states": per_rank(module, module.rng.get_state().to(module.device)).cpu(),
        "global_rng_states": global_states,
        "config": getattr(module, "run_config", None),
        "overrides": getattr(module, "run_overrides", None),
        # per rank, when saved between a critic step and the generator step that reuses its fakes
        "kept_latents": None if kept is None else per_rank(module, kept[0]).cpu(),
    }


def per_rank(module: Any, tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's `tensor`, stacked rank by rank (a collective under DDP: every rank calls it)."""
    return module.all_gather(tensor) if module.trainer.world_size > 1 else tensor[None]


def load_state(module: Any, checkpoint: dict[str, Any]) -> None:
    """Read `checkpoint["ganzoo"]` into `module`; the streams are set when first drawn from (`rng`, and
    `on_train_batch_start` for the global ones), on the device the run trains on."""
    state = checkpoint.get("ganzoo", {})
    module.critic_updates = state.get("critic_updates", 0)
    module.generator_updates = state.get("generator_updates", 0)
    rank, world = (module.global_rank, module.trainer.world_size) if module._trainer is not None else (0, 1)
    kept = state.get("kept_latents")
    module._kept_fakes = None if kept is None else (kept[rank % len(kept)], None)
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
        module._rng_state_to_load = saved
    global_states = state.get("global_rng_states")
    module._global_rng_to_load = global_states[rank] if global_states and len(global_states) == world else None
    module._rng = None


OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
Side = tuple[OptimizerFactory, Callable[[], Iterable[nn.Parameter]], Any]  # factory, parameters, scheduler factory


def retune_saved_optimizers(checkpoint: dict[str, Any], sides: Iterable[Side]) -> None:
    """Lightning restores the optimizers' hyper-parameters from the checkpoint, which would undo a resume with
    another learning rate or betas; set the configured ones in the saved states instead. A changed learning rate
    rescales the scheduled one (and the schedulers' base rates) by new / old base rate."""
    schedulers = iter(checkpoint.get("lr_schedulers", []))
    for saved, (factory, parameters, scheduler) in zip(checkpoint["optimizer_states"], sides, strict=False):
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


def continue_stream(saved: torch.Tensor | None, device: torch.device, rank: int) -> torch.Generator:
    """A generator on `device` seeded from torch's initial seed and `rank`, continuing `saved` when it was written
    on this device type, else reseeded from it (deterministic, not bit-exact)."""
    generator = torch.Generator(device=device).manual_seed(torch.initial_seed() + rank)
    if saved is not None and saved.numel() == generator.get_state().numel():
        generator.set_state(saved)
    elif saved is not None:
        # written on another device type (a CUDA state is 16 bytes, a CPU one 5056): a stream of its own
        generator.manual_seed(derived_seed(saved, rank))
        log.warning(
            f"The checkpoint's random stream was written on another device type than {device.type}: "
            "reseeded from it, so the resumed run is deterministic but not bit-exact."
        )
    return generator


def load_trained(cls: type, path: str | Path, map_location: Any, overrides: Mapping[str, Any]) -> Any:
    """`cls.load_from_checkpoint`: the networks are objects built from the run config that every ganzoo checkpoint
    carries, not hyper-parameters that Lightning could pass to `__init__`; so this rebuilds them from that config."""
    if overrides:
        raise TypeError(
            f"{cls.__name__}.load_from_checkpoint rebuilds the model from the run config in the checkpoint and "
            f"takes no hyper-parameter overrides; got {sorted(overrides)}."
        )
    model, _ = load_model(path)
    if not isinstance(model, cls):
        raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}.")
    return model.to(map_location) if map_location is not None else model
