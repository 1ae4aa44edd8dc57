"""The language stage: py3langid names en/fr/de/es/it correctly, `keep` drops or flags the
rest, low confidence is `und` and kept, and odd text never raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.core.errors import ConfigError
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, parse_document
from bastion.curate.stages.base import RowStage, StageDeps
from bastion.curate.stages.language import LanguageOptions, LanguageStage
from bastion.curate.verdict import RowAction, StageVerdict
from bastion.policy import Policy

SENTENCES = {
    "en": "The old lighthouse keeper climbed the stairs every evening to light the lamp.",
    "fr": "Le vieux gardien du phare montait l'escalier chaque soir pour allumer la lampe.",
    "de": "Der alte Leuchtturmwärter stieg jeden Abend die Treppe hinauf, um die Lampe anzuzünden.",
    "es": "El viejo farero subía las escaleras cada noche para encender la lámpara del faro.",
    "it": "Il vecchio guardiano del faro saliva le scale ogni sera per accendere la lampada.",
}


@pytest.fixture(scope="module")
def deps(policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], tmp_path_factory.mktemp("lang"))


@pytest.fixture(scope="module")
def stage(deps: StageDeps) -> LanguageStage:
    return LanguageStage(LanguageOptions(), deps)


@pytest.fixture(scope="module")
def english_only(deps: StageDeps) -> LanguageStage:
    return LanguageStage(LanguageOptions(keep=("en",)), deps)


def _text(text: str, line: int = 1) -> Document:
    return parse_document({"text": text}, shard="s.jsonl", line=line)


def _judge(stage: LanguageStage, doc: Document) -> StageVerdict:
    (outcome,) = stage.run([doc])
    assert outcome.document is None
    return outcome.verdict


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_names_the_language_with_its_confidence(stage: LanguageStage, code: str) -> None:
    verdict = _judge(stage, _text(SENTENCES[code]))
    assert verdict.action is RowAction.KEEP  # keep is empty: every language stays
    assert verdict.details["language"] == code
    assert verdict.score is not None and verdict.score >= 0.5
    assert verdict.details["confidence"] == pytest.approx(verdict.score, abs=1e-4)


def test_is_a_row_stage(stage: LanguageStage) -> None:
    assert isinstance(stage, RowStage)
    assert stage.name == "language"
    assert stage.run([]) == []


@pytest.mark.parametrize("code", ["fr", "de", "es", "it"])
def test_drops_languages_not_kept(english_only: LanguageStage, code: str) -> None:
    verdict = _judge(english_only, _text(SENTENCES[code]))
    assert verdict.action is RowAction.DROP
    assert verdict.stage == "language"
    assert verdict.reason == "language_not_kept"
    assert verdict.rule == "language.keep=[en]"
    assert verdict.evidence is not None and verdict.evidence.startswith(f"detected {code} (p=")
    assert verdict.details["language"] == code


def test_keeps_kept_languages(english_only: LanguageStage) -> None:
    assert _judge(english_only, _text(SENTENCES["en"])).action is RowAction.KEEP


def test_flag_action_keeps_the_row_marked(deps: StageDeps) -> None:
    stage = LanguageStage(LanguageOptions(keep=("en", "de"), action="flag"), deps)
    verdicts = [o.verdict for o in stage.run([_text(SENTENCES[c]) for c in ("en", "de", "fr")])]
    assert [v.action for v in verdicts] == [RowAction.KEEP, RowAction.KEEP, RowAction.FLAG]
    assert verdicts[2].rule == "language.keep=[en,de]"


@pytest.mark.parametrize("text", ["", "ok", "   ", "\x00\x01"])
def test_low_confidence_is_undetermined_and_kept(english_only: LanguageStage, text: str) -> None:
    verdict = _judge(english_only, _text(text))
    assert verdict.action is RowAction.KEEP
    assert verdict.details["language"] == "und"
    assert verdict.details["confidence"] < 0.5
    assert "guess" in verdict.details


def test_min_confidence_zero_always_names_a_language(deps: StageDeps) -> None:
    stage = LanguageStage(LanguageOptions(min_confidence=0.0), deps)
    assert _judge(stage, _text("ok")).details["language"] != "und"


def test_only_the_first_max_chars_are_classified(deps: StageDeps) -> None:
    stage = LanguageStage(LanguageOptions(max_chars=len(SENTENCES["en"])), deps)
    text = SENTENCES["en"] + " " + " ".join([SENTENCES["fr"]] * 20)
    assert _judge(stage, _text(text)).details["language"] == "en"


def test_chat_and_pair_rows_are_classified_on_their_content(english_only: LanguageStage) -> None:
    pair = parse_document(
        {"prompt": SENTENCES["es"], "response": SENTENCES["es"]}, shard="s", line=1
    )
    chat = parse_document(
        {"messages": [{"role": "user", "content": SENTENCES["it"]}]}, shard="s", line=2
    )
    verdicts = [o.verdict for o in english_only.run([pair, chat])]
    assert [v.details["language"] for v in verdicts] == ["es", "it"]
    assert all(v.action is RowAction.DROP for v in verdicts)


def test_keep_accepts_one_code_and_normalises_case() -> None:
    assert LanguageOptions.model_validate({"keep": "EN"}).keep == ("en",)
    assert LanguageOptions.model_validate({"keep": ["fr", "FR", "de"]}).keep == ("fr", "de")


def test_unknown_codes_are_refused(deps: StageDeps) -> None:
    with pytest.raises(ConfigError, match="klingon"):
        LanguageStage(LanguageOptions(keep=("en", "klingon")), deps)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="less than or equal"):
        LanguageOptions(min_confidence=1.5)
    with pytest.raises(ValueError, match="drop"):
        LanguageOptions.model_validate({"action": "delete"})


def test_huge_text_is_cheap_and_does_not_raise(english_only: LanguageStage) -> None:
    verdict = _judge(english_only, _text(SENTENCES["en"] * 15_000))
    assert verdict.details["language"] == "en"


_ODD = st.sampled_from(
    ["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "\n", "中文", "é", "\x85", " "]
)
_TEXT = st.lists(st.text(st.characters(exclude_categories=())) | _ODD, max_size=30).map("".join)
_DOC = st.one_of(
    _TEXT.map(lambda t: {"text": t}),
    st.tuples(_TEXT, _TEXT).map(lambda p: {"prompt": p[0], "response": p[1]}),
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(_DOC, min_size=1, max_size=4))
def test_never_raises_on_odd_text(english_only: LanguageStage, rows: list[dict[str, Any]]) -> None:
    docs = [parse_document(row, shard="s", line=i) for i, row in enumerate(rows, start=1)]
    outcomes = english_only.run(docs)
    assert len(outcomes) == len(docs)
    for outcome in outcomes:
        details = outcome.verdict.details
        assert isinstance(details["language"], str)
        assert 0.0 <= details["confidence"] <= 1.0
        outcome.verdict.to_dict()
