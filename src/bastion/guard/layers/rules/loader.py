"""Load, validate and compile a rules directory into a :class:`RuleSet`.

Files (all YAML; every one but the directory itself is optional):

- ``lexicon.yaml``: ``macros`` used by every other file.
- ``benign.yaml``: ``neutralisers``, benign look-alikes blanked before harm matching.
- ``harm.yaml`` and any ``harm_*.yaml``: ``groups`` of per-category topic / intent rules.
- ``techniques.yaml``: ``groups`` of jailbreak / injection markers; ``followups``.
- ``response.yaml``: ``refusals``, ``compliance`` and ``content`` (harm in replies).

Every rule group names trigger stems; a book's groups are indexed by stem behind one
prefilter regex (see :mod:`~bastion.guard.layers.rules.books`). A pattern that starts
with ``{cue}`` (a request cue: "how do I", "I want to", an imperative) is compiled without
it; the book's single cue regex checks that a cue ends where the match starts, which keeps
construction fast.

Validation is strict, because a silent rule is worse than a loud error: unknown keys,
unknown macros, bad regexes, categories missing from the policy, scores outside their
kind's band, and any rule that fails its own ``examples`` raise
:class:`~bastion.core.errors.RuleError` naming the file and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from bastion.core.errors import RuleError
from bastion.core.types import Limit
from bastion.guard.layers.rules.books import build_book, check_examples
from bastion.guard.layers.rules.lexicon import (
    MacroError,
    expand,
    has_top_level_alternation,
    macro_body,
)
from bastion.guard.layers.rules.records import Kind, LazyPattern, Rule, RuleSet
from bastion.guard.layers.rules.specs import GroupSpec, NeutraliserSpec, RuleSpec, inherit

__all__ = ["load_rules"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# (file, yaml key, book, default kind) for the fixed files; harm files are globbed.
_SECTIONS = (
    ("techniques.yaml", "groups", "techniques", Kind.TECHNIQUE),
    ("techniques.yaml", "followups", "followups", Kind.FOLLOWUP),
    ("response.yaml", "refusals", "refusals", Kind.REFUSAL),
    ("response.yaml", "compliance", "compliance", Kind.COMPLIANCE),
    ("response.yaml", "content", "reply_content", Kind.INTENT),
)
_HARM_KINDS = (Kind.TOPIC, Kind.INTENT)
_TOPIC_MAX = 0.3
_INTENT_BAND = (0.6, 0.95)
_HARD_MIN = 0.8
_CUE = "{cue}"
_BOOKS = ("harm", "techniques", "followups", "refusals", "compliance", "reply_content", "benign")
_M = TypeVar("_M", RuleSpec, GroupSpec, NeutraliserSpec)


def load_rules(directory: Path, categories: Mapping[str, Limit], *, verify: bool = True) -> RuleSet:
    """Compile every rule file in ``directory``.

    Args:
        directory: the rules directory.
        categories: policy category id -> limit; every rule's category must be here.
        verify: compile every regex now and check every rule against its examples. With
            False, rule regexes compile on first use (fast start-up); use it only for rule
            data that a test suite verifies, like the packaged rules.

    Raises:
        RuleError: a file or rule fails validation (the message names both).
    """
    if not directory.is_dir():
        raise RuleError("rules directory not found", source=str(directory))
    lexicon = _read(directory / "lexicon.yaml")
    macros = _macros(lexicon.get("macros", {}), str(directory / "lexicon.yaml"))
    compiler = _Compiler(macros, categories, verify)
    compiler.neutralisers(directory / "benign.yaml")
    for path in sorted(directory.glob("harm*.yaml")):
        compiler.add_groups(path, _read(path).get("groups", []), "harm", Kind.INTENT)
    documents = {name: _read(directory / name) for name, *_ in _SECTIONS}
    for name, key, book, kind in _SECTIONS:
        compiler.add_groups(directory / name, documents[name].get(key, []), book, kind)
    return compiler.rule_set()


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.load(path.read_text("utf-8"), Loader=_Loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise RuleError(f"not valid YAML: {' '.join(str(exc).split())}", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read: {exc}", source=str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RuleError("a rules file must be a YAML mapping", source=str(path))
    return data


def _macros(raw: object, source: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise RuleError("'macros' must map names to a pattern or a list", source=source)
    macros: dict[str, str] = {}
    for name, value in raw.items():
        ok = isinstance(value, str) or (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        )
        if not isinstance(name, str) or not ok:
            raise RuleError(f"macro {name!r} must be a string or a list of strings", source=source)
        macros[name] = macro_body(value)
    return macros


@dataclass
class _Compiler:
    """Collects compiled groups per book while files are read (load time only)."""

    macros: dict[str, str]
    categories: Mapping[str, Limit]
    verify: bool
    groups: dict[str, list[tuple[tuple[str, ...], tuple[Rule, ...]]]] = field(default_factory=dict)
    specs: dict[str, RuleSpec] = field(default_factory=dict)

    def neutralisers(self, path: Path) -> None:
        """One group per neutraliser, so that each runs only when its triggers occur."""
        raw = _read(path).get("neutralisers", [])
        for item in _as_list(raw, path):
            spec = _validated(NeutraliserSpec, item, str(path))
            if spec.id in self.specs:
                raise RuleError(f"rule {spec.id!r} is defined twice", source=str(path))
            self.specs[spec.id] = RuleSpec(
                id=spec.id, pattern=spec.pattern, score=0.0, examples=spec.examples
            )
            pattern = r"(?<!\w)(?:" + self.compile_text(spec.pattern, spec.id, str(path)) + ")"
            rule = Rule(
                id=spec.id,
                kind=Kind.BENIGN,
                tag="benign",
                score=0.0,
                regex=self.regex(pattern, spec.id, str(path)),
                source=str(path),
            )
            self.groups.setdefault("benign", []).append((spec.triggers, (rule,)))

    def add_groups(self, path: Path, raw: object, book: str, kind: Kind) -> None:
        for item in _as_list(raw, path):
            group = _validated(GroupSpec, item, str(path))
            rules = tuple(self.rule(path, group, rule, kind) for rule in group.rules)
            self.groups.setdefault(book, []).append((group.triggers, rules))

    def rule(self, path: Path, group: GroupSpec, raw: dict[str, Any], kind: Kind) -> Rule:
        spec = _validated(RuleSpec, inherit(group, raw, kind), str(path))
        if spec.id in self.specs:
            raise RuleError(f"rule {spec.id!r} is defined twice", source=str(path))
        self.specs[spec.id] = spec
        tag = self.tag(spec, group, str(path))
        # A leading {cue} is checked by the book's shared cue regex (compiled once).
        cue = spec.pattern.startswith(_CUE)
        body = spec.pattern.removeprefix(_CUE) if cue else spec.pattern
        if cue and has_top_level_alternation(body):
            # "{cue}a|b" would silently demand a cue before b as well.
            message = f"rule {spec.id!r}: a {_CUE} rule cannot have a top-level '|'; split it"
            raise RuleError(message, source=str(path))
        pattern = r"(?<!\w)(?:" + self.compile_text(body, spec.id, str(path)) + ")"
        return Rule(
            id=spec.id,
            kind=spec.kind or kind,
            tag=tag,
            score=spec.score,
            regex=self.regex(pattern, spec.id, str(path)),
            source=str(path),
            scope=spec.scope,
            start_within=spec.start_within,
            cue=cue,
        )

    def tag(self, spec: RuleSpec, group: GroupSpec, source: str) -> str:
        if spec.kind in _HARM_KINDS:
            return _harm_tag(spec, self.categories, source)
        if spec.kind is Kind.TECHNIQUE:
            if spec.technique is None:
                message = f"rule {spec.id!r}: a technique rule needs 'technique'"
                raise RuleError(message, source=source)
            return spec.technique
        return group.name

    def compile_text(self, pattern: str, rule_id: str, source: str) -> str:
        try:
            return expand(pattern, self.macros)
        except MacroError as exc:
            raise RuleError(f"rule {rule_id!r}: {exc}", source=source) from None

    def cue_regex(self) -> re.Pattern[str] | None:
        if "cue" not in self.macros:
            return None
        pattern = self.compile_text(_CUE + r"\Z", "cue", "lexicon.yaml")
        return self.regex(pattern, "cue", "lexicon").compiled

    def regex(self, pattern: str, rule_id: str, source: str) -> LazyPattern:
        try:
            return LazyPattern(pattern, eager=self.verify)
        except re.error as exc:
            raise RuleError(f"rule {rule_id!r}: bad regex: {exc}", source=source) from None

    def rule_set(self) -> RuleSet:
        cue = self.cue_regex()
        books = {name: build_book(self.groups.get(name, []), cue) for name in _BOOKS}
        rules = RuleSet(**books)
        if self.verify:
            check_examples(rules, self.specs)
        return rules


def _harm_tag(spec: RuleSpec, categories: Mapping[str, Limit], source: str) -> str:
    where = f"rule {spec.id!r}"
    if spec.kind not in _HARM_KINDS:
        raise RuleError(f"{where}: kind must be topic or intent", source=source)
    if spec.category is None or spec.category not in categories:
        raise RuleError(f"{where}: unknown category {spec.category!r}", source=source)
    if spec.kind is Kind.TOPIC and spec.score > _TOPIC_MAX:
        raise RuleError(f"{where}: a topic rule scores at most {_TOPIC_MAX}", source=source)
    low, high = _INTENT_BAND
    if spec.kind is Kind.INTENT and not low <= spec.score <= high:
        raise RuleError(f"{where}: an intent rule scores {low}..{high}", source=source)
    hard = categories[spec.category] is Limit.HARD
    if spec.kind is Kind.INTENT and hard and spec.score < _HARD_MIN:
        raise RuleError(f"{where}: a hard-limit intent rule scores >= {_HARD_MIN}", source=source)
    return spec.category


def _as_list(raw: object, path: Path) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise RuleError("expected a list of mappings", source=str(path))
    return raw


def _validated(model: type[_M], data: dict[str, Any], source: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        name = data.get("id") or data.get("name") or "?"
        raise RuleError(f"{name!r}: {where}: {first['msg']}", source=source) from None
