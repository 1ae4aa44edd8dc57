"""Build rule books (trigger index plus prefilter) and check every rule on its examples."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from bastion.core.errors import RuleError
from bastion.guard.layers.rules.lexicon import trie_pattern
from bastion.guard.layers.rules.records import Rule, RuleBook, RuleSet
from bastion.guard.layers.rules.specs import RuleSpec

__all__ = ["build_book", "check_examples"]

Group = tuple[tuple[str, ...], tuple[Rule, ...]]


def build_book(groups: Sequence[Group], cue: re.Pattern[str] | None = None) -> RuleBook:
    """Index ``groups`` by trigger stem and compile the book's prefilter.

    The prefilter reports, at every word start (a lookahead, so matches may overlap:
    "end my" and "my life"), the longest stem found there; that stem wakes its own groups
    and those of every shorter stem it begins with ("killer" also wakes "kill").
    """
    if not groups:
        return RuleBook(prefilter=None, groups_of={}, groups=(), cue=cue)
    prefix: dict[str, set[int]] = {}  # stem -> groups, stem may continue ("explosiv")
    whole: dict[str, set[int]] = {}  # stem -> groups, stem must end a word ("dan$")
    for index, (triggers, _) in enumerate(groups):
        for trigger in triggers:
            stem = trigger.casefold()
            table = whole if stem.endswith("$") else prefix
            table.setdefault(stem.removesuffix("$"), set()).add(index)
    groups_of = {key: _woken_by(key, prefix, whole) for key in {*prefix, *whole}}
    stems = [*prefix, *(f"{key}$" for key in whole)]
    return RuleBook(
        prefilter=re.compile(rf"\b(?=({trie_pattern(stems)}))"),
        groups_of=groups_of,
        groups=tuple(rules for _, rules in groups),
        cue=cue,
    )


def _woken_by(key: str, prefix: dict[str, set[int]], whole: dict[str, set[int]]) -> tuple[int, ...]:
    woken = set(prefix.get(key, ())) | whole.get(key, set())
    for end in range(1, len(key)):
        head = key[:end]
        woken |= prefix.get(head, set())
        if head in whole and not (key[end].isalnum() or key[end] == "_"):
            woken |= whole[head]
    return tuple(sorted(woken))


def check_examples(rules: RuleSet, specs: Mapping[str, RuleSpec]) -> None:
    """Every rule must match its examples and miss its counterexamples, end to end.

    Examples go through the same path as real text (case folding, prefilter, benign
    neutralisers), so a trigger stem missing from a group is caught here, at load time.

    Raises:
        RuleError: the first rule that fails, naming its file.
    """
    for book in (rules.harm, rules.reply_content):
        _check_book(book, specs, rules.neutralise)
    for book in (rules.techniques, rules.followups, rules.refusals, rules.compliance):
        _check_book(book, specs, None)
    for group in rules.benign.groups:
        for rule in group:
            for example in specs[rule.id].examples:
                if rules.neutralise(example.casefold()) == example.casefold():
                    message = f"neutraliser {rule.id!r} misses its example {example!r}"
                    raise RuleError(message, source=rule.source)


def _check_book(
    book: RuleBook, specs: Mapping[str, RuleSpec], prepare: Callable[[str], str] | None
) -> None:
    for group in book.groups:
        for rule in group:
            _check_rule(book, rule, specs[rule.id], prepare)


def _check_rule(
    book: RuleBook, rule: Rule, spec: RuleSpec, prepare: Callable[[str], str] | None
) -> None:
    for example in spec.examples:
        text = example.casefold()
        if not any(h.rule.id == rule.id for h in book.find(text, prepare=prepare)):
            woken = any(rule in group for group in book.woken(text))
            why = "" if woken else " (none of its group's trigger stems occurs in it)"
            message = f"rule {rule.id!r} misses its example {example!r}{why}"
            raise RuleError(message, source=rule.source)
    for counter in spec.counterexamples:
        if any(h.rule.id == rule.id for h in book.find(counter.casefold(), prepare=prepare)):
            message = f"rule {rule.id!r} matches its counterexample {counter!r}"
            raise RuleError(message, source=rule.source)
