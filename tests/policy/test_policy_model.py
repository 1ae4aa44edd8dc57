from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bastion.core.errors import PolicyError
from bastion.core.types import Action, Intent, Limit
from bastion.policy import Policy, default_policy_text, load_policy, parse_policy
from bastion.policy.loader import migration_notice
from bastion.policy.taxonomy import CATEGORY_CODES, SUBCATEGORY_PARENT, V1_TO_V2

HARD = {"child_sexual_exploitation", "indiscriminate_weapons", "targeted_attacks"}
V1_FILE = Path(__file__).with_name("policy_v1.yaml")


def _default_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(default_policy_text())


def test_default_policy_has_the_standard_taxonomy_and_three_tiers(policy: Policy) -> None:
    by_limit = {lim: {k for k, c in policy.categories.items() if c.limit is lim} for lim in Limit}
    assert by_limit[Limit.HARD] == HARD
    assert set(CATEGORY_CODES) <= set(policy.categories)
    for name, code in CATEGORY_CODES.items():
        assert policy.categories[name].code == code
    assert set(SUBCATEGORY_PARENT) <= set(policy.lookup)
    for sub, parent in SUBCATEGORY_PARENT.items():
        assert policy.category_of(sub) == parent
    assert {"crisis_support", "legal_alternatives"} <= by_limit[Limit.ENCOURAGED]


def test_hard_limits_refuse_for_every_intent_but_textbook_discussion(policy: Policy) -> None:
    for cat in HARD | {"sexual_minors", "mass_casualty_weapons"}:
        for ctx in policy.contexts:
            for intent in Intent:
                action = policy.action_for(cat, ctx, intent)
                if intent is Intent.DISCUSS:
                    assert action in (Action.CAUTION, Action.REFUSE)
                else:
                    assert action is Action.REFUSE


def test_intent_and_context_move_soft_limits(policy: Policy) -> None:
    assert policy.action_for("violent_crimes", "general", Intent.FACILITATE) is Action.REFUSE
    assert policy.action_for("violence", "fiction_writing", Intent.DEPICT) is Action.ALLOW
    assert policy.action_for("violence", "general", Intent.DISCUSS) is Action.ALLOW
    assert policy.action_for("self_harm", "general", Intent.SEEK_HELP) is Action.CAUTION
    assert policy.action_for("cybersecurity", "security_research", Intent.FACILITATE) is (
        Action.ALLOW
    )
    assert policy.action_for("cybersecurity", "minors", Intent.FACILITATE) is Action.REFUSE
    assert policy.action_for("system_prompt_extraction", "general") is Action.REFUSE
    # no intent: the policy's default intent (facilitate)
    assert policy.action_for("violence", "general") is Action.REFUSE


def test_every_category_has_an_explanation_and_hard_ones_an_alternative(policy: Policy) -> None:
    for cat in policy.lookup.values():
        assert cat.explanation.strip()
        if cat.limit is Limit.HARD:
            assert cat.alternative


def test_intent_cannot_move_a_hard_limit() -> None:
    data = _default_data()
    data["categories"]["indiscriminate_weapons"]["actions"]["depict"] = {"fiction_writing": "allow"}
    with pytest.raises(PolicyError, match="hard limit 'indiscriminate_weapons' refuses"):
        parse_policy(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(surprise=1), "surprise: unknown key"),
        (lambda d: d["categories"]["hate"].update(colour="red"), "colour: unknown key"),
        (
            lambda d: d["categories"]["hate"]["actions"].update(facilitate={"space": "allow"}),
            "undeclared contexts",
        ),
        (lambda d: d["categories"]["hate"]["actions"].update(wish="allow"), "unknown intents"),
        (
            lambda d: d["categories"]["elections"]["actions"].update(depict={"general": "x"}),
            "elections.actions",
        ),
        (
            lambda d: d["categories"]["elections"]["actions"].update(depict={"general": "allow"}),
            "no action for intent 'depict' in context",
        ),
        (lambda d: d["categories"]["hate"].update(encourages=["hate"]), "not an encouraged"),
        (lambda d: d["categories"]["crisis_support"].pop("guidance"), "needs guidance"),
        (lambda d: d["categories"]["hate"].update(code="X1"), "code"),
        (lambda d: d.update(version=3), "version"),
        (lambda d: d["contexts"].update({"Bad Name": {"description": "x"}}), "not a valid id"),
        (
            lambda d: d["categories"]["hate"]["subcategories"].update(drugs={"title": "again"}),
            "repeats another name",
        ),
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
    data["categories"]["violent_crimes"]["actions"]["depict"]["kids_homework"] = "refuse"
    file = tmp_path / "acme.yaml"
    file.write_text(yaml.safe_dump(data))
    loaded = load_policy(file)
    assert loaded.ref == "acme@2"
    assert loaded.action_for("violent_crimes", "kids_homework", Intent.DEPICT) is Action.REFUSE
    assert loaded.action_for("violence", "kids_homework", Intent.DEPICT) is Action.CAUTION


def test_a_format_1_file_loads_migrated_and_decides_as_before() -> None:
    old = yaml.safe_load(V1_FILE.read_text("utf-8"))
    policy = load_policy(V1_FILE)
    assert policy.migrated_from == 1
    notice = migration_notice(policy, str(V1_FILE))
    assert notice is not None and "bastion policy migrate" in notice
    for name, spec in old["categories"].items():
        assert name in policy.lookup
        for ctx in old["contexts"]:
            expected = (
                "refuse"
                if spec["limit"] == "hard"
                else spec.get("actions", {}).get(ctx, spec.get("default_action"))
            )
            for intent in Intent:
                assert policy.action_for(name, ctx, intent).value == expected, (name, ctx)
        assert policy.category_of(name) == V1_TO_V2.get(name, name)
    # the standard names newer models emit resolve too
    assert "violent_crimes" in policy.lookup
    assert "system_prompt_extraction" in policy.lookup
    assert migration_notice(load_policy(), "x") is None
