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
