"""The quality stage: each Gopher / C4 rule fires on a crafted bad document and not on
plain prose; SFT rows use the short profile; odd text never raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, parse_document
from bastion.curate.stages.base import RowStage, StageDeps
from bastion.curate.stages.quality import QualityOptions, QualityStage
from bastion.curate.verdict import RowAction, StageVerdict
from bastion.policy import Policy

PROSE = (
    "The old lighthouse stood at the edge of the cliff for more than a century, guiding "
    "fishing boats home through fog and storm. Its keeper, a quiet man named Thomas, climbed "
    "the spiral stairs every evening to light the great lamp. He kept a journal of the ships "
    "that passed, the weather that came with each season, and the birds that nested in the "
    "rocks below. When the light was finally automated, the town gathered to thank him, and "
    "he gave the journal to the local library, where children still read it on rainy days."
)
SENTENCES = [s.strip() + "." for s in PROSE.split(".") if s.strip()]

_SCALAR_OFF: dict[str, Any] = {
    "min_words": None,
    "max_words": None,
    "min_mean_word_length": None,
    "max_mean_word_length": None,
    "max_symbol_ratio": None,
    "max_bullet_lines": None,
    "max_ellipsis_lines": None,
    "min_alpha_words": None,
    "min_stop_words": None,
    "lorem_ipsum": False,
    "max_javascript_lines": None,
    "max_policy_lines": None,
    "min_terminal_lines": None,
    "max_dup_lines": None,
    "max_dup_paragraphs": None,
    "max_dup_line_chars": None,
    "max_dup_paragraph_chars": None,
    "max_top_ngram": {},
    "max_dup_ngram": {},
}


@pytest.fixture(scope="module")
def deps(policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], tmp_path_factory.mktemp("q"))


@pytest.fixture(scope="module")
def stage(deps: StageDeps) -> QualityStage:
    return QualityStage(QualityOptions(), deps)


def _text(text: str, line: int = 1) -> Document:
    return parse_document({"text": text}, shard="s.jsonl", line=line)


def _judge(stage: QualityStage, doc: Document) -> StageVerdict:
    (outcome,) = stage.run([doc])
    assert outcome.document is None
    return outcome.verdict


def _only(deps: StageDeps, **rule: Any) -> QualityStage:
    """A stage whose document profile runs just ``rule``."""
    return QualityStage(QualityOptions.model_validate({"document": _SCALAR_OFF | rule}), deps)


def test_is_a_row_stage_and_keeps_prose_with_metrics(stage: QualityStage) -> None:
    assert isinstance(stage, RowStage)
    assert stage.name == "quality"
    assert 80 <= len(PROSE.split()) <= 100
    verdict = _judge(stage, _text(PROSE))
    assert verdict.action is RowAction.KEEP
    assert verdict.reason is None
    assert verdict.details["profile"] == "document"
    assert verdict.details["words"] == len(PROSE.split())
    assert {"symbol_ratio", "dup_line_fraction", "mean_word_length"} <= set(verdict.details)


def test_prose_laid_out_in_lines_and_paragraphs_is_kept(stage: QualityStage) -> None:
    text = "A lighthouse keeper\n\n" + "\n".join(SENTENCES[:3]) + "\n\n" + "\n".join(SENTENCES[3:])
    assert _judge(stage, _text(text)).action is RowAction.KEEP


_LONG_WORDS = " ".join(f"internationalisation{i}" for i in range(60))
_BULLETS = "\n".join(f"- {s}" for s in SENTENCES)
_ELLIPSES = "\n".join(f"{s[:-1]} and then the tide came in again..." for s in SENTENCES)
_NUMBERS = PROSE + " " + " ".join(str(100 + i) for i in range(40))
_NO_STOP_WORDS = " ".join(f"lantern{i}" for i in range(60))
_NO_PUNCTUATION = "\n".join(s.rstrip(".") for s in SENTENCES)
_JAVASCRIPT = f"{PROSE}\nPlease enable JavaScript to view this page.\nJavaScript is required."
_POLICY = f"{PROSE}\nRead our Privacy Policy before you continue.\nThis site uses cookies."
_DUP_LINES = "\n".join([SENTENCES[0], SENTENCES[1], SENTENCES[0], SENTENCES[0], SENTENCES[0]])
_DUP_PARAGRAPHS = "\n\n".join(["Home page.", "\n".join(SENTENCES), "Home page.", "Home page."])
_DUP_LINE_CHARS = "\n".join([PROSE, "Short line one.", "Another short line.", PROSE])
_TOP_2GRAM = " ".join(f"{s} Lighthouse keeper, lighthouse keeper." for s in SENTENCES)
_DUP_5GRAM = PROSE + " " + " ".join(PROSE.split()[:30]) + "."


@pytest.mark.parametrize(
    ("text", "reason", "rule"),
    [
        ("A short note, nothing more.", "gopher_min_words", "gopher.min_words>=50"),
        (" ".join(["lighthouse"] * 100_001), "gopher_max_words", "gopher.max_words<=100000"),
        (
            " ".join(["a ox is by me"] * 12),
            "gopher_min_mean_word_length",
            "gopher.min_mean_word_length>=3",
        ),
        (_LONG_WORDS, "gopher_max_mean_word_length", "gopher.max_mean_word_length<=10"),
        (PROSE + " #tag" * 20, "gopher_max_symbol_ratio", "gopher.max_symbol_ratio<=0.1"),
        (_BULLETS, "gopher_max_bullet_lines", "gopher.max_bullet_lines<=0.9"),
        (_ELLIPSES, "gopher_max_ellipsis_lines", "gopher.max_ellipsis_lines<=0.3"),
        (_NUMBERS, "gopher_min_alpha_words", "gopher.min_alpha_words>=0.8"),
        (_NO_STOP_WORDS, "gopher_min_stop_words", "gopher.min_stop_words>=2"),
        (PROSE + " Lorem ipsum dolor sit amet.", "c4_lorem_ipsum", "c4.lorem_ipsum"),
        (_JAVASCRIPT, "c4_max_javascript_lines", "c4.max_javascript_lines<=0.3"),
        (_POLICY, "c4_max_policy_lines", "c4.max_policy_lines<=0.3"),
        (_NO_PUNCTUATION, "c4_min_terminal_lines", "c4.min_terminal_lines>=0.12"),
        (_DUP_LINES * 3, "gopher_max_dup_lines", "gopher.max_dup_lines<=0.3"),
        (_DUP_PARAGRAPHS, "gopher_max_dup_paragraphs", "gopher.max_dup_paragraphs<=0.3"),
        (_DUP_LINE_CHARS, "gopher_max_dup_line_chars", "gopher.max_dup_line_chars<=0.2"),
        (_TOP_2GRAM, "gopher_max_top_2gram", "gopher.max_top_ngram[2]<=0.2"),
        (_DUP_5GRAM, "gopher_max_dup_5gram", "gopher.max_dup_ngram[5]<=0.15"),
    ],
)
def test_each_rule_fires_first_on_its_bad_document(
    stage: QualityStage, text: str, reason: str, rule: str | None
) -> None:
    verdict = _judge(stage, _text(text))
    assert verdict.action is RowAction.DROP
    assert verdict.stage == "quality"
    assert verdict.reason == reason
    assert verdict.rule == rule or rule is None
    assert verdict.score is not None
    assert verdict.evidence
    assert verdict.details["profile"] == "document"


def test_min_words_evidence_and_score(stage: QualityStage) -> None:
    verdict = _judge(stage, _text(" ".join(["word"] * 12)))
    assert (verdict.score, verdict.evidence) == (12.0, "12 words")
    assert _judge(stage, _text("word")).evidence == "1 word"


def test_curly_bracket_rule_is_off_by_default(stage: QualityStage, deps: StageDeps) -> None:
    code = PROSE + " Write if (x) { return y; } in C."
    assert _judge(stage, _text(code)).action is RowAction.KEEP
    on = QualityStage(QualityOptions.model_validate({"document": {"curly_bracket": True}}), deps)
    assert _judge(on, _text(code)).reason == "c4_curly_bracket"


def test_dup_paragraph_chars_fires_when_the_line_rule_is_off(deps: StageDeps) -> None:
    text = "\n\n".join(["Intro.", PROSE, "Another paragraph of text.", "Closing words.", PROSE])
    verdict = _judge(_only(deps, max_dup_paragraph_chars=0.2), _text(text))
    assert verdict.rule == "gopher.max_dup_paragraph_chars<=0.2"


@pytest.mark.parametrize("n", [3, 4])
def test_top_ngram_rules_for_longer_n(deps: StageDeps, n: int) -> None:
    phrase = " ".join(["northern", "harbour", "lighthouse", "keeper"][:n])
    text = " ".join(f"{s} {phrase}." for s in SENTENCES)
    verdict = _judge(_only(deps, max_top_ngram={n: 0.18}), _text(text))
    assert verdict.reason == f"gopher_max_top_{n}gram"


@pytest.mark.parametrize("n", range(6, 11))
def test_dup_ngram_rules_for_longer_n(deps: StageDeps, n: int) -> None:
    verdict = _judge(_only(deps, max_dup_ngram={n: 0.1}), _text(_DUP_5GRAM))
    assert verdict.reason == f"gopher_max_dup_{n}gram"
    assert verdict.score is not None and verdict.score > 0.3


def test_a_switched_off_rule_does_not_fire(deps: StageDeps) -> None:
    options = QualityOptions.model_validate({"document": {"min_words": None}})
    assert options.document.max_words == 100_000  # the other defaults stay
    assert _judge(QualityStage(options, deps), _text("One fine sentence.")).reason != (
        "gopher_min_words"
    )


def test_stop_words_of_other_languages_satisfy_the_rule(deps: StageDeps) -> None:
    only = _only(deps, min_stop_words=2)
    french = "Le chat dort sur la table et le chien est dans le jardin avec les enfants."
    german = "Der Hund schläft im Garten, und die Katze ist nicht zu Hause."
    greek = "Ο φάρος στεκόταν στην άκρη του γκρεμού για πάνω από έναν αιώνα."
    for text in (french, german, greek, PROSE):
        assert _judge(only, _text(text)).action is RowAction.KEEP, text
    assert _judge(only, _text(_NO_STOP_WORDS)).action is RowAction.DROP


def test_sft_rows_use_the_short_profile_and_are_not_dropped_for_being_short(
    stage: QualityStage,
) -> None:
    pair = parse_document({"prompt": "Capital of France?", "response": "Paris."}, shard="s", line=1)
    chat = parse_document(
        {
            "messages": [
                {"role": "user", "content": "Thanks!"},
                {"role": "assistant", "content": "Hi"},
            ]
        },
        shard="s",
        line=2,
    )
    for doc in (pair, chat):
        verdict = _judge(stage, doc)
        assert verdict.action is RowAction.KEEP
        assert verdict.details["profile"] == "short"


def test_a_reply_quoting_its_prompt_is_not_repetition(stage: QualityStage) -> None:
    prompt = "Write a short poem about the old lighthouse keeper and the sea in autumn."
    response = (
        f"Here is a short poem about the old lighthouse keeper and the sea in autumn: {PROSE}"
    )
    doc = parse_document({"prompt": prompt, "response": response}, shard="s", line=1)
    assert _judge(stage, doc).action is RowAction.KEEP


def test_a_looping_reply_is_dropped_and_the_turn_named(stage: QualityStage) -> None:
    looping = "I am sorry, I cannot do that. " * 12
    doc = parse_document(
        {
            "messages": [
                {"role": "user", "content": "Go on."},
                {"role": "assistant", "content": looping},
            ]
        },
        shard="s",
        line=1,
    )
    verdict = _judge(stage, doc)
    assert verdict.action is RowAction.DROP
    assert verdict.rule is not None and verdict.rule.startswith("gopher.max_")
    assert verdict.evidence is not None and verdict.evidence.startswith("turn 2 (assistant): ")


def test_an_empty_sft_row_is_dropped_by_the_one_word_minimum(stage: QualityStage) -> None:
    doc = parse_document({"prompt": " ", "response": ""}, shard="s", line=1)
    verdict = _judge(stage, doc)
    assert (verdict.reason, verdict.rule) == ("gopher_min_words", "gopher.min_words>=1")


def test_profile_overrides_merge_onto_that_profiles_defaults(deps: StageDeps) -> None:
    options = QualityOptions.model_validate(
        {"short": {"min_words": 3}, "profiles": {"pair": "document"}}
    )
    assert options.short.min_words == 3
    assert options.short.max_words is None  # still the short profile's default
    assert options.short.per_turn
    pair = parse_document({"prompt": "Capital of France?", "response": "Paris."}, shard="s", line=1)
    verdict = _judge(QualityStage(options, deps), pair)
    assert (verdict.rule, verdict.details["profile"]) == ("gopher.min_words>=50", "document")


def test_options_refuse_unknown_keys_and_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="extra"):
        QualityOptions.model_validate({"document": {"min_wordz": 3}})
    with pytest.raises(ValueError, match="less than or equal"):
        QualityOptions.model_validate({"short": {"max_dup_lines": 3.0}})


def test_a_batch_gives_one_verdict_per_row_in_order(stage: QualityStage) -> None:
    docs = [_text(PROSE, 1), _text("too short", 2), _text(PROSE, 3)]
    actions = [o.verdict.action for o in stage.run(docs)]
    assert actions == [RowAction.KEEP, RowAction.DROP, RowAction.KEEP]
    assert stage.run([]) == []


def test_huge_and_binary_looking_text_does_not_raise(stage: QualityStage) -> None:
    for text in ("x" * 1_000_000, "ab " * 350_000, bytes(range(256)).decode("latin-1") * 100):
        assert _judge(stage, _text(text)).action in (RowAction.KEEP, RowAction.DROP)


_ODD = st.sampled_from(
    ["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "#", "...", "…", "\n", "\n\n",
     "\r\n", "- ", "{", "lorem ipsum", "javascript", "the ", "é", "中文", " ", "\t", "\x85"]
)  # fmt: skip
_TEXT = st.lists(st.text(st.characters(exclude_categories=())) | _ODD, max_size=40).map("".join)
_DOC = st.one_of(
    _TEXT.map(lambda t: {"text": t}),
    st.tuples(_TEXT, _TEXT).map(lambda p: {"prompt": p[0], "response": p[1]}),
    st.lists(
        st.tuples(st.sampled_from(["user", "assistant", "system"]), _TEXT), min_size=1, max_size=4
    ).map(lambda ms: {"messages": [{"role": r, "content": c} for r, c in ms]}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_DOC, min_size=1, max_size=4))
def test_never_raises_on_odd_text(stage: QualityStage, rows: list[dict[str, Any]]) -> None:
    docs = [parse_document(row, shard="s", line=i) for i, row in enumerate(rows, start=1)]
    outcomes = stage.run(docs)
    assert len(outcomes) == len(docs)
    for outcome in outcomes:
        verdict = outcome.verdict
        assert verdict.action in (RowAction.KEEP, RowAction.DROP)
        assert (verdict.action is RowAction.DROP) == (verdict.reason is not None)
        verdict.to_dict()
