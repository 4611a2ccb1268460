"""Sweep folder names: what differs between the jobs, short, and typed unquoted after ckpt_path=."""

from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from ganzoo.config import quote_paths
from ganzoo.run_names import MAX_LABEL_BYTES, clip, differing_keys, run_label, short_keys, sweep_subdir

SWEEP = [
    ["experiment=dcgan_mnist_fast", "callbacks.sample_grid.every_n_steps=200", "seed=1", "trainer.max_steps=50"],
    ["experiment=wgan_gp_mnist_fast", "callbacks.sample_grid.every_n_steps=200", "seed=1", "trainer.max_steps=50"],
]


def test_a_sweep_folder_is_named_by_what_differs_between_its_jobs():
    keys = differing_keys(SWEEP)
    assert keys == ["experiment"]
    assert [sweep_subdir(n, job, keys) for n, job in enumerate(SWEEP)] == [
        "0_experiment-dcgan_mnist_fast",
        "1_experiment-wgan_gp_mnist_fast",
    ]
    # a sweep of one job names all its overrides; nothing to name leaves the job number
    (job,) = SWEEP[:1]
    assert sweep_subdir(0, job, differing_keys([job])) == "0_" + run_label(job)
    assert sweep_subdir(3, ["ckpt_path=a/b.ckpt"]) == "3"


def test_keys_are_cut_to_their_shortest_unique_suffix_and_unnamed_keys_left_out():
    keys = ["model.optimizer_critic.lr", "model.optimizer_generator.lr", "model.n_critic", "seed", "model"]
    assert short_keys(keys) == ["optimizer_critic.lr", "optimizer_generator.lr", "n_critic", "seed", "model"]
    overrides = ["+model.critic.width=4", "ckpt_path=x/y.ckpt", "paths.data_dir=/d", "model.n_critic=5"]
    assert run_label(overrides) == "width-4+n_critic-5"
    assert run_label(["~callbacks.sample_grid", "seed=-1"]) == "sample_grid-deleted+seed--1"


@pytest.mark.parametrize(
    "override",
    [
        "model.generator.hidden=[16,16]",
        "+comment='a b=c,d'",
        "model.optimizer_critic.lr=1e-4",
        "data.data_dir=/some/where",
        "model.ema.decay=null",
        "+x={a:1,b:[2,3]}",
        "+note=é(ü)",
    ],
)
def test_every_name_is_one_hydra_string_typed_unquoted_after_ckpt_path(override: str):
    name = sweep_subdir(12, [override, "seed=1"])
    path = f"outputs/multirun/2026-01-01/10-00-00/{name}/checkpoints/last.ckpt"
    parsed = OverridesParser.create().parse_override(f"ckpt_path={path}")
    assert parsed.value() == path and not parsed.is_sweep_override()
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")


def test_long_labels_are_cut_to_distinct_names():
    a, b = (run_label(["model.lr=0.1", "+comment=" + "x" * 300 + tail]) for tail in ("a", "b"))
    assert a != b and len(a.encode()) == len(b.encode()) == MAX_LABEL_BYTES
    assert a.startswith("lr-0.1+comment-xxx") and a[:-11] == b[:-11]
    # a multi-byte character on the cut is dropped whole, never split
    assert len(clip("é" * 300).encode()) <= MAX_LABEL_BYTES


def test_a_checkpoint_path_ganzoo_wrote_is_quoted_for_hydra_and_a_sweep_over_paths_is_not(tmp_path: Path):
    old = tmp_path / "0_model=wgan,seed=1" / "checkpoints" / "last.ckpt"  # a sweep folder of earlier versions
    old.parent.mkdir(parents=True)
    old.write_bytes(b"")
    args = [f"ckpt_path={old}", "ckpt_path=a.ckpt,b.ckpt", "ckpt_path=null", "out=x=1", f"ckpt_path='{old}'"]
    quoted = quote_paths(args)
    assert quoted[0] == f"ckpt_path='{old}'" and quoted[1:] == args[1:]
    assert OverridesParser.create().parse_override(quoted[0]).value() == str(old)
