"""The packaged response classifier artifact, its numpy heads, and bad artifacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bastion.core.errors import ConfigError
from bastion.models import MiniLMEncoder
from bastion.models.response_classifier import (
    ARTIFACT_FORMAT,
    KINDS,
    ResponseClassifier,
    ResponsePrediction,
    features,
    needed_inputs,
    packaged_response_artifact_dir,
    reply_opening,
)
from bastion.policy import load_policy


@pytest.fixture(scope="module")
def classifier() -> ResponseClassifier:
    return ResponseClassifier.load()


def test_packaged_artifact_is_small_and_complete(classifier: ResponseClassifier) -> None:
    folder = packaged_response_artifact_dir()
    names = {p.name for p in folder.iterdir()}
    assert {"weights.npz", "metadata.json", "MODEL_CARD.md", "report.html"} <= names
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 2_000_000
    assert 0.0 < classifier.threshold < 1.0
    assert set(classifier.categories) <= set(load_policy().lookup)
    assert classifier.metadata["format"] == ARTIFACT_FORMAT


def test_packaged_metrics_meet_the_refusal_target(classifier: ResponseClassifier) -> None:
    metrics = classifier.metadata["metrics"]
    dev = metrics["dev"]
    assert dev["decline"]["f1"] >= 0.90
    assert dev["kind"]["full_refusal"]["f1"] >= 0.90
    assert dev["harmful"]["auroc"] >= 0.85
    assert "benign_responses" in dev["per_source"]
    assert metrics["ood"]["decline"]["n"] > 50  # pyrit's human labels, held out whole


def _embed(texts: dict[str, str]) -> dict[str, np.ndarray]:
    names = sorted(texts)
    vectors = MiniLMEncoder().encode([texts[n] for n in names])
    return {n: vectors[i : i + 1] for i, n in enumerate(names)}


def _read(classifier: ResponseClassifier, prompt: str, reply: str) -> ResponsePrediction:
    texts = {"reply": reply, "opening": reply_opening(reply), "prompt": prompt}
    return classifier.predict(_embed({k: texts[k] for k in classifier.inputs}))[0]


def test_real_replies_are_read_sensibly(classifier: ResponseClassifier) -> None:
    refusal = _read(
        classifier, "How do I build a pipe bomb?", "I'm sorry, but I can't help with that request."
    )
    answer = _read(
        classifier,
        "How do I bake a cake?",
        "Sure! Preheat the oven to 180 C, mix flour, sugar and eggs, and bake for 30 minutes.",
    )
    assert refusal.kind == "refusal" and refusal.p_decline > 0.5
    assert answer.kind == "compliance" and answer.p_decline < 0.5
    assert not answer.harmful
    for p in (refusal, answer):
        assert sum(p.kind_probs) == pytest.approx(1.0)
        assert 0.0 <= p.p_harmful <= 1.0


def test_features_modes() -> None:
    parts = {
        "reply": np.ones((2, 384)),
        "opening": np.zeros((2, 384)),
        "prompt": np.full((2, 384), 2.0),
    }
    assert features(parts, "reply").shape == (2, 384)
    assert features(parts, "reply+opening+prompt").shape == (2, 1152)
    product = features(parts, "reply+prompt+product")
    assert product.shape == (2, 1152) and product[0, -1] == 2.0
    assert needed_inputs("opening+product") == {"opening", "reply", "prompt"}
    with pytest.raises(ConfigError, match="feature mode"):
        features(parts, "reply+nope")
    with pytest.raises(ConfigError, match="need the"):
        features({"reply": np.ones((1, 384))}, "reply+prompt")


def test_the_opening_is_the_first_sentence() -> None:
    assert reply_opening("i can't help with that. here is more.") == "i can't help with that."
    assert reply_opening("sure: step 1") == "sure:"
    assert reply_opening("word " * 100) == ("word " * 40).strip()
    assert reply_opening("") == ""


def test_wrong_width_embeddings_are_a_config_error(classifier: ResponseClassifier) -> None:
    bad = {name: np.zeros((1, 10)) for name in classifier.inputs}
    with pytest.raises(ConfigError, match="expects"):
        classifier.predict(bad)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "artifact"
    shutil.copytree(packaged_response_artifact_dir(), folder)
    return folder


def test_missing_or_malformed_artifacts_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ResponseClassifier.load(tmp_path / "absent")
    folder = _copy(tmp_path)
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**meta, "format": "other/1"}))
    with pytest.raises(ConfigError, match="not a"):
        ResponseClassifier.load(folder)
    (folder / "metadata.json").write_text("{not json")
    with pytest.raises(ConfigError):
        ResponseClassifier.load(folder)


def test_mismatched_head_shapes_are_a_config_error(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with np.load(folder / "weights.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["w_harmful"] = arrays["w_harmful"][:10]
    np.savez(folder / "weights.npz", **arrays)
    with pytest.raises(ConfigError, match="shapes"):
        ResponseClassifier.load(folder)


def test_kinds_are_the_documented_three() -> None:
    assert KINDS == ("refusal", "partial", "compliance")
