"""What TensorBoard shows beyond scalars: an HPARAMS table of every run with its results, and charts that put
curves meant to be compared (real against fake critic scores, one domain against the other) on one plot."""

from collections.abc import Mapping
from typing import Any

from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard.summary import hparams

from ganzoo.checkpoint import flat_settings

# Columns of the HPARAMS table; TensorBoard fills each with the run's latest value of that scalar tag.
RESULT_TAGS = (
    "val/fid",
    "val/is",
    "val/kid",
    "val/modes",
    "val/acc",
    "val/acc_mnist2usps",
    "val/acc_usps2mnist",
    "train/critic_loss",
    "train/generator_loss",
    "train/wasserstein",
)
# Custom-scalars layout (tags are regular expressions): one chart per group of curves that belong together.
LAYOUT = {
    "critic": {
        "real vs fake": ["Multiline", [r"train/critic_(real|fake)$"]],
        "real vs fake, per domain": ["Multiline", [r"train/critic_(real|fake)/.*"]],
    },
    "per domain": {
        "critic loss": ["Multiline", [r"train/critic_loss/.*"]],
        "generator loss": ["Multiline", [r"train/generator_loss/.*"]],
        "cycle loss": ["Multiline", [r"train/cycle_loss/.*"]],
        "accuracy": ["Multiline", [r"val/acc_.*"]],
    },
}


def _hparam_value(value: Any) -> bool | int | float | str:
    return value if isinstance(value, bool | int | float | str) else str(value)


def write_run_summary(logger: TensorBoardLogger, config: Mapping[str, Any]) -> None:
    """The run's settings (flattened: `model.critic.width`) with the result tags as the HPARAMS metrics, and
    the custom-scalars layout; both at step 0, into the run's own event file."""
    settings = {key: _hparam_value(value) for key, value in flat_settings(config).items()}
    writer = logger.experiment._get_file_writer()
    for summary in hparams(settings, dict.fromkeys(RESULT_TAGS, 0.0)):
        writer.add_summary(summary)
    logger.experiment.add_custom_scalars(LAYOUT)
