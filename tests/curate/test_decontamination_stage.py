"""The decontamination stage: an eval item planted in a longer row is found whatever its
case and punctuation, a row sharing fewer than ``ngram`` words is kept, short items are
matched whole, and bad eval files are a clear ConfigError."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.core.errors import ConfigError
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, parse_document
from bastion.curate.stages.base import RowStage, StageDeps
from bastion.curate.stages.decontamination import DecontaminationOptions, DecontaminationStage
from bastion.curate.verdict import RowAction, StageVerdict
from bastion.policy import Policy

QUESTION = (
    "A train leaves the station at noon travelling at sixty miles per hour; how far has it "
    "gone by half past three in the afternoon?"
)
SHORT_ITEM = "Which planet in the solar system has the most moons?"  # 10 words
FILLER = (
    "Our community garden opened this spring with twelve raised beds, a tool shed and a "
    "small pond. Volunteers water the plants on weekends and share the harvest."
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evals")
    (folder / "evals").mkdir()
    rows = [{"question": QUESTION, "answer": "105 miles"}, {"id": 7, "prompt": SHORT_ITEM}]
    (folder / "evals" / "math.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    return folder


@pytest.fixture(scope="module")
def deps(policy: Policy, base: Path) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], base)


def _stage(deps: StageDeps, **options: Any) -> DecontaminationStage:
    options.setdefault("paths", ["evals/*.jsonl"])
    return DecontaminationStage(DecontaminationOptions(**options), deps)


def _judge(stage: DecontaminationStage, text: str) -> StageVerdict:
    (outcome,) = stage.run([parse_document({"text": text}, shard="s", line=1)])
    assert outcome.document is None
    return outcome.verdict


def test_planted_item_in_a_longer_row_is_dropped(deps: StageDeps) -> None:
    stage = _stage(deps)
    assert isinstance(stage, RowStage)
    assert stage.name == "decontamination"
    verdict = _judge(stage, f"{FILLER} Homework: {QUESTION.upper()} {FILLER}")
    assert verdict.action is RowAction.DROP
    assert verdict.reason == "eval_overlap"
    assert verdict.rule == "decontamination.overlap>=1x13-gram"
    assert verdict.details == {"file": "evals/math.jsonl", "ngrams": 13}  # 25 words: 13 grams
    assert verdict.score == 13.0
    assert verdict.evidence == (
        "evals/math.jsonl: a train leaves the station at noon travelling at sixty miles per hour"
    )


def test_punctuation_and_spacing_do_not_hide_it(deps: StageDeps) -> None:
    disguised = QUESTION.replace(";", " -").replace("?", "!!").replace(" at ", "\n at\t")
    assert _judge(_stage(deps), f"{FILLER} {disguised}").action is RowAction.DROP


def test_fewer_than_ngram_shared_words_are_kept(deps: StageDeps) -> None:
    twelve = " ".join(QUESTION.split()[:12])
    verdict = _judge(_stage(deps), f"{FILLER} {twelve} {FILLER}")
    assert verdict.action is RowAction.KEEP
    assert _judge(_stage(deps), FILLER) == StageVerdict("decontamination", RowAction.KEEP, 0.0)


def test_short_items_match_whole_and_tiny_ones_are_skipped(deps: StageDeps) -> None:
    verdict = _judge(
        _stage(deps), f"{FILLER} Quiz: which planet in the solar system has the most moons"
    )
    assert verdict.action is RowAction.DROP
    assert verdict.details == {"file": "evals/math.jsonl", "ngrams": 1}
    assert verdict.evidence is not None and verdict.evidence.endswith("has the most moons")
    assert _judge(_stage(deps), "the distance was 105 miles in all").action is RowAction.KEEP
    assert (
        _judge(_stage(deps), "which planet in the solar system has moons").action is RowAction.KEEP
    )


def test_min_overlap_action_and_fields(deps: StageDeps) -> None:
    row = f"{FILLER} {' '.join(QUESTION.split()[:14])}"  # two 13-grams
    assert _judge(_stage(deps, min_overlap=2), row).action is RowAction.DROP
    kept = _judge(_stage(deps, min_overlap=3), row)
    assert (kept.action, kept.score) == (RowAction.KEEP, 2.0)
    flagged = _judge(_stage(deps, action="flag"), row)
    assert (flagged.action, flagged.reason) == (RowAction.FLAG, "eval_overlap")
    only_prompts = _stage(deps, fields="prompt")
    assert _judge(only_prompts, f"{FILLER} {QUESTION}").action is RowAction.KEEP


def test_txt_gz_and_json_files_and_fingerprint(deps: StageDeps, base: Path) -> None:
    (base / "plain.txt").write_text(f"\n{QUESTION}\n\n", encoding="utf-8")
    gz = gzip.compress(json.dumps({"text": SHORT_ITEM}).encode())
    (base / "packed.jsonl.gz").write_bytes(gz)
    (base / "list.json").write_text(json.dumps([SHORT_ITEM, {"answer": QUESTION}]))
    stage = _stage(deps, paths=["plain.txt", str(base / "packed.jsonl.gz"), "list.json"])
    assert _judge(stage, QUESTION).details["file"] == "plain.txt"
    assert _judge(stage, SHORT_ITEM).details["file"] == "packed.jsonl.gz"
    assert stage.fingerprint() == {
        "plain.txt": hashlib.sha256((base / "plain.txt").read_bytes()).hexdigest(),
        "packed.jsonl.gz": hashlib.sha256(gz).hexdigest(),
        "list.json": hashlib.sha256((base / "list.json").read_bytes()).hexdigest(),
    }


def test_no_paths_is_a_config_error(deps: StageDeps) -> None:
    with pytest.raises(ConfigError, match="needs evaluation sets"):
        DecontaminationStage(DecontaminationOptions(), deps)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", b'{"text": "fine"}\n{"text": \n', "line 2 is not valid JSON"),
        ("list.jsonl", b'["not", "an object"]\n', "line 1 is not an object"),
        ("latin.txt", "caf\xe9 au lait ".encode("latin-1") * 5, "is not UTF-8"),
        ("eval.csv", b"question,answer\n", "reads .jsonl"),
        ("empty.jsonl", b'{"label": "only numbers here"}\n', "no eval item of at least 8 words"),
        ("short.txt", b"too short\n", "no eval item"),
        ("object.json", b'{"text": "not a list"}', "must be a list"),
        ("broken.jsonl.gz", b"not gzip at all", "cannot read"),
    ],
)
def test_bad_files_are_config_errors(
    deps: StageDeps, base: Path, name: str, content: bytes, message: str
) -> None:
    (base / name).write_bytes(content)
    with pytest.raises(ConfigError, match=message) as caught:
        _stage(deps, paths=[name])
    assert name in str(caught.value)


def test_missing_paths_are_config_errors(deps: StageDeps, base: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        _stage(deps, paths=["nowhere.jsonl"])
    with pytest.raises(ConfigError, match="matches no file"):
        _stage(deps, paths=["evals/*.parquet"])
    with pytest.raises(ConfigError, match="is a folder"):
        _stage(deps, paths=["evals"])


def test_huge_and_binary_looking_text_does_not_raise(deps: StageDeps) -> None:
    stage = _stage(deps)
    for text in ("x" * 1_000_000, "ab " * 350_000, bytes(range(256)).decode("latin-1") * 100):
        assert _judge(stage, text).action is RowAction.KEEP
    assert _judge(stage, "ab " * 100_000 + QUESTION).action is RowAction.DROP


_ODD = st.sampled_from(
    ["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "...", "…", "\n", "\r\n", "é",
     "中文", " ", "\t", "\x85", QUESTION, SHORT_ITEM, "which planet "]
)  # fmt: skip
_TEXT = st.lists(st.text(st.characters(exclude_categories=())) | _ODD, max_size=30).map("".join)
_DOC = st.one_of(
    _TEXT.map(lambda t: {"text": t}),
    st.tuples(_TEXT, _TEXT).map(lambda p: {"prompt": p[0], "response": p[1]}),
)


@pytest.fixture(scope="module")
def stage(deps: StageDeps) -> DecontaminationStage:
    return _stage(deps)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_DOC, min_size=1, max_size=4))
def test_never_raises_on_odd_text(stage: DecontaminationStage, rows: list[dict[str, Any]]) -> None:
    docs: list[Document] = [parse_document(r, shard="s", line=i) for i, r in enumerate(rows, 1)]
    for outcome in stage.run(docs):
        verdict = outcome.verdict
        assert verdict.action in (RowAction.KEEP, RowAction.DROP)
        assert (verdict.action is RowAction.DROP) == (verdict.reason == "eval_overlap")
        json.dumps(verdict.to_dict())
