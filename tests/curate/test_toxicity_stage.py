"""The toxicity stage: profanity is flagged (never dropped by default), clean prose kept,
the batch scored at once, and odd text never raises."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.core.errors import ConfigError
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, parse_document
from bastion.curate.stages.base import RowStage, StageDeps
from bastion.curate.stages.toxicity import ToxicityOptions, ToxicityStage
from bastion.curate.verdict import RowAction, StageVerdict
from bastion.policy import Policy

PROSE = (
    "The old lighthouse stood at the edge of the cliff for more than a century, guiding "
    "fishing boats home through fog and storm. Its keeper, a quiet man named Thomas, climbed "
    "the spiral stairs every evening to light the great lamp."
)
PROFANE = "Shut up, you fucking idiot, this is a piece of shit."


@pytest.fixture(scope="module")
def deps(policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], tmp_path_factory.mktemp("tox"))


@pytest.fixture(scope="module")
def stage(deps: StageDeps) -> ToxicityStage:
    return ToxicityStage(ToxicityOptions(), deps)


def _text(text: str, line: int = 1) -> Document:
    return parse_document({"text": text}, shard="s.jsonl", line=line)


def _judge(stage: ToxicityStage, doc: Document) -> StageVerdict:
    (outcome,) = stage.run([doc])
    assert outcome.document is None
    return outcome.verdict


def test_is_a_row_stage(stage: ToxicityStage) -> None:
    assert isinstance(stage, RowStage)
    assert stage.name == "toxicity"
    assert stage.run([]) == []


def test_clean_prose_is_kept_with_a_low_score(stage: ToxicityStage) -> None:
    verdict = _judge(stage, _text(PROSE))
    assert verdict.action is RowAction.KEEP
    assert verdict.score is not None and verdict.score < 0.2
    assert verdict.reason is None


def test_profanity_is_flagged_not_dropped_by_default(stage: ToxicityStage) -> None:
    verdict = _judge(stage, _text(PROFANE))
    assert verdict.action is RowAction.FLAG
    assert verdict.stage == "toxicity"
    assert verdict.score is not None and verdict.score >= 0.8
    assert (verdict.reason, verdict.rule) == ("profanity", "toxicity.flag_at>=0.8")
    assert verdict.evidence is not None
    assert verdict.evidence.startswith("profanity p=")
    assert "fucking" in verdict.evidence


def test_drop_at_drops(deps: StageDeps) -> None:
    stage = ToxicityStage(ToxicityOptions(flag_at=0.5, drop_at=0.9), deps)
    verdict = _judge(stage, _text(PROFANE))
    assert (verdict.action, verdict.rule) == (RowAction.DROP, "toxicity.drop_at>=0.9")
    assert _judge(stage, _text(PROSE)).action is RowAction.KEEP


def test_a_batch_is_scored_in_order(stage: ToxicityStage) -> None:
    docs = [_text(PROSE, 1), _text(PROFANE, 2), _text(PROSE, 3)] * 86  # 258 rows
    actions = [o.verdict.action for o in stage.run(docs)]
    assert actions == [RowAction.KEEP, RowAction.FLAG, RowAction.KEEP] * 86


def test_chat_rows_are_scored_on_their_content(stage: ToxicityStage) -> None:
    chat = parse_document(
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": PROFANE},
            ]
        },
        shard="s",
        line=1,
    )
    assert _judge(stage, chat).action is RowAction.FLAG


def test_options_refuse_negative_thresholds_and_unknown_keys() -> None:
    with pytest.raises(ValueError, match="greater than or equal"):
        ToxicityOptions(flag_at=-0.1)
    with pytest.raises(ValueError, match="extra"):
        ToxicityOptions.model_validate({"flag": 0.5})


def test_huge_text_does_not_raise(stage: ToxicityStage) -> None:
    assert _judge(stage, _text("word " * 200_000)).action is RowAction.KEEP


_ODD = st.sampled_from(
    ["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "\n", "中文", "shit"]
)
_TEXT = st.lists(st.text(st.characters(exclude_categories=())) | _ODD, max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=6))
def test_never_raises_on_odd_text(stage: ToxicityStage, texts: list[str]) -> None:
    rows: list[dict[str, Any]] = [{"text": t} for t in texts]
    docs = [parse_document(row, shard="s", line=i) for i, row in enumerate(rows, start=1)]
    outcomes = stage.run(docs)
    assert len(outcomes) == len(docs)
    for outcome in outcomes:
        verdict = outcome.verdict
        assert verdict.action in (RowAction.KEEP, RowAction.FLAG)
        assert verdict.score is not None and 0.0 <= verdict.score <= 1.0
        verdict.to_dict()


def test_a_model_from_another_scikit_learn_is_a_config_error(
    deps: StageDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.exceptions import InconsistentVersionWarning

    def unpickle(name: str) -> object:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name="LinearSVC",
                current_sklearn_version="9.9",
                original_sklearn_version="0.1",
            ),
            stacklevel=2,
        )
        raise AttributeError(name)

    fake = types.ModuleType("profanity_check")
    fake.__getattr__ = unpickle  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "profanity_check", fake)
    with pytest.raises(ConfigError, match="does not match the installed scikit-learn"):
        ToxicityStage(ToxicityOptions(), deps)
