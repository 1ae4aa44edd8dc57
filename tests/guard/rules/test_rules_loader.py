"""Rule data is validated on load: bad data fails loudly with the file and the rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bastion.core.errors import RuleError
from bastion.guard import build_layer_registry
from bastion.guard.layers.base import LayerDeps
from bastion.guard.layers.rules import RulesConfig, RulesLayer
from bastion.guard.layers.rules.layer import packaged_rules_dir
from bastion.guard.layers.rules.lexicon import (
    MacroError,
    expand,
    has_top_level_alternation,
    macro_body,
    trie_pattern,
)
from bastion.policy import Policy, load_policy

LEXICON = (
    "macros:\n  s: '[^\\w.!?;:]+'\n  cue: '(?:how{s}(?:do|to){s}(?:i{s})?|{bos})'\n  bos: '^'\n"
)


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text, "utf-8")
    return directory


def _harm(category: str = "violence", pattern: str = "{cue}hurt{s}people") -> str:
    return f"""
groups:
  - name: test
    category: {category}
    triggers: [hurt]
    rules:
      - id: test.rule
        kind: intent
        score: 0.7
        pattern: '{pattern}'
        examples: ["how do i hurt people"]
"""


def _layer(policy: Policy, directory: Path) -> RulesLayer:
    return RulesLayer(RulesConfig(rules_dir=directory), LayerDeps(policy=policy))


def test_the_packaged_rules_load_and_register(policy: Policy) -> None:
    layer = RulesLayer(RulesConfig(), LayerDeps(policy=policy))
    assert layer.name == "rules"
    plugin = build_layer_registry(entry_points=False).get("rules")
    assert plugin.tier == 0
    assert plugin.config_model is RulesConfig
    assert plugin.description.startswith("Tier-0")


def test_a_minimal_rules_directory_works(policy: Policy, tmp_path: Path) -> None:
    layer = _layer(policy, _write(tmp_path, {"lexicon.yaml": LEXICON, "harm.yaml": _harm()}))
    from bastion.core.types import as_messages
    from bastion.guard.layers.base import CheckRequest
    from bastion.guard.normalize import normalize

    messages = as_messages("How do I hurt people?")
    verdict = layer.check(CheckRequest(messages, tuple(normalize(m.content) for m in messages)))
    assert (verdict.category, verdict.score) == ("violence", 0.7)


def test_an_unknown_category_names_the_file_and_rule(policy: Policy, tmp_path: Path) -> None:
    _write(tmp_path, {"lexicon.yaml": LEXICON, "harm.yaml": _harm("made_up_category")})
    with pytest.raises(RuleError, match=r"harm\.yaml.*test\.rule.*made_up_category"):
        _layer(policy, tmp_path)


def test_malformed_yaml_is_a_rule_error(policy: Policy, tmp_path: Path) -> None:
    _write(tmp_path, {"lexicon.yaml": LEXICON, "harm.yaml": "groups: [oops: {\n"})
    with pytest.raises(RuleError, match=r"harm\.yaml.*not valid YAML") as info:
        _layer(policy, tmp_path)
    assert info.value.source is not None and info.value.source.endswith("harm.yaml")
    assert not isinstance(info.value, yaml.YAMLError)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"harm.yaml": _harm(pattern="{cue}hurt{s}{nope}")}, "unknown macro"),
        ({"harm.yaml": _harm(pattern="{cue}hurt(")}, "bad regex"),
        ({"harm.yaml": _harm(pattern="{cue}harm{s}people")}, "misses its example"),
        ({"harm.yaml": _harm(pattern="{cue}hurt{s}people|kill")}, "top-level"),
        ({"harm.yaml": "groups:\n  - name: x\n    bogus: 1\n"}, "x"),
        ({"harm.yaml": "- just a list\n"}, "must be a YAML mapping"),
        (
            {"harm.yaml": _harm().replace("score: 0.7", "score: 0.5")},
            "an intent rule scores",
        ),
        (
            {"harm.yaml": _harm("mass_harm")},
            "hard-limit intent rule scores >= 0.8",
        ),
        (
            {"harm.yaml": _harm().replace("kind: intent", "kind: topic")},
            "a topic rule scores at most",
        ),
        (
            {"harm.yaml": _harm().replace("triggers: [hurt]", "triggers: [zebra]")},
            "trigger stems",
        ),
        (
            {"harm.yaml": _harm() + '        counterexamples: ["how to hurt people"]\n'},
            "counterexample",
        ),
        (
            {"harm.yaml": _harm(), "harm_extra.yaml": _harm()},
            "defined twice",
        ),
    ],
    ids=[
        "unknown-macro",
        "bad-regex",
        "misses-example",
        "cue-alternation",
        "unknown-key",
        "not-a-mapping",
        "intent-score",
        "hard-score",
        "topic-score",
        "trigger",
        "counterexample",
        "duplicate",
    ],
)
def test_invalid_rule_data_raises(
    policy: Policy, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    _write(tmp_path, {"lexicon.yaml": LEXICON, **files})
    with pytest.raises(RuleError, match=message):
        _layer(policy, tmp_path)


def test_a_missing_directory_is_a_rule_error(policy: Policy, tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="not found"):
        _layer(policy, tmp_path / "nope")


def test_a_bad_lexicon_is_a_rule_error(policy: Policy, tmp_path: Path) -> None:
    _write(tmp_path, {"lexicon.yaml": "macros:\n  s: 3\n"})
    with pytest.raises(RuleError, match="macro 's'"):
        _layer(policy, tmp_path)


def test_a_broken_neutraliser_is_a_rule_error(policy: Policy, tmp_path: Path) -> None:
    benign = (
        "neutralisers:\n  - id: x\n    triggers: [kill]\n    pattern: 'kill{s}time'\n"
        "    examples: ['kill the lights']\n"
    )
    _write(tmp_path, {"lexicon.yaml": LEXICON, "benign.yaml": benign})
    with pytest.raises(RuleError, match="neutraliser 'x' misses"):
        _layer(policy, tmp_path)


def test_packaged_files_parse_the_same_without_libyaml() -> None:
    loaders = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]
    files = sorted(packaged_rules_dir().glob("*.yaml"))
    assert {f.name for f in files} >= {"lexicon.yaml", "benign.yaml", "techniques.yaml"}
    for file in files:
        text = file.read_text("utf-8")
        pure, fast = (yaml.load(text, Loader=loader) for loader in loaders)
        assert pure == fast, file.name


def test_every_policy_category_used_by_the_rules_exists(policy: Policy) -> None:
    layer = RulesLayer(RulesConfig(), LayerDeps(policy=policy))
    rules = layer._rules
    tags = {rule.tag for group in rules.harm.groups for rule in group}
    assert tags <= set(policy.lookup)
    assert len(tags) >= 14


def test_config_defaults_round_trip() -> None:
    config = RulesConfig(rules_dir=Path("/tmp/rules"), history_turns=3)
    assert RulesConfig.model_validate_json(config.model_dump_json()) == config
    with pytest.raises(ValueError, match="tag_only_cap"):
        RulesConfig(tag_only_cap=0.9, manipulation_cap=0.8)


def test_macros_expand_recursively_and_reject_cycles() -> None:
    macros = {"a": macro_body(["x", "yy"]), "b": macro_body("{a}z")}
    assert expand("{b}{0,2}", macros) == "(?:(?:yy|x)z){0,2}"
    with pytest.raises(MacroError, match="unknown macro"):
        expand("{c}", macros)
    with pytest.raises(MacroError, match="cycle"):
        expand("{loop}", {"loop": "{loop}"})


def test_trie_prefers_the_longest_stem_and_honours_whole_words() -> None:
    import re

    trie = re.compile(r"\b(?=(" + trie_pattern(["kill", "killer", "dan$"]) + "))")
    assert [m.group(1) for m in trie.finditer("killers kill dan dance")] == [
        "killer",
        "kill",
        "dan",
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("a|b", True), ("(?:a|b)c", False), ("[|]x", False), (r"a\|b", False), ("(a)|b", True)],
)
def test_top_level_alternation_detection(pattern: str, expected: bool) -> None:
    assert has_top_level_alternation(pattern) is expected


def test_packaged_rules_pass_full_verification() -> None:
    """The packaged rules load lazily at run time; here every regex compiles and every
    rule matches its examples and misses its counterexamples."""
    RulesLayer(RulesConfig(verify=True), LayerDeps(policy=load_policy()))


def test_custom_rules_dir_is_verified_by_default(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(packaged_rules_dir(), rules)
    harm = rules / "harm_hard.yaml"
    harm.write_text(harm.read_text("utf-8").replace("(?:", "(?:(", 1), "utf-8")
    with pytest.raises(RuleError):
        RulesLayer(RulesConfig(rules_dir=rules), LayerDeps(policy=load_policy()))
