from __future__ import annotations

import pytest

from bastion.core.errors import (
    BastionError,
    BatchInputError,
    DuplicatePluginError,
    InputError,
    LayerTimeoutError,
    PolicyError,
    UnknownPluginError,
)
from bastion.core.registry import Registry
from bastion.core.types import Action, Message, Role, as_messages


def test_action_severity_orders_strictness() -> None:
    ordered = sorted(Action, key=lambda a: a.severity)
    assert ordered == [Action.ALLOW, Action.CAUTION, Action.ASK_CONTEXT, Action.REFUSE]


def test_string_becomes_one_user_message() -> None:
    assert as_messages("hi") == (Message(Role.USER, "hi"),)


def test_openai_messages_and_content_parts() -> None:
    msgs = as_messages(
        [
            {"role": "system", "content": "be nice"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            },
            {"role": "assistant", "content": None},
        ]
    )
    assert [m.role for m in msgs] == [Role.SYSTEM, Role.USER, Role.ASSISTANT]
    assert msgs[1].content == "a\nb"
    assert msgs[2].content == ""


@pytest.mark.parametrize(
    "bad",
    [
        [{"role": "wizard", "content": "x"}],
        [{"content": "x"}],
        ["just a string"],
        [{"role": "user", "content": 5}],
        [{"role": "user", "content": [{"type": "image_url"}]}],
        42,
    ],
)
def test_malformed_messages_raise_input_error(bad: object) -> None:
    with pytest.raises(InputError):
        as_messages(bad)  # type: ignore[arg-type]


def test_exception_tree_is_rooted_and_carries_context() -> None:
    err = BatchInputError("bad json", path="in.jsonl", line=7)
    assert isinstance(err, InputError) and isinstance(err, BastionError)
    assert (err.path, err.line) == ("in.jsonl", 7)
    assert str(err) == "in.jsonl:7: bad json"
    assert isinstance(LayerTimeoutError("x", 0.5), BastionError)
    assert "a.yaml" in str(PolicyError("oops", source="a.yaml"))


def test_registry_rejects_duplicates_and_names_known_plugins() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(DuplicatePluginError):
        reg.register("a", 2)
    with pytest.raises(UnknownPluginError, match="known: a"):
        reg.get("b")
    assert reg.names() == ["a"] and list(reg) == [1] and "a" in reg and len(reg) == 1
