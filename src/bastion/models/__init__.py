"""Learned models served on the guard path (torch-free: onnxruntime, tokenizers, numpy).

- :class:`MiniLMEncoder`: all-MiniLM-L6-v2 sentence embeddings on int8 ONNX.
- :class:`PromptClassifier`: the tier-1 prompt classifier head (numpy only).
- :class:`FakeEncoder` (in :mod:`bastion.models.fakes`): a hashing stand-in for tests.
"""

from bastion.models.encoder import EMBEDDING_DIM, MiniLMEncoder
from bastion.models.prompt_classifier import (
    PromptClassifier,
    PromptPrediction,
    packaged_artifact_dir,
)

__all__ = [
    "EMBEDDING_DIM",
    "MiniLMEncoder",
    "PromptClassifier",
    "PromptPrediction",
    "packaged_artifact_dir",
]
