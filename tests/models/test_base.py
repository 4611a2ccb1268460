"""AdversarialModule: each phase updates only its network; sampling leaves the training stream alone."""

import torch

from ganzoo.train import build
from helpers import SMALL_DATA, TINY


def _fit(make_config, steps: int, run: str):
    trainer, model, datamodule = build(make_config(*TINY["dcgan"], *SMALL_DATA, f"trainer.max_steps={steps}", run=run))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    trainer.fit(model, datamodule=datamodule)
    moved = {k: not torch.equal(v, before[k]) for k, v in model.named_parameters()}
    return model, moved


def test_a_critic_step_leaves_the_generator_alone_and_a_generator_step_the_critic(make_config):
    _, moved = _fit(make_config, 1, "one")  # one critic update
    assert all(v for k, v in moved.items() if k.startswith("critic."))
    assert not any(v for k, v in moved.items() if k.startswith("generator."))

    model, moved_two = _fit(make_config, 2, "two")  # then one generator update
    assert all(v for k, v in moved_two.items() if k.startswith("generator."))
    assert all(p.requires_grad for p in model.parameters())  # toggling was undone


def test_preview_is_fixed_and_does_not_consume_the_training_stream(make_config):
    _, model, _ = build(make_config(*TINY["dcgan"], *SMALL_DATA))
    model.eval()
    state = model.rng.get_state().clone()
    a, b = model.preview(4), model.preview(4)
    assert torch.equal(a, b)
    assert torch.equal(model.rng.get_state(), state)
    assert not torch.equal(model.sample(4), model.sample(4))  # the training stream moves on


def test_a_random_state_from_another_device_type_reseeds_deterministically_with_a_warning(make_config, caplog):
    states = []
    for _ in range(2):
        _, model, _ = build(make_config(*TINY["dcgan"], *SMALL_DATA))
        cuda_like = torch.arange(16, dtype=torch.uint8)  # a CUDA generator's state is 16 bytes, a CPU one's 5056
        model.on_load_checkpoint({"ganzoo": {"rng_states": cuda_like[None]}})
        with caplog.at_level("WARNING"):
            states.append(model.rng.get_state())  # no crash
    assert "another device type" in caplog.text and "not bit-exact" in caplog.text
    assert torch.equal(states[0], states[1])  # deterministic


def test_a_resume_on_more_ranks_gives_each_rank_its_own_stream(make_config, caplog):
    _, model, _ = build(make_config(*TINY["dcgan"], *SMALL_DATA))
    saved = torch.Generator().manual_seed(5).get_state()
    streams = []
    for rank in (0, 1):
        model._trainer = type("FakeTrainer", (), {"world_size": 2, "global_rank": rank})()
        with caplog.at_level("WARNING"):
            model.on_load_checkpoint({"ganzoo": {"rng_states": saved[None]}})  # written by one rank
        streams.append(model._rng_state_to_load)
    model._trainer = None
    assert "written by 1 rank(s), this run has 2" in caplog.text
    assert not torch.equal(streams[0], streams[1])
