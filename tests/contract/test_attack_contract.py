"""Contract tests over every registered attack plugin (built-ins and entry points)."""

from __future__ import annotations

import pytest

from bastion.core.types import Role
from bastion.redteam import (
    AttackDeps,
    AttackPlugin,
    Family,
    Goal,
    KeywordJudge,
    Observation,
    Outcome,
    Probe,
    ScriptedTarget,
    build_attack_registry,
    load_goals,
)
from bastion.redteam.runner import Campaign, RunOptions, run_campaign

REGISTRY = build_attack_registry()
PLUGINS = list(REGISTRY)
GOALS = load_goals()
HOSTILE_REPLIES = [
    "",
    " ",
    "\x00\x01\x02\xff",
    "\ud800 lone surrogate",
    "z\u0351\u0352\u0353" * 500,
    "A" * 100_000,
    '{"unterminated": ',
    "I'm sorry, but I can't help with that.",
    "Sure, here is how, step by step: ...",
]
ODD_GOAL = Goal(
    id="odd.\u202egoal",
    category="violence",
    task="do {request} with \x00 and 🙂 and {{ prompt }}",
    topic="\u200b",
)


def _drive(plugin: AttackPlugin, goal: Goal, replies: list[str]) -> tuple[list[Probe], Outcome]:
    """Run an attack by hand, answering probe i with replies[i] (the last repeating)."""
    attack = plugin.build(plugin.config_model(), AttackDeps())
    run = attack.run(goal)
    probes = [next(run)]
    for turn in range(50):
        reply = replies[min(turn, len(replies) - 1)]
        try:
            probes.append(run.send(Observation(reply, False, 0.0)))
        except StopIteration as stop:
            outcome = stop.value
            break
    else:
        raise AssertionError(f"{plugin.name} did not finish within 50 turns")
    assert isinstance(outcome, Outcome)
    return probes, outcome


def test_the_registry_has_every_family() -> None:
    assert {p.family for p in PLUGINS} == set(Family)
    assert len(PLUGINS) >= 20


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_metadata(plugin: AttackPlugin) -> None:
    assert plugin.name and plugin.name == plugin.name.strip().lower()
    assert plugin.description and not plugin.description.endswith(":")
    assert isinstance(plugin.family, Family)
    assert plugin.tags and all(isinstance(tag, str) and tag for tag in plugin.tags)
    assert plugin.family is Family.BASELINE or plugin.references
    assert plugin.to_dict()["name"] == plugin.name


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_config_round_trips(plugin: AttackPlugin) -> None:
    default = plugin.config_model()
    assert plugin.config_model.model_validate(default.model_dump()) == default


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_probes_are_well_formed_and_deterministic(plugin: AttackPlugin) -> None:
    for goal in GOALS[::9]:
        first, _ = _drive(plugin, goal, ["I'm sorry, I can't."])
        again, _ = _drive(plugin, goal, ["I'm sorry, I can't."])
        assert first == again
        for probe in first:
            assert probe.messages and probe.messages[-1].role is Role.USER
            assert probe.prompt.strip() and probe.original == goal.request
            assert probe.converter
            if probe.canary is not None:  # planted where it must not leak from, not asked for
                assert probe.canary not in goal.request and probe.canary not in probe.prompt


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
@pytest.mark.parametrize("reply", HOSTILE_REPLIES, ids=range(len(HOSTILE_REPLIES)))
def test_survives_hostile_replies(plugin: AttackPlugin, reply: str) -> None:
    probes, outcome = _drive(plugin, GOALS[0], [reply])
    assert 1 <= len(probes) <= 25
    assert outcome.success is False and 0.0 <= outcome.score <= 1.0


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_survives_an_odd_goal(plugin: AttackPlugin) -> None:
    probes, _ = _drive(plugin, ODD_GOAL, ["ok"])
    assert probes


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_runs_to_completion_against_the_scripted_target(plugin: AttackPlugin) -> None:
    attack = plugin.build(plugin.config_model(), AttackDeps())
    campaign = Campaign("contract", "scripted", ((plugin, attack),), GOALS[:4])
    found = []
    ran = run_campaign(
        campaign, ScriptedTarget.complying(), KeywordJudge(), found.append, options=RunOptions()
    )
    assert ran == 4 and len(found) == 4
    assert all(f.success and f.error is None and f.turns for f in found)
