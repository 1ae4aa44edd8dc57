"""Fuzz the rule loader: any rules directory loads or raises RuleError, never anything else.

Three kinds of input: arbitrary bytes and text in every rule file; YAML documents shaped
like rule books (groups, rules, neutralisers) with random and wrong values, over the
packaged lexicon so that real macros expand; and JSON-like values of any shape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bastion.core.errors import RuleError
from bastion.guard.layers.rules.loader import load_rules
from bastion.guard.layers.rules.records import RuleSet
from bastion.policy import load_policy

pytestmark = pytest.mark.reliability

_FILES = ("lexicon.yaml", "benign.yaml", "harm.yaml", "harm_x.yaml", "techniques.yaml")
_FILES += ("response.yaml",)
_PACKAGED_LEXICON = (
    Path(__file__).resolve().parents[2] / "src/bastion/guard/layers/rules/data/lexicon.yaml"
).read_text("utf-8")
_LIMITS = {name: spec.limit for name, spec in load_policy().lookup.items()}
_CATEGORIES = [*sorted(_LIMITS)[:6], "no_such_category"]

_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_WORDS = ["how", "do", "i", "make", "a", "bomb", "kill", "someone", "dan", "ignore", "x"]
_EXAMPLE = st.lists(st.sampled_from(_WORDS), max_size=5).map(" ".join)
_TOKENS = [*_WORDS, " ", "{s}", "{gap}", "{cue}", "{kill}", "{explosive}", "{nosuch}", "{0,2}"]
_TOKENS += ["(", "(?:", ")", "|", "\\w+", "\\b", "*", "+", "?", "[", "]", "\\", "{", "$"]
_PATTERN = st.lists(st.sampled_from(_TOKENS), min_size=0, max_size=8).map("".join)
_ID = st.from_regex(r"[a-z][a-z0-9_.]{0,6}", fullmatch=True) | st.text(max_size=6)
_KIND = st.sampled_from(["topic", "intent", "technique", "followup", "refusal", "compliance"])
_KIND |= st.sampled_from(["benign", "bogus"])
_SCORE = st.sampled_from([0.0, 0.2, 0.3, 0.6, 0.75, 0.8, 0.95, 1.0, -1.0, 2.0]) | st.floats()

_RULE = st.fixed_dictionaries(
    {"id": _ID, "pattern": _PATTERN, "score": _SCORE, "examples": st.lists(_EXAMPLE, max_size=3)},
    optional={
        "kind": _KIND,
        "category": st.sampled_from(_CATEGORIES),
        "technique": st.sampled_from(["jailbreak:dan", "bad", "injection:ignore"]),
        "scope": st.sampled_from(["user", "embedded", "any", "moon"]),
        "start_within": st.integers(-1, 40),
        "counterexamples": st.lists(_EXAMPLE, max_size=2),
        "surprise": _JSON,
    },
)
_GROUP = st.fixed_dictionaries(
    {
        "name": _ID,
        "triggers": st.lists(st.sampled_from([*_WORDS, "dan$", "", "$", "bo"]), max_size=4),
        "rules": st.lists(_RULE | _JSON, max_size=3),
    },
    optional={"kind": _KIND, "category": st.sampled_from(_CATEGORIES), "score": _SCORE},
)
_NEUTRALISER = st.fixed_dictionaries(
    {
        "id": _ID,
        "pattern": _PATTERN,
        "triggers": st.lists(st.sampled_from(_WORDS), max_size=3),
        "examples": st.lists(_EXAMPLE, max_size=2),
    }
)
_GROUPS = st.lists(_GROUP, max_size=3) | _JSON
_BOOKS = {
    "benign.yaml": st.fixed_dictionaries({"neutralisers": st.lists(_NEUTRALISER, max_size=2)}),
    "harm.yaml": st.fixed_dictionaries({"groups": _GROUPS}),
    "techniques.yaml": st.fixed_dictionaries(
        {}, optional={"groups": _GROUPS, "followups": _GROUPS}
    ),
    "response.yaml": st.fixed_dictionaries(
        {}, optional={"refusals": _GROUPS, "compliance": _GROUPS, "content": _GROUPS}
    ),
}


def _load(files: dict[str, bytes]) -> RuleSet | None:
    """Load ``files`` as a rules directory: the rule set, or None on a RuleError."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            rules = load_rules(Path(tmp), _LIMITS)
        except RuleError as exc:
            event("RuleError")
            message = str(exc)
        else:
            event("loaded")
            return rules
    assert message  # one line a person can read
    return None


_RAW = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["groups:", "- ", "  ", "rules:", "[", "{", "&a", "*a", ":", "\n"]))
    .map("".join)
    .map(str.encode),
)


@settings(settings.get_profile("bastion-fuzz"))
@given(st.dictionaries(st.sampled_from(_FILES), _RAW, max_size=4))
def test_rule_loader_raw_files(files: dict[str, bytes]) -> None:
    _load(files)


@st.composite
def _rule_books(draw: st.DrawFn) -> dict[str, bytes]:
    files = {"lexicon.yaml": _PACKAGED_LEXICON.encode()}
    for name, strategy in _BOOKS.items():
        if draw(st.booleans()):
            files[name] = yaml.safe_dump(draw(strategy), allow_unicode=True).encode()
    return files


@settings(settings.get_profile("bastion-fuzz"))
@given(_rule_books())
def test_rule_loader_rule_shaped_documents(files: dict[str, bytes]) -> None:
    _load(files)


@settings(settings.get_profile("bastion-fuzz"))
@given(st.dictionaries(st.sampled_from(_FILES), _JSON, max_size=4))
def test_rule_loader_any_json_shape(documents: dict[str, Any]) -> None:
    _load({name: yaml.safe_dump(doc).encode() for name, doc in documents.items()})
