"""Fuzz the policy loader: any text, file or mutated policy gives a Policy or a PolicyError.

Inputs: arbitrary text and bytes (``parse_policy``, ``load_policy``), JSON (a YAML subset),
the packaged default policy with random parts replaced or removed (format 2), and
format-1 documents of any shape (they go through the in-memory migration first).
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bastion.core.errors import PolicyError
from bastion.policy import Policy, default_policy_text, load_policy, parse_policy

pytestmark = pytest.mark.reliability

_DEFAULT: dict[str, Any] = yaml.safe_load(default_policy_text())
_KEYS = ["version", "name", "contexts", "categories", "actions", "limit", "any", "general"]
_KEYS += ["default_action", "subcategories", "review", "default_intent", "discuss", "refuse"]

_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["refuse", "allow", "caution", "hard", "soft", "any", "always"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=16,
)


def _parse(text: str) -> Policy | None:
    try:
        return parse_policy(text, source="<fuzz>")
    except PolicyError as exc:
        message = str(exc)
    assert message.startswith("<fuzz>: ")  # names its source
    return None


@settings(settings.get_profile("bastion-fuzz"))
@given(
    st.text()
    | st.lists(st.sampled_from([*_KEYS, ": ", "\n", "  ", "- ", "[", "{", "&x", "*x", "1"])).map(
        "".join
    )
)
def test_policy_any_text(text: str) -> None:
    _parse(text)


@settings(settings.get_profile("bastion-fuzz"))
@given(st.binary(max_size=300) | st.text().map(lambda t: t.encode("utf-16")))
def test_policy_any_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_bytes(data)
        message = str(path)
        try:
            load_policy(path)
        except PolicyError as exc:
            message = str(exc)
        assert str(path) in message


@settings(settings.get_profile("bastion-fuzz"))
@given(_JSON)
def test_policy_any_json(value: Any) -> None:
    _parse(json.dumps(value))


@st.composite
def _mutated_default(draw: st.DrawFn) -> dict[str, Any]:
    """The default policy with up to four values replaced (or keys removed) at random paths."""
    policy = copy.deepcopy(_DEFAULT)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = policy
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node, key=str)))
            if not isinstance(node[key], dict) or not node[key]:
                break
            node = node[key]
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node, key=str)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(_JSON)
    return policy


@settings(settings.get_profile("bastion-fuzz"))
@given(_mutated_default())
def test_policy_mutated_default(policy: dict[str, Any]) -> None:
    _parse(yaml.safe_dump(policy, allow_unicode=True))


_V1 = st.fixed_dictionaries(
    {"version": st.just(1)},
    optional={
        "name": _JSON,
        "contexts": st.dictionaries(st.sampled_from(["general", "minors", "x"]), _JSON) | _JSON,
        "categories": st.dictionaries(
            st.sampled_from(["violence", "drugs", "weapons", "self_harm", "custom"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "limit": st.sampled_from(["hard", "soft"]) | _JSON,
                    "actions": st.dictionaries(st.sampled_from(["general", "x"]), _JSON) | _JSON,
                    "default_action": _JSON,
                    "title": _JSON,
                },
            )
            | _JSON,
        )
        | _JSON,
    },
)


@settings(settings.get_profile("bastion-fuzz"))
@given(_V1)
@example({"version": 1, "contexts": ["general", "minors"]})  # was ValueError
@example({"version": 1, "contexts": True})  # was TypeError
@example({"version": 1, "categories": 3})  # was AttributeError
@example({"version": 1, "categories": {"violence": {"actions": 3}}})  # was TypeError
def test_policy_format_1_of_any_shape(policy: dict[str, Any]) -> None:
    """Format-1 files are migrated before validation: a wrong shape is a PolicyError too."""
    _parse(yaml.safe_dump(policy, allow_unicode=True))


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("version: 1\ncontexts: [general, minors]", "contexts"),
        ("version: 1\ncategories: 3", "categories"),
        ("version: 1\ncategories: {violence: {actions: [refuse]}}", "categories.violence.actions"),
    ],
)
def test_format_1_of_the_wrong_shape_is_a_policy_error(document: str, where: str) -> None:
    """Issue 22 fuzzing: these crashed the in-memory migration with ValueError/TypeError."""
    with pytest.raises(PolicyError, match=f"<fuzz>: {where}: must be a mapping"):
        parse_policy(document, source="<fuzz>")
