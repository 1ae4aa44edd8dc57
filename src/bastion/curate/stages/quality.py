"""The quality stage: the Gopher and C4 heuristics of the pre-training literature.

Each rule is one measurement of :class:`~bastion.curate.stages.quality_metrics.TextView`
against one threshold, switched off by setting its option to ``null`` (``false`` for the
two yes/no rules). Thresholds are the papers' defaults: Gopher (Rae et al. 2021, App. A)
for length, symbols, bullets, ellipses, alphabetic words, stop words and repetition; C4
(Raffel et al. 2020, sec. 2.2) for terminal punctuation, "lorem ipsum", curly brackets,
"javascript" and policy/cookie lines. C4 removes the offending *lines*; a row stage keeps
text as it is, so its line rules become document rules on the fraction of lines affected.

The rules were written for web documents. Our corpora are also SFT data (a prompt of six
words, a chat turn saying "Thanks!"), which Gopher's 50-word minimum would drop entirely.
So thresholds come in two profiles picked by ``Document.kind``: ``document`` (kind text:
every rule) and ``short`` (chat and pair rows: at least one word, the repetition rules
measured on each turn on its own, everything else off), each overridable key by key.

The first failing rule decides: a ``drop`` naming the rule, the measured value as score
and a short description as evidence. A kept row's verdict carries the key metrics in its
details, for the report's histograms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, methodcaller
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bastion.curate.document import Document, DocumentKind
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.stages.quality_metrics import TextView
from bastion.curate.stages.stopwords import STOP_WORDS
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["QualityOptions", "QualityProfile", "QualityStage", "short_profile"]

_Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
_Positive = Annotated[float, Field(ge=0.0)]
_NGram = Annotated[int, Field(ge=1, le=20)]
ProfileName = Literal["document", "short"]
_DEFAULT_PROFILES: Mapping[DocumentKind, ProfileName] = {
    DocumentKind.TEXT: "document",
    DocumentKind.CHAT: "short",
    DocumentKind.PAIR: "short",
}


class QualityProfile(BaseModel):
    """One set of thresholds; ``null`` (or ``false``) switches a rule off.

    Defaults are the papers' (the ``document`` profile). Fractions are in ``[0, 1]``.

    Attributes:
        min_words: Gopher: at least this many words.
        max_words: Gopher: at most this many words.
        min_mean_word_length: Gopher: mean word length at least this (characters).
        max_mean_word_length: Gopher: mean word length at most this.
        max_symbol_ratio: Gopher: ``#`` per word and ellipses per word, each at most this.
        max_bullet_lines: Gopher: at most this fraction of lines start with a bullet.
        max_ellipsis_lines: Gopher: at most this fraction of lines end with an ellipsis.
        min_alpha_words: Gopher: at least this fraction of words hold a letter.
        min_stop_words: Gopher: at least this many distinct stop words of one language's
            list (:data:`~bastion.curate.stages.stopwords.STOP_WORDS`).
        lorem_ipsum: C4: no "lorem ipsum".
        curly_bracket: C4: no ``{`` (C4's code filter; off by default, as it also drops
            maths and prose that quotes code).
        max_javascript_lines: C4 removes lines mentioning javascript; at most this
            fraction of the lines may.
        max_policy_lines: C4 removes policy and cookie lines ("privacy policy", "uses
            cookies"...); at most this fraction of the lines may be.
        min_terminal_lines: C4 keeps only lines ending in terminal punctuation; at least
            this fraction must (FineWeb's document form of the rule, threshold 0.12).
        max_dup_lines: Gopher: at most this fraction of lines repeat an earlier one.
        max_dup_paragraphs: Gopher: the same for paragraphs.
        max_dup_line_chars: Gopher: at most this fraction of characters in repeated lines.
        max_dup_paragraph_chars: Gopher: the same for paragraphs.
        max_top_ngram: Gopher: per n, the most frequent n-gram holds at most this
            fraction of the word characters (an n left out is not checked).
        max_dup_ngram: Gopher: per n, n-grams occurring more than once hold at most this
            fraction of the word characters.
        repetition_min_words: the repetition rules skip texts (or turns) of fewer words:
            one repeated phrase in a ten-word prompt is not a repetitive document.
        per_turn: measure the repetition rules on each turn of a chat (each side of a
            pair) instead of the joined row, so a reply that quotes its prompt is not a
            repetition.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_words: int | None = Field(50, ge=0)
    max_words: int | None = Field(100_000, ge=1)
    min_mean_word_length: _Positive | None = 3.0
    max_mean_word_length: _Positive | None = 10.0
    max_symbol_ratio: _Positive | None = 0.1
    max_bullet_lines: _Fraction | None = 0.9
    max_ellipsis_lines: _Fraction | None = 0.3
    min_alpha_words: _Fraction | None = 0.8
    min_stop_words: int | None = Field(2, ge=0)
    lorem_ipsum: bool = True
    curly_bracket: bool = False
    max_javascript_lines: _Fraction | None = 0.3
    max_policy_lines: _Fraction | None = 0.3
    min_terminal_lines: _Fraction | None = 0.12
    max_dup_lines: _Fraction | None = 0.30
    max_dup_paragraphs: _Fraction | None = 0.30
    max_dup_line_chars: _Fraction | None = 0.20
    max_dup_paragraph_chars: _Fraction | None = 0.20
    max_top_ngram: Mapping[_NGram, _Fraction] = Field(
        default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16}
    )
    max_dup_ngram: Mapping[_NGram, _Fraction] = Field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    )
    repetition_min_words: int = Field(20, ge=0)
    per_turn: bool = False


_NOT_REPETITION: dict[str, Any] = {
    "min_words": 1,
    "max_words": None,
    "min_mean_word_length": None,
    "max_mean_word_length": None,
    "max_symbol_ratio": None,
    "max_bullet_lines": None,
    "max_ellipsis_lines": None,
    "min_alpha_words": None,
    "min_stop_words": None,
    "lorem_ipsum": False,
    "curly_bracket": False,
    "max_javascript_lines": None,
    "max_policy_lines": None,
    "min_terminal_lines": None,
    "per_turn": True,
}


def short_profile(**overrides: Any) -> QualityProfile:
    """The ``short`` profile (chat and pair rows), with ``overrides`` applied."""
    return QualityProfile.model_validate({**_NOT_REPETITION, **overrides})


class QualityOptions(StageOptions):
    """Options of the quality stage.

    Attributes:
        document: thresholds of the ``document`` profile (Gopher and C4 defaults).
        short: thresholds of the ``short`` profile: a mapping here overrides the short
            defaults key by key (at least one word, repetition rules only, per turn).
        profiles: which profile each row kind uses.
        stop_words: stop-word lists per language; the rule passes when any list is met.
        min_latin_share: the stop-word rule only judges text whose letters are at least
            this fraction Latin script (its lists are for Latin-script languages; a Greek
            or Chinese document is not "missing" English stop words).
    """

    document: QualityProfile = Field(default_factory=QualityProfile)
    short: QualityProfile = Field(default_factory=short_profile)
    profiles: Mapping[DocumentKind, ProfileName] = Field(
        default_factory=lambda: dict(_DEFAULT_PROFILES)
    )
    stop_words: Mapping[str, tuple[str, ...]] = Field(default_factory=lambda: dict(STOP_WORDS))
    min_latin_share: _Fraction = 0.5

    @field_validator("short", mode="before")
    @classmethod
    def _over_short_defaults(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return short_profile(**value)
        return value


@dataclass(frozen=True, slots=True)
class _Rule:
    """One compiled rule: passes while ``measure(view)`` is on the right side."""

    reason: str
    label: str
    at_least: bool
    threshold: float
    measure: Callable[[TextView], float]
    evidence: str
    repetition: bool = False

    def fails(self, value: float) -> bool:
        return value < self.threshold if self.at_least else value > self.threshold


# (family, option, measure, evidence); the option's min_/max_ prefix gives the direction.
_SCALAR_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("gopher", "min_words", "word_count", "{v:.0f} words"),
    ("gopher", "max_words", "word_count", "{v:.0f} words"),
    ("gopher", "min_mean_word_length", "mean_word_length", "mean word length {v:.1f}"),
    ("gopher", "max_mean_word_length", "mean_word_length", "mean word length {v:.1f}"),
    ("gopher", "max_symbol_ratio", "symbol_ratio", "{v:.2f} '#' or '...' per word"),
    ("gopher", "max_bullet_lines", "bullet_lines", "{v:.0%} of lines start with a bullet"),
    ("gopher", "max_ellipsis_lines", "ellipsis_lines", "{v:.0%} of lines end with '...'"),
    ("gopher", "min_alpha_words", "alpha_words", "{v:.0%} of words hold a letter"),
    ("gopher", "min_stop_words", "", "{v:.0f} distinct stop words of any one language"),
    ("c4", "lorem_ipsum", "lorem_ipsum", "'lorem ipsum' {v:.0f} times"),
    ("c4", "curly_bracket", "curly_brackets", "'{{' {v:.0f} times"),
    ("c4", "max_javascript_lines", "javascript_lines", "{v:.0%} of lines mention javascript"),
    ("c4", "max_policy_lines", "policy_lines", "{v:.0%} of lines are policy/cookie notices"),
    ("c4", "min_terminal_lines", "terminal_lines", "{v:.0%} of lines end in . ! ? or a quote"),
)
_REPETITION_RULES: tuple[tuple[str, str, str], ...] = (
    ("max_dup_lines", "dup_lines", "{v:.0%} of lines repeat an earlier line"),
    ("max_dup_paragraphs", "dup_paragraphs", "{v:.0%} of paragraphs repeat an earlier one"),
    ("max_dup_line_chars", "dup_line_chars", "{v:.0%} of characters in repeated lines"),
    ("max_dup_paragraph_chars", "dup_paragraph_chars", "{v:.0%} in repeated paragraphs"),
)


def _compile(profile: QualityProfile, stop_words: Callable[[TextView], float]) -> list[_Rule]:
    """The profile's switched-on rules, in evaluation order (cheap first)."""
    rules: list[_Rule] = []
    for family, option, metric, evidence in _SCALAR_RULES:
        value = getattr(profile, option)
        if value is None or value is False:
            continue
        measure = stop_words if option == "min_stop_words" else attrgetter(metric)
        if value is True:  # a yes/no rule: fails on any occurrence
            rules.append(
                _Rule(f"{family}_{option}", f"{family}.{option}", False, 0.0, measure, evidence)
            )
            continue
        at_least = option.startswith("min_")
        label = f"{family}.{option}{'>=' if at_least else '<='}{value:g}"
        rules.append(_Rule(f"{family}_{option}", label, at_least, float(value), measure, evidence))
    for option, metric, evidence in _REPETITION_RULES:
        value = getattr(profile, option)
        if value is not None:
            label = f"gopher.{option}<={value:g}"
            rules.append(
                _Rule(f"gopher_{option}", label, False, value, attrgetter(metric), evidence, True)
            )
    for kind, limits in (("top", profile.max_top_ngram), ("dup", profile.max_dup_ngram)):
        for n, value in sorted(limits.items()):
            label = f"gopher.max_{kind}_ngram[{n}]<={value:g}"
            what = f"the top {n}-gram holds" if kind == "top" else f"repeated {n}-grams hold"
            evidence = f"{what} {{v:.0%}} of word characters"
            measure = methodcaller(f"{kind}_ngram", n)
            rules.append(
                _Rule(f"gopher_max_{kind}_{n}gram", label, False, value, measure, evidence, True)
            )
    return rules


@stage_plugin(
    "quality",
    kind="row",
    summary="Gopher / C4 heuristics (length, symbols, repetition, stop words), per row kind",
    options=QualityOptions,
)
class QualityStage:
    """Drops rows that fail a Gopher or C4 heuristic; the first failing rule decides.

    Example:
        >>> from bastion.curate.document import parse_document
        >>> stage = QualityStage(QualityOptions(), deps=None)
        >>> doc = parse_document({"text": "Buy now. Buy now."}, shard="s", line=1)
        >>> stage.run([doc])[0].verdict.rule
        'gopher.min_words>=50'
    """

    def __init__(self, options: QualityOptions, deps: StageDeps) -> None:
        self.name = "quality"
        self._options = options
        lists = {
            code: frozenset(map(str.lower, words)) for code, words in options.stop_words.items()
        }
        stop_words = _stop_word_measure(lists, options.min_latin_share)
        self._profiles: dict[str, tuple[QualityProfile, list[_Rule]]] = {
            name: (profile, _compile(profile, stop_words))
            for name, profile in (("document", options.document), ("short", options.short))
        }

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row: ``drop`` on the first failing rule, else ``keep``."""
        return [RowOutcome(self._judge(doc)) for doc in docs]

    def _judge(self, doc: Document) -> StageVerdict:
        name = self._options.profiles.get(doc.kind, "document")
        profile, rules = self._profiles[name]
        whole = TextView(doc.content)
        units: list[tuple[str, TextView]] | None = None  # what the repetition rules measure
        for rule in rules:
            if not rule.repetition:
                value, where = rule.measure(whole), ""
                if not rule.fails(value):
                    continue
            else:
                units = _units(doc, whole, profile) if units is None else units
                found = _first_failing(rule, units)
                if found is None:
                    continue
                value, where = found
            evidence = rule.evidence.format(v=value)
            evidence = "1 word" if evidence == "1 words" else evidence
            return StageVerdict(
                self.name,
                RowAction.DROP,
                score=value,
                reason=rule.reason,
                rule=rule.label,
                evidence=f"{where}: {evidence}" if where else evidence,
                details=_metrics(name, whole),
            )
        return StageVerdict(self.name, RowAction.KEEP, details=_metrics(name, whole))


def _stop_word_measure(
    lists: Mapping[str, frozenset[str]], min_latin_share: float
) -> Callable[[TextView], float]:
    def measure(view: TextView) -> float:
        if view.latin_share < min_latin_share:
            return math.inf  # not a Latin-script text: the lists cannot judge it
        return view.stop_words(lists)[0]

    return measure


def _units(doc: Document, whole: TextView, profile: QualityProfile) -> list[tuple[str, TextView]]:
    """The (label, text) pairs the repetition rules measure: the row, or each turn."""
    units = [("", whole)]
    if profile.per_turn and doc.kind is DocumentKind.PAIR:
        units = [("prompt", TextView(doc.prompt)), ("response", TextView(doc.response))]
    elif profile.per_turn and doc.kind is DocumentKind.CHAT:
        units = [
            (f"turn {index} ({role})", TextView(content))
            for index, (role, content) in enumerate(doc.messages, start=1)
        ]
    return [
        (where, view) for where, view in units if view.word_count >= profile.repetition_min_words
    ]


def _first_failing(rule: _Rule, units: list[tuple[str, TextView]]) -> tuple[float, str] | None:
    for where, view in units:
        value = rule.measure(view)
        if rule.fails(value):
            return value, where
    return None


def _metrics(profile: str, view: TextView) -> dict[str, Any]:
    return {
        "profile": profile,
        "words": len(view.words),
        "mean_word_length": round(view.mean_word_length, 2),
        "symbol_ratio": round(view.symbol_ratio, 4),
        "dup_line_fraction": round(view.dup_lines, 4),
    }
