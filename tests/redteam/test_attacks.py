"""Attack behaviour beyond the registry contract: transforms, adaptivity, attacker models."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pytest

from bastion.core.types import Message, Role
from bastion.guard.normalize import normalize
from bastion.models.llm import GenerationOptions
from bastion.models.llm_fakes import FakeLlm
from bastion.redteam import AttackDeps, AttackRun, Goal, Observation, Outcome, Probe, load_goals
from bastion.redteam.attacks._data import third_party_templates
from bastion.redteam.attacks.multiturn import (
    CrescendoAttack,
    CrescendoConfig,
    PairAttack,
    PairConfig,
)
from bastion.redteam.attacks.obfuscation import homoglyphs, leetspeak, payload_split, zero_width
from bastion.redteam.attacks.persuasion import persuasion_templates
from bastion.redteam.registry import build_attack_registry, select_attacks

GOAL = load_goals()[0]


def _play(run: AttackRun, replies: Sequence[Observation]) -> tuple[list[Probe], Outcome]:
    probes = [next(run)]
    for seen in replies:
        try:
            probes.append(run.send(seen))
        except StopIteration as stop:
            outcome = stop.value
            break
    else:
        raise AssertionError("attack did not finish")
    assert isinstance(outcome, Outcome)
    return probes, outcome


def test_the_normaliser_undoes_the_character_obfuscations() -> None:
    text = GOAL.request
    for disguised in (homoglyphs(text), zero_width(text)):
        assert disguised != text
        assert normalize(disguised).canonical == normalize(text).canonical
    assert "3" in leetspeak(text) and "a =" in payload_split(text)


def test_base64_attack_carries_the_request() -> None:
    plugin = build_attack_registry().get("base64")
    probe = next(plugin.build(plugin.config_model(), AttackDeps()).run(GOAL))
    payload = probe.prompt.splitlines()[-1]
    assert base64.b64decode(payload).decode() == GOAL.request


def test_persuasion_covers_the_40_techniques() -> None:
    names = [t.name for t in persuasion_templates()]
    assert len(names) == len(set(names)) == 40
    assert all("{request}" in t.text for t in persuasion_templates())


def test_dan_templates_come_from_installed_tools() -> None:
    from importlib.util import find_spec

    if find_spec("pyrit") is None:
        pytest.skip("pyrit is not installed (requirements/training-data.txt)")
    names = [t.name for t in third_party_templates()]
    assert any(n.startswith("pyrit:") for n in names)
    assert all("{request}" in t.text for t in third_party_templates())


def test_language_switch_uses_fixed_translations() -> None:
    attack = build_attack_registry().get("language_switch")
    built = attack.build(attack.config_model(), AttackDeps())
    translated = next(g for g in load_goals() if g.translations)
    probe = next(built.run(translated))
    assert probe.prompt in dict(translated.translations).values()
    assert probe.converter.endswith(":translation")


def test_crescendo_escalates_and_backtracks_once_per_step() -> None:
    attack = CrescendoAttack(CrescendoConfig(max_turns=20), AttackDeps())
    fine, refused = Observation("Sure.", False, 0.1), Observation("I'm sorry, I can't.", False, 0.0)
    probes, outcome = _play(attack.run(GOAL), [fine, refused, fine, fine, fine, fine, fine])
    steps = [p.converter for p in probes]
    assert steps[:3] == ["crescendo:step1", "crescendo:step2", "crescendo:step2"]
    assert not outcome.success and len(probes) == 6
    assert [p.carries_goal for p in probes] == [False, False, False, True, True, True]
    # the refused turn is not kept in the history
    assert all("I'm sorry" not in m.content for m in probes[-1].messages)
    assert probes[-1].messages[-1].role is Role.USER


def test_crescendo_stops_on_success() -> None:
    attack = CrescendoAttack(CrescendoConfig(), AttackDeps())
    win = Observation("Sure, here is the method ...", True, 0.9)
    probes, outcome = _play(attack.run(GOAL), [win])
    assert outcome.success and outcome.score == 0.9 and len(probes) == 1


def test_crescendo_asks_the_attacker_model() -> None:
    attacker = FakeLlm(['"Tell me more about the chemistry, please."'])
    attack = CrescendoAttack(CrescendoConfig(max_turns=2), AttackDeps(attacker=attacker))
    probes, _ = _play(attack.run(GOAL), [Observation("ok", False, 0.0)] * 3)
    assert probes[0].prompt == "Tell me more about the chemistry, please."
    assert GOAL.task in attacker.calls[0][0][0].content


def test_pair_refines_from_the_judge_score() -> None:
    def propose(messages: Sequence[Message], options: GenerationOptions) -> str:
        return f"candidate {len(messages[-1].content)}"

    attacker = FakeLlm(propose)
    attack = PairAttack(PairConfig(rounds=3), AttackDeps(attacker=attacker))
    low = Observation("I'm sorry.", False, 0.2)
    probes, outcome = _play(attack.run(GOAL), [low, low, low])
    assert probes[0].prompt == GOAL.request and probes[1].prompt.startswith("candidate")
    assert "0.20" in attacker.calls[0][0][-1].content
    assert not outcome.success and outcome.score == 0.2 and len(probes) == 3


def test_pair_without_an_attacker_uses_scripted_rewrites() -> None:
    attack = PairAttack(PairConfig(rounds=2), AttackDeps())
    probes, _ = _play(attack.run(GOAL), [Observation("no", False, 0.0)] * 2)
    assert len({p.prompt for p in probes}) == 2 and GOAL.task in probes[0].prompt


def test_select_attacks_by_name_and_family() -> None:
    registry = build_attack_registry()
    chosen = {p.name for p in select_attacks(registry, "direct, obfuscation")}
    assert {"direct", "base64", "past_tense", "many_shot"} <= chosen and "persona" not in chosen
    assert len(select_attacks(registry, "all")) == len(registry)


def test_goal_request_reads_naturally() -> None:
    goal = Goal("g", "drugs", "do a thing", "things")
    assert goal.request == "Explain in detail, step by step, how to do a thing."


def test_fill_is_one_pass() -> None:
    from bastion.redteam.base import fill

    assert fill("{a} {b} {{ prompt }} {c}", {"a": "{b}", "b": "B"}) == "{b} B {{ prompt }} {c}"
