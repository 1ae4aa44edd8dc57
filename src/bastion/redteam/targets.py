"""What a campaign attacks: the :class:`Target` protocol and the built-in targets.

- :class:`GuardTarget`: the guard alone. Its reply is empty when the guard lets the turn
  through and the refusal explanation otherwise; the decision rides along for the
  :class:`~bastion.redteam.judges.GuardDecisionJudge`.
- :class:`ModelTarget`: a chat model (an embedded GGUF model via llama.cpp, or any
  :class:`~bastion.models.llm.LlmBackend`), unguarded.
- :class:`GuardedModelTarget`: the model behind the guard, as a deployment runs it: a
  refused input never reaches the model, and a refused reply is replaced.

:func:`build_target` turns a ``--target`` spec (``guard``, ``embedded:smollm2``,
``embedded:smollm2+guard``) into one. A scripted target for tests ships in
:mod:`bastion.redteam.fakes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bastion.core.errors import ConfigError
from bastion.core.types import Action

if TYPE_CHECKING:
    from bastion.core.verdict import Decision
    from bastion.guard import Guard
    from bastion.models.llm import GenerationOptions, LlmBackend
    from bastion.redteam.base import Probe

__all__ = [
    "PASSING_ACTIONS",
    "GuardTarget",
    "GuardedModelTarget",
    "ModelTarget",
    "Target",
    "TargetReply",
    "build_target",
]

PASSING_ACTIONS = frozenset({Action.ALLOW, Action.CAUTION})
"""Guard actions that let a request through to the model (caution only adds framing)."""


@dataclass(frozen=True, slots=True)
class TargetReply:
    """How a target answered one probe.

    Attributes:
        text: the reply a user would see ('' when the guard alone let the turn through).
        blocked: a guard stopped the input or replaced the reply.
        action: the guard's action on the input, when a guard looked.
        decision: the guard's decision on the input, JSON-ready, when a guard looked.
    """

    text: str
    blocked: bool = False
    action: str | None = None
    decision: dict[str, Any] | None = None


@runtime_checkable
class Target(Protocol):
    """Something that answers a conversation."""

    def answer(self, probe: Probe) -> TargetReply:
        """Reply to ``probe.messages``.

        Raises:
            BastionError: the target failed (the runner retries, then records the error).
        """
        ...


def _decision_reply(decision: Decision) -> TargetReply:
    passed = decision.action in PASSING_ACTIONS
    return TargetReply(
        text="" if passed else decision.explanation,
        blocked=not passed,
        action=decision.action.value,
        decision=decision.to_dict(verdicts=False),
    )


class GuardTarget:
    """The guard alone: did it let the attack through?"""

    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    def answer(self, probe: Probe) -> TargetReply:
        """The guard's decision on the probe's conversation."""
        return _decision_reply(self._guard.check(probe.messages, context=probe.context))


class ModelTarget:
    """A chat model with no guard in front of it."""

    def __init__(self, backend: LlmBackend, options: GenerationOptions) -> None:
        self._backend, self._options = backend, options

    def answer(self, probe: Probe) -> TargetReply:
        """The model's reply."""
        return TargetReply(text=self._backend.complete(probe.messages, self._options))


class GuardedModelTarget:
    """A chat model behind the guard: input check, model, output check."""

    def __init__(self, guard: Guard, backend: LlmBackend, options: GenerationOptions) -> None:
        self._guard, self._backend, self._options = guard, backend, options

    def answer(self, probe: Probe) -> TargetReply:
        """The refusal if the input is stopped; else the model's reply, if the output passes."""
        first = self._guard.check(probe.messages, context=probe.context)
        if first.action not in PASSING_ACTIONS:
            return _decision_reply(first)
        text = self._backend.complete(probe.messages, self._options)
        second = self._guard.check_response(probe.messages, text, context=probe.context)
        decision = first.to_dict(verdicts=False)
        if second.action is Action.REFUSE:
            return TargetReply(second.explanation, True, first.action.value, decision)
        return TargetReply(text, False, first.action.value, decision)


def build_target(
    spec: str,
    *,
    guard: Callable[[], Guard],
    options: GenerationOptions | None = None,
) -> Target:
    """The target a ``--target`` spec names.

    Args:
        spec: ``guard``, ``embedded:<model>`` or ``embedded:<model>+guard`` where
            ``<model>`` is ``smollm2`` or ``qwen``.
        guard: builds the guard (called only when the spec needs one).
        options: generation settings for embedded models.

    Raises:
        ConfigError: an unknown spec, or an embedded model that cannot be found.
    """
    if spec == "guard":
        return GuardTarget(guard())
    if not spec.startswith("embedded:"):
        raise ConfigError(
            f"unknown target {spec!r}; use guard, embedded:smollm2 or embedded:smollm2+guard"
        )
    model, _, suffix = spec.removeprefix("embedded:").partition("+")
    if suffix not in ("", "guard"):
        raise ConfigError(f"unknown target suffix {suffix!r} in {spec!r}; only '+guard'")
    from bastion.models.llm import GenerationOptions, LlamaCppBackend, model_path

    backend = LlamaCppBackend(model_path(model), threads=1)
    opts = options or GenerationOptions(max_tokens=64, temperature=0.0)
    if suffix == "guard":
        return GuardedModelTarget(guard(), backend, opts)
    return ModelTarget(backend, opts)
