"""Fixtures for the rules-layer tests: one layer per session and a request builder.

Requests are built the way the guard builds them: messages normalised with the real
:func:`bastion.guard.normalize.normalize`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from bastion.core.types import as_messages
from bastion.core.verdict import Verdict
from bastion.guard.layers.base import CheckRequest, LayerDeps
from bastion.guard.layers.rules import RulesConfig, RulesLayer
from bastion.guard.normalize import normalize
from bastion.policy import Policy

Conversation = str | Sequence[Mapping[str, Any]]
Check = Callable[..., Verdict]


def build_request(conversation: Conversation, response: str | None = None) -> CheckRequest:
    messages = as_messages(conversation)
    return CheckRequest(
        messages=messages,
        normalized=tuple(normalize(m.content) for m in messages),
        response=response,
        normalized_response=normalize(response) if response is not None else None,
    )


@pytest.fixture(scope="session")
def make_request() -> Callable[..., CheckRequest]:
    """``make_request(conversation, response=None)`` -> a normalised request."""
    return build_request


@pytest.fixture(scope="session")
def rules_layer(policy: Policy) -> RulesLayer:
    return RulesLayer(RulesConfig(), LayerDeps(policy=policy))


@pytest.fixture(scope="session")
def check(rules_layer: RulesLayer) -> Check:
    """``check(conversation, response=None)`` -> the rules layer's verdict."""

    def run(conversation: Conversation, response: str | None = None) -> Verdict:
        return rules_layer.check(build_request(conversation, response))

    return run
