"""Learning-rate factors for torch.optim.lr_scheduler.LambdaLR, as objects so that checkpoints keep them."""


class ConstantThenLinearDecay:
    """1 for `constant` updates, then falling linearly to 0 over `decay` more (Zhu et al.'s CycleGAN schedule).

    The base class steps a side's scheduler once per update of that side, so both counts are in that side's
    updates (a run of S steps with n_critic = n_gen = 1 makes S / 2 updates per side).
    """

    def __init__(self, constant: int, decay: int) -> None:
        if constant < 0 or decay < 1:
            raise ValueError(f"constant must be >= 0 and decay >= 1 updates, got {constant} and {decay}.")
        self.constant = constant
        self.decay = decay

    def __call__(self, update: int) -> float:
        return max(0.0, 1.0 - max(0, update - self.constant) / self.decay)
