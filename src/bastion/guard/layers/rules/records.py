"""Frozen records of the rule layer: compiled rules, rule books, and what a scan found.

A :class:`RuleBook` holds the rules of one kind (harm, techniques, refusals ...), grouped
by the trigger stems that must be present for a group to be worth running. Its prefilter
is a single regex (a trie of every stem), so text that contains no trigger costs one
regex search and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = ["Hit", "Kind", "MessageScan", "Rule", "RuleBook", "RuleSet", "Scope"]

_MAX_SPAN = 80
_CUE_WINDOW = 120  # characters before a match searched for its request cue
_MAX_CANDIDATES = 64  # rejected candidates per rule and text before giving up (hostile input)
Scope = Literal["user", "embedded", "any"]


class Kind(StrEnum):
    """What a rule detects.

    ``topic``: a mention of a harm category (tags it, never acts alone). ``intent``: an
    explicit request for operational harm. ``technique``: a jailbreak or injection marker.
    ``followup``: an operational follow-up to an earlier turn (crescendo). ``refusal`` and
    ``compliance``: markers in an assistant's reply. ``benign``: a benign look-alike
    that is blanked out before harm rules run.
    """

    TOPIC = "topic"
    INTENT = "intent"
    TECHNIQUE = "technique"
    FOLLOWUP = "followup"
    REFUSAL = "refusal"
    COMPLIANCE = "compliance"
    BENIGN = "benign"


class LazyPattern:
    """A regular expression compiled on first use.

    Compiling the ~200 packaged rules takes longer than the whole start-up budget of
    ``bastion check``, while one check wakes only the few groups whose trigger stems occur.
    Compilation is idempotent, so a race between threads only compiles twice.
    """

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str, *, eager: bool = False) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = re.compile(pattern) if eager else None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern."""
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """``re.Pattern.search``."""
        return self.compiled.search(text, pos)

    def sub(self, repl: str, text: str) -> str:
        """``re.Pattern.sub``."""
        return self.compiled.sub(repl, text)


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule.

    Attributes:
        id: unique id, used in errors and evidence.
        kind: what the rule detects.
        tag: the policy category (topic, intent), technique id (technique) or marker name.
        score: the rule's heuristic probability that the turn is unsafe (see scoring).
        regex: the compiled pattern, macros expanded.
        source: the data file the rule came from.
        scope: techniques only: where the marker counts: ``user`` turns, ``embedded``
            messages (tool output, later system messages; reported as
            ``injection:indirect``) or ``any``.
        start_within: refusals only: the match must start within this many characters.
        cue: the pattern began with ``{cue}``: a request cue ("how do I", "I want to", an
            imperative) must end right where the match starts. Checked by the book's
            one shared cue regex instead of being compiled into every rule.
    """

    id: str
    kind: Kind
    tag: str
    score: float
    regex: LazyPattern
    source: str
    scope: Scope = "user"
    start_within: int | None = None
    cue: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that matched a text, with where and what it matched."""

    rule: Rule
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, rule: Rule, match: re.Match[str]) -> Hit:
        """Record ``match`` of ``rule``; the span is cut to a reviewer-friendly length."""
        return cls(rule, match.start(), match.end(), match.group()[:_MAX_SPAN].strip())

    def widened(self, start: int, text: str) -> Hit:
        """The same hit, starting earlier (to show the request cue in the evidence)."""
        return Hit(self.rule, start, self.end, text[start : self.end][:_MAX_SPAN].strip())

    @property
    def tag(self) -> str:
        """The rule's category, technique or marker."""
        return self.rule.tag

    @property
    def score(self) -> float:
        """The rule's score."""
        return self.rule.score

    @property
    def intent(self) -> bool:
        """True for explicit-intent rules (the only harm rules that may act alone)."""
        return self.rule.kind is Kind.INTENT


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Rules of one kind, grouped behind trigger stems.

    Attributes:
        prefilter: matches any trigger stem at a word start; None when the book is empty.
        groups_of: matched stem -> indices of the groups it wakes.
        groups: the rule groups.
        cue: matches a request cue that ends where the searched window ends (``\\Z``).
    """

    prefilter: re.Pattern[str] | None
    groups_of: Mapping[str, tuple[int, ...]]
    groups: tuple[tuple[Rule, ...], ...]
    cue: re.Pattern[str] | None = None

    def woken(self, text: str) -> tuple[tuple[Rule, ...], ...]:
        """The groups whose trigger stems occur in ``text`` (empty on the fast path)."""
        if self.prefilter is None:
            return ()
        first = self.prefilter.search(text)
        if first is None:
            return ()
        indices: set[int] = set()
        for match in self.prefilter.finditer(text, first.start()):
            indices.update(self.groups_of.get(match.group(1), ()))
        return tuple(self.groups[i] for i in sorted(indices))

    def find(
        self, text: str, *, prepare: Callable[[str], str] | None = None, min_end: int = 0
    ) -> list[Hit]:
        """Every rule of a woken group that matches ``text`` (first match per rule).

        Args:
            text: the text to scan (already case-folded).
            prepare: rewrites the text before the rules run (the benign neutralisers);
                only called when some group woke, to keep the fast path cheap.
            min_end: only report matches that end after this offset.
        """
        groups = self.woken(text)
        if not groups:
            return []
        scanned = prepare(text) if prepare is not None else text
        hits: list[Hit] = []
        for group in groups:
            for rule in group:
                hit = self._first(rule, scanned, min_end)
                if hit is not None:
                    hits.append(hit)
        return hits

    def _first(self, rule: Rule, text: str, min_end: int) -> Hit | None:
        # Candidates may overlap ("do i perform a ..." hides "perform a ..."), so the
        # search restarts one character after each rejected one, a bounded number of times.
        position = 0
        for _ in range(_MAX_CANDIDATES):
            match = rule.regex.search(text, position)
            if match is None:
                return None
            if rule.start_within is not None and match.start() > rule.start_within:
                return None
            if match.end() > min_end:
                if not rule.cue:
                    return Hit.of(rule, match)
                cue = self._cue_start(text, match.start())
                if cue is not None:
                    return Hit.of(rule, match).widened(cue, text)
            position = match.start() + 1
        return None

    def _cue_start(self, text: str, start: int) -> int | None:
        """Where a request cue ending at ``start`` begins, or None when there is none."""
        if self.cue is None:
            return None
        found = self.cue.search(text, max(0, start - _CUE_WINDOW), start)
        return found.start() if found is not None else None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every compiled book of a rules directory.

    Attributes:
        harm: per-category topic and intent rules (user turns, and replies).
        techniques: jailbreak and injection markers.
        followups: operational follow-ups that turn an earlier topic into intent.
        refusals: refusal phrases in replies.
        compliance: markers that a reply is carrying out a request.
        reply_content: harmful content that only appears in replies (step lists etc.).
        benign: benign look-alikes ("kill a process", "bath bomb"), one rule per group.
    """

    harm: RuleBook
    techniques: RuleBook
    followups: RuleBook
    refusals: RuleBook
    compliance: RuleBook
    reply_content: RuleBook
    benign: RuleBook

    def neutralise(self, text: str) -> str:
        """Blank out benign look-alikes so that harm rules never see them."""
        for group in self.benign.woken(text):
            for rule in group:
                text = rule.regex.sub(" ", text)
        return text


@dataclass(frozen=True, slots=True)
class MessageScan:
    """What the rules found in every view of one message.

    Attributes:
        harm: topic and intent hits.
        techniques: technique hits.
        obfuscation: the normaliser's techniques for this message.
    """

    harm: tuple[Hit, ...] = ()
    techniques: tuple[Hit, ...] = ()
    obfuscation: tuple[str, ...] = ()
