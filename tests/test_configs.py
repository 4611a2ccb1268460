"""Every config option composes, every model/data pair instantiates, typos fail with Hydra's message."""

from itertools import permutations

import pytest
import torch
from hydra.errors import ConfigCompositionException, InstantiationException, MissingConfigException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from ganzoo.config import ConfigError, check_ddp_in_sweep, config_dir

GROUPS = ["model", "data", "trainer", "logger", "callbacks", "experiment"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


# Models built for one kind of data (e.g. two domains) list the data they cannot take here.
TWO_DOMAIN_MODELS, TWO_DOMAIN_DATA = {"cyclegan", "cyclegan_report", "cyclegan_asym"}, {"mnist_usps"}
INCOMPATIBLE: set[tuple[str, str]] = {
    (m, d) for m in options("model") for d in options("data") if (m in TWO_DOMAIN_MODELS) != (d in TWO_DOMAIN_DATA)
}
PAIRS = [(m, d) for m in options("model") for d in options("data") if (m, d) not in INCOMPATIBLE]


@pytest.mark.parametrize(("group", "option"), [(g, o) for g in GROUPS for o in options(g)])
def test_every_option_composes(make_config, group: str, option: str):
    cfg = make_config(f"{group}={option}")
    assert cfg.trainer._target_ == "lightning.pytorch.Trainer"
    assert {"model", "data", "trainer", "paths", "seed", "ckpt_path"} <= set(cfg)


@pytest.mark.parametrize(("model", "data"), PAIRS)
def test_every_model_data_pair_instantiates(make_config, model: str, data: str):
    cfg = make_config(f"model={model}", f"data={data}")
    module = instantiate(cfg.model)
    datamodule = instantiate(cfg.data)
    assert datamodule.batch_size == cfg.data.batch_size
    if model in TWO_DOMAIN_MODELS:  # translators map each domain's images to the other domain's shape
        for (name, source), (_, target) in permutations(datamodule.domains.items()):
            x = torch.zeros(2, source.channels, source.image_size, source.image_size)
            assert module.translate(x, name).shape == (2, target.channels, target.image_size, target.image_size)
        return
    assert module.sample(2).shape == (2, cfg.data.channels, cfg.data.image_size, cfg.data.image_size)


@pytest.mark.parametrize("trainer", ["default", "cpu", "ddp_cpu"])
def test_cpu_trainers_instantiate_with_our_sampler_setting(make_config, trainer: str):
    t = instantiate(make_config(f"trainer={trainer}").trainer)
    assert t.max_epochs == 10 and t.max_steps == -1
    assert t.world_size == (2 if trainer == "ddp_cpu" else 1)


def test_stable_keys_exist(make_config):
    cfg = make_config()
    for key in ("data.batch_size", "data.num_workers", "paths.data_dir", "trainer.max_steps", "trainer.max_epochs"):
        assert OmegaConf.select(cfg, key, throw_on_missing=True) is not None, key


def test_typo_in_group_option_names_the_choices(make_config):
    with pytest.raises(MissingConfigException, match="model/dcgna") as info:
        make_config("model=dcgna")
    assert "dcgan" in str(info.value)


def test_typo_in_key_is_refused(make_config):
    with pytest.raises(ConfigCompositionException, match=r"trainer\.max_stepz"):
        make_config("trainer.max_stepz=3")


@pytest.mark.parametrize("bad", ["0", "-2", "1.5", "true"])
def test_bad_n_critic_fails_before_training(make_config, bad: str):
    cfg = make_config(f"model.n_critic={bad}")
    with pytest.raises(InstantiationException, match=r"n_critic must be a whole number >= 1.*model\.n_critic"):
        instantiate(cfg.model)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.generator_loss=wasserstein", "minimax"),
        ("model.critic_loss=lsgan", "hinge"),
        ("model.r1_gamma=-1", "r1"),
    ],
)
def test_unknown_losses_and_a_negative_r1_weight_are_refused(make_config, override, named):
    with pytest.raises(InstantiationException, match=named):
        instantiate(make_config(*override.split()).model)


