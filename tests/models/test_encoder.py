"""The torch-free MiniLM encoder: shapes, geometry, hostile input and the hash pin."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bastion.core.errors import ConfigError
from bastion.models.encoder import MODEL_SHA256, MiniLMEncoder, packaged_model_path


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder(threads=1)


def test_shape_dtype_and_unit_length(encoder: MiniLMEncoder) -> None:
    vectors = encoder.encode(["hello world", "a longer sentence about the weather today"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated(encoder: MiniLMEncoder) -> None:
    a, b, c = encoder.encode(
        [
            "How do I kill a stuck Python process?",
            "How can I terminate a frozen program?",
            "A recipe for banana bread",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_batching_does_not_change_embeddings(encoder: MiniLMEncoder) -> None:
    texts = ["short", "a somewhat longer text that needs padding in a batch"]
    together = encoder.encode(texts, batch_size=2)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


@pytest.mark.parametrize(
    "text", ["", "\ud800 lone surrogate", "\x00\x01", "🙂" * 1000, "A" * 50_000]
)
def test_hostile_input(encoder: MiniLMEncoder, text: str) -> None:
    vector = encoder.encode([text])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_a_changed_model_byte_raises_config_error(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(packaged_model_path(), copy)
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="sha256"):
        MiniLMEncoder(model=copy, model_sha256=MODEL_SHA256).encode(["x"])


def test_threads_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        MiniLMEncoder(threads=0)


def test_concurrent_length_sorted_batches_keep_input_order(encoder: MiniLMEncoder) -> None:
    texts = ["a much longer sentence about the weather in Lisbon today " * 3, "hi", "", "ok"] * 5
    parallel = MiniLMEncoder(workers=2).encode(texts, batch_size=3)
    np.testing.assert_allclose(parallel, encoder.encode(texts, batch_size=32), atol=1e-5)
    np.testing.assert_allclose(parallel[1], parallel[5], atol=1e-6)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        MiniLMEncoder(workers=0)


def test_bulk_arena_gives_the_same_embeddings(encoder: MiniLMEncoder) -> None:
    texts = ["kill a python process", "a recipe for banana bread", "", "x" * 300]
    bulk = MiniLMEncoder(workers=2, arena=True).encode(texts, batch_size=2)
    np.testing.assert_allclose(bulk, encoder.encode(texts), atol=1e-5)


def test_batches_group_texts_of_similar_length() -> None:
    from bastion.models.encoder import _batches

    texts = ["short", "tiny", "x" * 500, "y" * 520, "z" * 30]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    groups = _batches(order, texts, 32)
    assert groups == [[1, 0, 4], [2, 3]]  # the windows do not pad the sentence chunks
    assert [len(g) for g in _batches(order, texts, 2)] == [2, 1, 2]
