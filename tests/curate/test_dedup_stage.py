"""The dedup stage: exact and near copies are dropped naming the kept row, different texts
that share a sentence are kept, every verdict names its cluster, resumed rows count, and
features are picklable and the same in every process."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.core.errors import ConfigError
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, parse_document
from bastion.curate.stages.base import CorpusStage, StageDeps
from bastion.curate.stages.dedup import (
    DedupFeature,
    DedupOptions,
    DedupStage,
    gram_hashes,
    normalise,
    split_words,
)
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict
from bastion.policy import Policy

_VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "pu", "ra", "si", "tu") for b in "abcdefgh"]


def _prose(seed: int, words: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) + rng.choice(("", "", "", ",", ".")) for _ in range(words))


def _changed(text: str, positions: list[int]) -> str:
    words = text.split()
    for position in positions:
        words[position] = "CHANGED"
    return " ".join(words)


@pytest.fixture(scope="module")
def deps(policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], tmp_path_factory.mktemp("d"))


def _stage(deps: StageDeps, **options: Any) -> DedupStage:
    return DedupStage(DedupOptions(**options), deps)


def _doc(text: str, line: int) -> Document:
    return parse_document({"text": text}, shard="s.jsonl", line=line)


def _observe(stage: DedupStage, texts: list[str]) -> list[StageVerdict]:
    docs = [_doc(text, line) for line, text in enumerate(texts, start=1)]
    features = stage.features(docs)
    return [stage.observe(CuratedRow(d, ()), f) for d, f in zip(docs, features, strict=True)]


def test_is_a_corpus_stage_that_keeps_distinct_rows(deps: StageDeps) -> None:
    stage = _stage(deps)
    assert isinstance(stage, CorpusStage)
    assert stage.name == "dedup"
    verdicts = _observe(stage, [_prose(1), _prose(2), _prose(3)])
    assert [v.action for v in verdicts] == [RowAction.KEEP] * 3
    assert [v.details for v in verdicts] == [{"cluster": f"s.jsonl:{i}"} for i in (1, 2, 3)]


def test_exact_copy_up_to_case_and_whitespace_is_dropped(deps: StageDeps) -> None:
    text = _prose(1)
    first, copy = _observe(_stage(deps), [text, "  " + text.upper().replace(" ", "\n\t ")])
    assert first.action is RowAction.KEEP
    assert copy == StageVerdict(
        "dedup",
        RowAction.DROP,
        score=1.0,
        reason="exact_duplicate",
        rule="dedup.exact",
        evidence="s.jsonl:1",
        details={"cluster": "s.jsonl:1"},
    )


def test_near_copy_with_a_few_words_changed_is_dropped(deps: StageDeps) -> None:
    text = _prose(7)
    _, near = _observe(_stage(deps), [text, _changed(text, [40, 150, 260])])
    assert near.action is RowAction.DROP
    assert near.reason == "near_duplicate"
    assert near.rule == "dedup.jaccard>=0.8"
    assert near.evidence == "s.jsonl:1"
    assert near.details == {"cluster": "s.jsonl:1"}
    assert near.score is not None and 0.8 <= near.score < 1.0


def test_punctuation_does_not_hide_a_copy(deps: StageDeps) -> None:
    text = _prose(8)
    _, copy = _observe(_stage(deps), [text, text.replace(",", ";").replace(".", "!")])
    assert copy.reason == "near_duplicate"
    assert copy.score == 1.0


def test_heavily_edited_text_and_a_shared_sentence_are_kept(deps: StageDeps) -> None:
    sentence = "the committee met on tuesday to discuss the budget for the coming year."
    texts = [_prose(1, 120) + " " + sentence, sentence + " " + _prose(2, 120)]
    texts.append(_changed(_prose(1, 120), list(range(0, 120, 4))))  # a quarter changed
    assert [v.action for v in _observe(_stage(deps), texts)] == [RowAction.KEEP] * 3


def test_cluster_ids_name_the_first_kept_row(deps: StageDeps) -> None:
    a, b = _prose(11), _prose(12)
    texts = [a, b, a, _changed(a, [100]), b.upper(), _changed(b, [5, 200])]
    verdicts = _observe(_stage(deps), texts)
    clusters = [v.details["cluster"] for v in verdicts]
    assert clusters == [
        "s.jsonl:1",
        "s.jsonl:2",
        "s.jsonl:1",
        "s.jsonl:1",
        "s.jsonl:2",
        "s.jsonl:2",
    ]
    assert [v.action for v in verdicts] == [RowAction.KEEP] * 2 + [RowAction.DROP] * 4
    assert [v.reason for v in verdicts[2:]] == [
        "exact_duplicate",
        "near_duplicate",
        "exact_duplicate",
        "near_duplicate",
    ]


def test_remembered_rows_are_found_after_a_resume(deps: StageDeps) -> None:
    stage = _stage(deps)
    earlier = [_doc(_prose(21), 1), _doc(_prose(22), 2)]
    for doc, feature in zip(earlier, stage.features(earlier), strict=True):
        stage.remember(CuratedRow(doc, ()), feature)
    stage.remember(CuratedRow(earlier[0], ()), stage.features(earlier[:1])[0])  # twice: once
    later = [
        parse_document({"text": _prose(21)}, shard="t.jsonl", line=1),
        parse_document({"text": _changed(_prose(22), [9])}, shard="t.jsonl", line=2),
    ]
    verdicts = [
        stage.observe(CuratedRow(d, ()), f)
        for d, f in zip(later, stage.features(later), strict=True)
    ]
    assert [(v.reason, v.details["cluster"]) for v in verdicts] == [
        ("exact_duplicate", "s.jsonl:1"),
        ("near_duplicate", "s.jsonl:2"),
    ]


def test_features_are_picklable_and_the_same_in_every_instance(deps: StageDeps) -> None:
    docs = [_doc(_prose(31), 1), _doc("too short", 2)]
    one, two = _stage(deps).features(docs), _stage(deps).features(docs)
    for a, b in zip(one, two, strict=True):
        back = pickle.loads(pickle.dumps(a))
        assert isinstance(back, DedupFeature)
        assert back.digest == a.digest == b.digest
        assert back.digest is not None and len(back.digest) == 16
    assert one[0].signature is not None and one[0].signature.dtype == np.uint32
    assert one[0].signature.shape == (128,)
    assert np.array_equal(one[0].signature, two[0].signature)
    assert one[1].signature is None  # fewer words than a shingle


def test_features_do_not_depend_on_the_process_hash_seed(deps: StageDeps) -> None:
    text = _prose(41)
    script = (
        "import json, sys; from bastion.curate.stages.dedup import DedupOptions, DedupStage\n"
        "f = DedupStage(DedupOptions(), None).feature(sys.stdin.read())\n"
        "print(json.dumps([f.digest.hex(), f.signature.tolist()]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script], input=text, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    digest, signature = json.loads(result.stdout)
    mine = _stage(deps).feature(text)
    assert mine.digest is not None and mine.signature is not None
    assert digest == mine.digest.hex()
    assert signature == mine.signature.tolist()


def test_short_rows_use_the_exact_hash_only(deps: StageDeps) -> None:
    verdicts = _observe(_stage(deps), ["Thanks!", "thanks!", "Thanks ."])
    assert [v.reason for v in verdicts] == [None, "exact_duplicate", None]
    off = _observe(_stage(deps, exact=False), ["Thanks!", "thanks!"])
    assert [v.action for v in off] == [RowAction.KEEP, RowAction.KEEP]


def test_options_switch_each_test_off(deps: StageDeps) -> None:
    text = _prose(51)
    near_only = _observe(_stage(deps, exact=False), [text, text])
    assert (near_only[1].reason, near_only[1].score) == ("near_duplicate", 1.0)
    exact_only = _observe(_stage(deps, near=False), [text, _changed(text, [3])])
    assert [v.action for v in exact_only] == [RowAction.KEEP, RowAction.KEEP]
    loose = _observe(_stage(deps, threshold=0.5, num_perm=64, shingle_words=3), [text, text])
    assert loose[1].reason == "exact_duplicate"


def test_too_few_bands_is_a_config_error(deps: StageDeps) -> None:
    with pytest.raises(ConfigError, match="raise num_perm"):
        _stage(deps, threshold=0.99, num_perm=16)
    with pytest.raises(ValueError, match="extra"):
        DedupOptions.model_validate({"thresold": 0.5})


def test_observe_without_a_feature_computes_it(deps: StageDeps) -> None:
    stage = _stage(deps)
    doc = _doc(_prose(61), 1)
    assert stage.observe(CuratedRow(doc, ()), None).action is RowAction.KEEP
    assert stage.observe(CuratedRow(_doc(_prose(61), 2), ()), "junk").reason == "exact_duplicate"


def test_words_and_grams() -> None:
    words = split_words(normalise("Hello, WORLD!\u00a0café  x_y 3.14"))
    assert [words.text(i, 1) for i in range(len(words))] == [
        "hello",
        "world",
        "café",
        "x_y",
        "3",
        "14",
    ]
    assert words.text(1, 2) == "world café"
    again = split_words("world café")
    assert np.array_equal(words.hashes[1:3], again.hashes)
    assert len(gram_hashes(words.hashes, 5)) == 2
    assert len(gram_hashes(words.hashes, 7)) == 0
    assert len(split_words("")) == len(split_words("... !!")) == 0
    long = split_words("x" * 20_000 + " world")  # past the precomputed power tables
    assert long.hashes[-1] == again.hashes[0]


def test_huge_and_binary_looking_text_does_not_raise(deps: StageDeps) -> None:
    texts = ["x" * 1_000_000, "ab cd " * 200_000, bytes(range(256)).decode("latin-1") * 100]
    verdicts = _observe(_stage(deps), [*texts, texts[1]])
    assert [v.action for v in verdicts] == [RowAction.KEEP] * 3 + [RowAction.DROP]


_ODD = st.sampled_from(
    ["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "...", "…", "\n", "\r\n", "é",
     "中文", " ", "\t", "\x85", "the cat sat on the mat ", "A B C D E F "]
)  # fmt: skip
_TEXT = st.lists(st.text(st.characters(exclude_categories=())) | _ODD, max_size=30).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_TEXT, min_size=1, max_size=6))
def test_never_raises_on_odd_text(deps: StageDeps, texts: list[str]) -> None:
    stage = _stage(deps)
    verdicts = _observe(stage, [*texts, *texts])
    for verdict in verdicts:
        assert verdict.action in (RowAction.KEEP, RowAction.DROP)
        assert (verdict.action is RowAction.DROP) == (verdict.reason is not None)
        assert isinstance(verdict.details["cluster"], str)
        json.dumps(verdict.to_dict())
    assert all(v.action is RowAction.DROP for v in verdicts[len(texts) :])
