from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bastion.core.errors import PolicyError
from bastion.core.types import Action, Limit
from bastion.policy import Policy, default_policy_text, load_policy, parse_policy

HARD = {"sexual_minors", "mass_casualty_weapons", "targeted_attacks", "mass_harm"}


def _default_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(default_policy_text())


def test_default_policy_has_the_three_tiers(policy: Policy) -> None:
    by_limit = {lim: {k for k, c in policy.categories.items() if c.limit is lim} for lim in Limit}
    assert by_limit[Limit.HARD] == HARD
    assert {
        "violence",
        "cybersecurity",
        "drugs",
        "weapons",
        "self_harm",
        "extremism",
        "sexual_adult",
        "personal_data",
        "medical_advice",
        "legal_advice",
        "financial_advice",
        "hate_harassment",
    } <= by_limit[Limit.SOFT]
    assert {
        "crisis_support",
        "legal_alternatives",
        "balanced_perspectives",
        "acknowledge_uncertainty",
    } == by_limit[Limit.ENCOURAGED]
    assert {"general", "minors", "fiction_writing", "security_research", "medical"} <= set(
        policy.contexts
    )


def test_hard_limits_refuse_in_every_context(policy: Policy) -> None:
    for cat in HARD:
        for ctx in policy.contexts:
            assert policy.action_for(cat, ctx) is Action.REFUSE


def test_soft_limits_move_with_context(policy: Policy) -> None:
    assert policy.action_for("cybersecurity", "security_research") is Action.ALLOW
    assert policy.action_for("cybersecurity", "minors") is Action.REFUSE
    assert policy.action_for("violence", "fiction_writing") is Action.ALLOW
    assert policy.action_for("legal_advice", "medical") is Action.CAUTION  # default_action


def test_every_category_has_an_explanation_and_refusals_an_alternative(policy: Policy) -> None:
    for cat in policy.categories.values():
        assert cat.explanation.strip()
        if cat.limit is Limit.HARD:
            assert cat.alternative


def test_context_cannot_move_a_hard_limit() -> None:
    data = _default_data()
    data["categories"]["mass_harm"]["actions"] = {"fiction_writing": "allow"}
    with pytest.raises(PolicyError, match="hard limit refuses in every context"):
        parse_policy(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(surprise=1), "surprise: unknown key"),
        (lambda d: d["categories"]["drugs"].update(colour="red"), "colour: unknown key"),
        (
            lambda d: d["categories"]["drugs"]["actions"].update(space="allow"),
            "undeclared contexts",
        ),
        (
            lambda d: d["categories"]["drugs"]["actions"].update(general="maybe"),
            "drugs.actions.general",
        ),
        (lambda d: d["categories"]["violence"]["actions"].pop("minors"), "no action for contexts"),
        (lambda d: d["categories"]["drugs"].update(encourages=["drugs"]), "not an encouraged"),
        (lambda d: d["categories"]["crisis_support"].pop("guidance"), "needs guidance"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["contexts"].update({"Bad Name": {"description": "x"}}), "not a valid id"),
    ],
)
def test_invalid_policies_are_clear_errors(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _default_data()
    mutate(data)
    with pytest.raises(PolicyError, match=message):
        parse_policy(yaml.safe_dump(data))


@pytest.mark.parametrize("text", ["", "- a list", "a: [unclosed", "\x00\x01"])
def test_non_policy_yaml_is_a_policy_error(text: str) -> None:
    with pytest.raises(PolicyError):
        parse_policy(text)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(binary)


def test_a_copied_and_edited_policy_loads(tmp_path: Path) -> None:
    data = _default_data()
    data["name"] = "acme"
    data["contexts"]["kids_homework"] = {"description": "homework helper"}
    for cat in data["categories"].values():
        if cat["limit"] == "soft" and "default_action" not in cat:
            cat["actions"]["kids_homework"] = "refuse"
    file = tmp_path / "acme.yaml"
    file.write_text(yaml.safe_dump(data))
    loaded = load_policy(file)
    assert loaded.ref == "acme@1"
    assert loaded.action_for("violence", "kids_homework") is Action.REFUSE
