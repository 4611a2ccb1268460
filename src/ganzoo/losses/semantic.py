"""Semantic consistency of a translation (Hoffman et al., 2018, CyCADA): a frozen classifier of the target domain
must read in the translation the label that a classifier of the source domain reads in the original.

With a temperature tau the labels are soft, as in knowledge distillation (Hinton et al., 2015): the loss is
tau^2 KL(softmax(source / tau) || softmax(target / tau)), so that a digit the source classifier finds ambiguous is
asked to stay as ambiguous, rather than to become a confident copy of its first guess.
"""

import torch
import torch.nn.functional as F


def semantic_consistency_loss(
    source_logits: torch.Tensor, target_logits: torch.Tensor, temperature: float | None = None
) -> torch.Tensor:
    """CE(target_logits, argmax source_logits) (hard labels, `temperature` None), else tau^2 KL of the softened
    distributions. `source_logits` are the labels (no gradient needed); `target_logits` read the translations."""
    if temperature is None:
        return F.cross_entropy(target_logits, source_logits.argmax(1))
    soft = F.log_softmax(source_logits / temperature, dim=1)
    return temperature**2 * F.kl_div(
        F.log_softmax(target_logits / temperature, dim=1), soft, log_target=True, reduction="batchmean"
    )