@pytest.mark.parametrize(
    ("trainer", "multirun", "env", "refused"),
    [
        ("ddp", True, {}, True),  # would restart the sweep once per extra GPU
        ("ddp", False, {}, False),
        ("ddp", True, {"SLURM_JOB_ID": "7"}, False),  # SLURM starts the ranks, Lightning starts none
        ("ddp_cpu", True, {}, False),  # spawn
        ("default", True, {}, False),
    ],
)
def test_relaunching_ddp_is_refused_inside_a_local_sweep(make_config, trainer, multirun, env, refused):
    cfg = make_config(f"trainer={trainer}")
    if refused:
        with pytest.raises(ConfigError, match="ddp_spawn_find_unused_parameters_true"):
            check_ddp_in_sweep(cfg, multirun, env)
    else:
        check_ddp_in_sweep(cfg, multirun, env)


def test_spectral_norm_is_refused_under_a_spawned_strategy_with_the_way_out(make_config):
    from ganzoo.validate import check_config

    check_config(make_config("model=projection", "trainer=cpu"))
    with pytest.raises(ConfigError, match=r"model.critic.spectral_norm=true cannot run under .*spawn.*trainer=ddp"):
        check_config(make_config("model=projection", "trainer=ddp_cpu"))


def test_digit_metrics_refuse_cifar10(make_config):
    from ganzoo.metrics import build_metrics

    with pytest.raises(ConfigError, match="metrics=inception"):
        build_metrics(make_config("model=dcgan", "data=cifar10").metrics)


def test_callbacks_compose_one_file_each_and_can_be_added_or_removed(make_config):
    default = [
        "model_checkpoint",
        "validation_metrics",
        "stop_on_nonfinite",
        "sample_grid",
        "lr_monitor",
        "rich_progress_bar",
        "model_summary",
    ]
    assert list(make_config().callbacks) == default
    added = make_config("callbacks=[default,best_checkpoint]")
    assert list(added.callbacks) == [*default, "best_checkpoint"]
    assert (added.callbacks.best_checkpoint.monitor, added.callbacks.best_checkpoint.mode) == ("val/fid", "min")
    translation = make_config("model=cyclegan", "data=mnist_usps", "callbacks=[default,best_checkpoint]")
    assert (translation.callbacks.best_checkpoint.monitor, translation.callbacks.best_checkpoint.mode) == (
        "val/acc",
        "max",
    )
    assert list(make_config("~callbacks.sample_grid").callbacks) == [c for c in default if c != "sample_grid"]
    assert list(make_config("callbacks=[model_checkpoint,rich_progress_bar]").callbacks) == [
        "model_checkpoint",
        "rich_progress_bar",
    ]
    assert not make_config("callbacks=none").callbacks


# Every metric a run logs, with the direction in which it improves (by its definition, not by ganzoo's rule).
DIRECTIONS = {
    "val/fid": "min",  # a distance between feature distributions
    "val/kid": "min",
    "val/is": "max",  # exp of a KL divergence: higher is more distinct, more confident classes
    "val/modes": "max",  # classes that receive samples
    "val/precision": "max",
    "val/recall": "max",
    "val/density": "max",
    "val/coverage": "max",
    "val/acc": "max",
    "val/acc_mnist2usps": "max",
    "val/acc_usps2mnist": "max",
    "val/fid_mnist2usps": "min",
    "val/fid_usps2mnist": "min",
    "val/cond_acc": "max",  # generated images read as the class asked for
    "val/cond_acc_3": "max",
    "val/intra_fid": "min",
    "val/intra_fid_3": "min",
    "val/code_acc": "max",  # InfoGAN's codes matched to the classes
    "val/probe_acc": "max",
    "val/reconstruction_error": "min",
    "train/critic_loss": "min",
    "train/generator_loss": "min",
}


@pytest.mark.parametrize(("metric", "direction"), sorted(DIRECTIONS.items()))
def test_every_monitored_metric_improves_in_the_direction_that_checkpoints_and_sweeps_use(
    make_config, metric, direction
):
    from ganzoo.config import objective_mode

    assert objective_mode(metric) == direction
    # and the best-checkpoint callback takes that mode when it monitors the metric
    cfg = make_config("callbacks=[default,best_checkpoint]", f"optimized_metric={metric}")
    assert cfg.callbacks.best_checkpoint.mode == direction


def test_every_logged_metric_has_a_direction():
    from ganzoo.metrics import LOGGED
    from ganzoo.metrics.generative import PER_CLASS

    stds = {"is_std", "kid_std"}  # spreads over subsets, never monitored
    assert {f"val/{name}" for name in (*LOGGED, *PER_CLASS) if name not in stds} <= DIRECTIONS.keys()
