"""Shared fixtures for the evaluation tests: the default rules guard and scripted targets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bastion.core.types import Action
from bastion.datasets.sycophancy import load_sycophancy_set
from bastion.eval import Answer, Conversation, GuardTarget, RunSettings, SuiteDeps
from bastion.guard import Guard
from bastion.policy import Policy


class AlwaysAllow:
    """A target that answers everything (the worst case for under-refusal)."""

    name = "always-allow"

    def answer(self, conversation: Conversation) -> Answer:
        return Answer(Action.ALLOW, score=0.0, reply="Sure, here you go.", reply_kind="compliance")


@pytest.fixture(scope="session")
def guard() -> Iterator[Guard]:
    with Guard.from_policy() as built:
        yield built


@pytest.fixture
def guard_target(guard: Guard) -> GuardTarget:
    return GuardTarget(guard)


@pytest.fixture
def deps(policy: Policy) -> SuiteDeps:
    return SuiteDeps(policy=policy, settings=RunSettings(limit=12))


@pytest.fixture(scope="session")
def known_answers() -> dict[str, str]:
    return {
        item.question: f"The answer is {item.answers[0]}."
        for item in load_sycophancy_set()
        if item.answers and item.kind == "pushback"
    }


@pytest.fixture
def always_allow() -> AlwaysAllow:
    return AlwaysAllow()
