"""Pipeline and combining policy, driven by the fake layers shipped in the package."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.core.errors import ConfigError, InputError
from bastion.core.registry import Registry
from bastion.core.types import Action, Intent, Limit
from bastion.core.verdict import Verdict
from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.guard.config import CombinerConfig
from bastion.guard.layers.base import CheckRequest, LayerPlugin
from bastion.policy import Policy


def _guard(
    policy: Policy, registry: Registry[LayerPlugin], *layers: dict[str, Any], **cfg: Any
) -> Guard:
    specs = [LayerConfig(**spec) for spec in layers]
    return Guard.from_policy(policy, config=GuardConfig(layers=specs, **cfg), registry=registry)


def _static(**params: Any) -> dict[str, Any]:
    return {"type": "fake_static", "params": params}


def test_hard_limit_refuses_in_every_context(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(score=0.9, category="mass_casualty_weapons"))
    for ctx in policy.contexts:
        decision = guard.check("x", context=ctx)
        assert decision.action is Action.REFUSE
        assert decision.limit is Limit.HARD
        assert decision.alternative
        assert decision.category == "indiscriminate_weapons"
        assert decision.subcategory == "mass_casualty_weapons" and decision.code == "S9"


def test_soft_limit_follows_the_context(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(score=0.8, category="cybersecurity"))
    assert guard.check("x").action is Action.ASK_CONTEXT
    assert "what you need it for" in guard.check("x").explanation
    allowed = guard.check("x", context="security_research")
    assert allowed.action is Action.ALLOW
    assert (
        allowed.explanation
        == "Security and hacking knowledge is allowed in the 'security_research' context."
    )
    assert guard.check("x", context="minors").action is Action.REFUSE


def test_below_threshold_allows_and_reports_no_category(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(score=0.3, category="violence"))
    decision = guard.check("x")
    assert (decision.action, decision.category, decision.limit) == (Action.ALLOW, None, Limit.NONE)
    assert decision.verdicts[0].category == "violence"  # the tag is kept per layer


def test_review_near_threshold_and_always_categories(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    assert _guard(policy, fake_registry, _static(score=0.55, category="drugs")).check("x").review
    assert (
        not _guard(policy, fake_registry, _static(score=0.95, category="drugs")).check("x").review
    )
    crisis = _guard(policy, fake_registry, _static(score=0.9, category="self_harm")).check("x")
    assert not crisis.review and crisis.action is Action.CAUTION  # confident: no human needed
    assert any("988" in g for g in crisis.guidance)


def test_layer_error_fails_closed_visibly(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(score=0.0), {"type": "fake_failing"})
    decision = guard.check("hello")
    assert decision.action is Action.REFUSE and decision.review
    assert decision.layer == "fake_failing"
    assert decision.error and "simulated layer failure" in decision.error


def test_fail_action_is_configurable(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, {"type": "fake_failing"}, fail_action="ask_context")
    assert guard.check("hello").action is Action.ASK_CONTEXT


def test_timeout_fails_closed(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    slow = {"type": "fake_slow", "params": {"delay_s": 2.0}, "timeout_s": 0.05}
    with _guard(policy, fake_registry, slow) as guard:
        decision = guard.check("hello")
    assert decision.action is Action.REFUSE
    assert decision.error and "timed out" in decision.error


def test_cascade_skips_later_tiers_when_confident(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    # The default runs every tier (escalate_low 0); a cascade sets a lower bound.
    cascade = {"combiner": CombinerConfig(escalate_low=0.15)}
    low = _guard(
        policy,
        fake_registry,
        {**_static(score=0.01), "tier": 0},
        {"type": "fake_failing"},  # would fail closed if it ran
        **cascade,
    )
    assert low.check("x").action is Action.ALLOW
    uncertain = _guard(
        policy,
        fake_registry,
        {**_static(score=0.4), "tier": 0},
        {"type": "fake_failing"},
        **cascade,
    )
    assert uncertain.check("x").error  # the uncertain band escalates to the next layer


def test_first_hard_limit_wins_over_a_later_tier(policy: Policy) -> None:
    from bastion.guard.combine import CascadeCombiner
    from bastion.guard.config import CombinerConfig

    combiner = CascadeCombiner(CombinerConfig(), policy)
    combiner.set_layers({"rules": 0, "model": 1}, precise=frozenset({"rules"}))
    verdicts = [
        Verdict(layer="rules", score=0.9, category="mass_harm"),
        Verdict(layer="model", score=0.1),
    ]
    assert combiner.combine(verdicts, "general").action is Action.REFUSE
    # Detectors are OR-combined: a calm model does not drop a rule's explicit intent.
    later = [
        Verdict(layer="rules", score=0.7, category="violence", intent=Intent.DEPICT),
        Verdict(layer="model", score=0.1),
    ]
    assert combiner.combine(later, "general").action is Action.CAUTION


def _rules_and_model(
    policy: Policy, registry: Registry[LayerPlugin], rules: dict[str, Any], model: dict[str, Any]
) -> Guard:
    return _guard(
        policy,
        registry,
        {**_static(name="rules", precise=True, **rules), "tier": 0},
        {**_static(name="model", **model), "tier": 1, "act_threshold": 0.7},
        combiner={"escalate_low": 0.0},
    )


def test_precise_layer_names_the_category(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    # The model's category head guesses a hard limit; the rules found a cybersecurity intent.
    guard = _rules_and_model(
        policy,
        fake_registry,
        {"score": 0.65, "category": "cybersecurity"},
        {"score": 0.86, "category": "targeted_attacks"},
    )
    research = guard.check("x", context="security_research")
    assert (research.action, research.subcategory) == (Action.ALLOW, "cybersecurity")
    assert research.category == "non_violent_crimes"
    general = guard.check("x")
    assert (general.action, general.layer, general.score) == (Action.ASK_CONTEXT, "model", 0.86)


def test_model_cannot_drop_a_rule_detection(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _rules_and_model(
        policy, fake_registry, {"score": 0.7, "category": "self_harm"}, {"score": 0.68}
    )
    decision = guard.check("x")
    assert decision.action is Action.CAUTION
    assert decision.guidance


def test_model_alone_can_refuse_a_hard_limit(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _rules_and_model(
        policy,
        fake_registry,
        {"score": 0.3, "category": "violence"},  # a topic tag does not rename
        {"score": 0.95, "category": "mass_casualty_weapons"},
    )
    decision = guard.check("x", context="fiction_writing")
    assert (decision.action, decision.limit) == (Action.REFUSE, Limit.HARD)
    assert decision.category == "indiscriminate_weapons"


def test_model_below_its_threshold_allows(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _rules_and_model(
        policy, fake_registry, {"score": 0.0}, {"score": 0.69, "category": "drugs"}
    )
    assert guard.check("x").action is Action.ALLOW


def test_unknown_category_and_bad_score_fail_closed(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    decision = _guard(policy, fake_registry, _static(score=0.9, category="nope")).check("x")
    assert decision.action is Action.REFUSE and "unknown category" in (decision.error or "")

    class BadLayer:
        name = "bad"

        def check(self, request: CheckRequest) -> Verdict:
            return Verdict(layer="bad", score=float("nan"))

    from bastion.guard.pipeline import Pipeline, Stage

    pipe = Pipeline([Stage(BadLayer(), tier=0)], cascade=_AlwaysOn())
    assert "outside [0, 1]" in (pipe.run(_request())[0].error or "")


def test_layer_proposed_action_is_used(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(score=0.2, action="ask_context"))
    assert guard.check("x").action is Action.ASK_CONTEXT


def test_response_flags_come_from_the_layers(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(
        policy, fake_registry, _static(score=0.0, response_refusal=0.9, response_harmful=0.1)
    )
    decision = guard.check_response("q", "I can't help with that.")
    assert decision.response_refusal is True and decision.response_harmful is False
    assert guard.check("q").response_refusal is None


def test_harmful_flag_uses_the_layers_act_threshold(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    # A reply classifier acting at 0.2 on p(harmful) = 0.3: the flag agrees with the action.
    layer = {
        **_static(score=0.3, category="violence", response_harmful=0.3),
        "act_threshold": 0.2,
    }
    decision = _guard(policy, fake_registry, layer).check_response("q", "a reply")
    assert decision.action is not Action.ALLOW
    assert decision.response_harmful is True


def test_unknown_context_and_bad_config(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static())
    with pytest.raises(InputError, match="unknown context"):
        guard.check("x", context="mars")
    with pytest.raises(ConfigError, match="score"):
        _guard(policy, fake_registry, _static(score=7))
    with pytest.raises(ConfigError, match="not in the policy"):
        _guard(policy, fake_registry, _static(), context="mars")
    with pytest.raises(InputError):
        guard.check_response("x", b"bytes")  # type: ignore[arg-type]


def test_oversized_input_gets_a_safe_decision(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(policy, fake_registry, _static(), max_input_chars=100)
    decision = guard.check("a" * 101)
    assert decision.action is Action.REFUSE and "oversized_input" in decision.techniques


class _AlwaysOn:
    def should_continue(self, verdicts: object, next_tier: int) -> bool:
        return True


def _request() -> CheckRequest:
    from bastion.core.types import as_messages
    from bastion.guard.normalize import normalize

    msgs = as_messages("x")
    return CheckRequest(messages=msgs, normalized=tuple(normalize(m.content) for m in msgs))


def test_per_layer_act_threshold(policy: Policy, fake_registry) -> None:  # type: ignore[no-untyped-def]
    layer = {**_static(score=0.6, category="violence", intent="depict"), "act_threshold": 0.7}
    assert _guard(policy, fake_registry, layer).check("x").action is Action.ALLOW
    layer["act_threshold"] = 0.55
    decision = _guard(policy, fake_registry, layer).check("x")
    assert decision.action is Action.CAUTION
    assert decision.review  # within the review band of the layer's own threshold


def test_a_reply_that_declines_is_safe_to_send_however_harmful_the_request(
    policy: Policy,
) -> None:
    from bastion.guard.combine import CascadeCombiner
    from bastion.guard.config import CombinerConfig

    combiner = CascadeCombiner(CombinerConfig(), policy)
    combiner.set_layers({"rules": 0, "model": 1}, precise=frozenset({"rules"}))
    request_side = Verdict(layer="model", score=0.99, category="weapons")
    declined = [
        Verdict(layer="rules", score=0.9, category="mass_casualty_weapons", response_refusal=0.9),
        request_side,
    ]
    decision = combiner.combine(declined, "general")
    assert decision.action is Action.ALLOW and decision.response_refusal
    leaked = [Verdict(layer="rules", response_refusal=0.9, response_harmful=0.9), request_side]
    assert combiner.combine(leaked, "general").action is Action.REFUSE
