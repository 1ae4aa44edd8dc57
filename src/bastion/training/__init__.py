"""Training of the learned tiers (never imported by the serving path).

:func:`train_prompt_classifier` fits the tier-1 prompt classifier and writes its artifact,
model card and HTML report; ``bastion train prompt-classifier`` runs it from the shell.
"""

from bastion.training.prompt_classifier import (
    Encoder,
    TrainResult,
    TrainSettings,
    train_prompt_classifier,
)

__all__ = ["Encoder", "TrainResult", "TrainSettings", "train_prompt_classifier"]
