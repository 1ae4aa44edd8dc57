"""`--block-harmful` thresholds (:class:`HarmBlock`), over fake layers and a fake model."""

from __future__ import annotations

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.core.types import Action, Limit
from bastion.core.verdict import Decision, Verdict
from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.guard.layers.base import LayerPlugin
from bastion.models.llm import GenerationOptions
from bastion.models.llm_fakes import FakeLlm
from bastion.redteam import GuardedModelTarget, HarmBlock, Probe

PROBE = Probe.user("a question", original="x", converter="direct")
REPLY = "Here is a long and detailed answer to the question."


def _target(
    registry: Registry[LayerPlugin], *, flagged: bool, harmful: float, block: bool | HarmBlock
) -> GuardedModelTarget:
    """An input check that allows (``flagged``: cautions, as for a soft-limit category)
    and an output check scoring every reply ``harmful``."""
    flag = {"score": 0.6, "category": "violence", "intent": "depict"}
    params = flag if flagged else {"score": 0.0}
    layer = LayerConfig(type="fake_static", params={**params, "response_harmful": harmful})
    guard = Guard.from_policy(config=GuardConfig(layers=[layer]), registry=registry)
    return GuardedModelTarget(guard, FakeLlm([REPLY]), GenerationOptions(), block_harmful=block)


@pytest.mark.parametrize(
    ("flagged", "harmful", "block", "replaced"),
    [
        (False, 0.6, False, False),  # off: the policy's output action only
        (False, 0.6, True, True),  # on: the layer's own threshold
        (False, 0.4, True, False),
        (False, 0.6, HarmBlock(threshold=0.7), False),
        (False, 0.8, HarmBlock(threshold=0.7), True),
        (False, 0.95, HarmBlock(allowed_threshold=1.01), False),  # allowed inputs: never
        (True, 0.6, HarmBlock(allowed_threshold=1.01), True),  # flagged inputs: as before
        (True, 0.6, HarmBlock(threshold=0.7, allowed_threshold=0.5), False),
        (False, 0.6, HarmBlock(threshold=0.7, allowed_threshold=0.5), True),
    ],
)
def test_harm_block_thresholds(
    fake_registry: Registry[LayerPlugin],
    flagged: bool,
    harmful: float,
    block: bool | HarmBlock,
    replaced: bool,
) -> None:
    reply = _target(fake_registry, flagged=flagged, harmful=harmful, block=block).answer(PROBE)
    assert reply.action == ("caution" if flagged else "allow")
    assert reply.blocked is replaced
    assert (reply.text == REPLY) is not replaced


def test_harm_block_rejects_negative_thresholds() -> None:
    with pytest.raises(ConfigError):
        HarmBlock(threshold=-0.1)
    want = {"threshold": 0.3, "allowed_threshold": 1.01, "trust_allowed": False}
    assert HarmBlock(0.3, 1.01).to_dict() == want


def _output(limit: Limit, harmful: float) -> Decision:
    """An output check that refuses the reply in a ``limit`` category at p(harmful)."""
    verdict = Verdict(layer="response_classifier", score=harmful, response_harmful=harmful)
    return Decision(
        action=Action.REFUSE,
        review=False,
        score=harmful,
        category="weapons",
        limit=limit,
        techniques=(),
        layer="response_classifier",
        explanation="no",
        verdicts=(verdict,),
        response_harmful=True,
    )


@pytest.mark.parametrize(
    ("trust", "input_action", "limit", "harmful", "replaced"),
    [
        (False, Action.ALLOW, Limit.SOFT, 0.3, True),  # the policy's refuse always stands
        (True, Action.ALLOW, Limit.SOFT, 0.3, False),  # trusted: needs the allowed threshold
        (True, Action.ALLOW, Limit.SOFT, 0.95, True),
        (True, Action.ALLOW, Limit.HARD, 0.3, True),  # hard limits always replace
        (True, Action.CAUTION, Limit.SOFT, 0.3, True),  # flagged inputs: as before
    ],
)
def test_trust_allowed_leaves_soft_output_refusals_to_the_threshold(
    trust: bool, input_action: Action, limit: Limit, harmful: float, replaced: bool
) -> None:
    block = HarmBlock(threshold=0.2, allowed_threshold=0.9, trust_allowed=trust)
    assert block.replaces(input_action, _output(limit, harmful)) is replaced
