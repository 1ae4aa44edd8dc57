"""What a campaign attacks: the :class:`Target` protocol and the built-in targets.

- :class:`GuardTarget`: the guard alone. Its reply is empty when the guard lets the turn
  through and the refusal explanation otherwise; the decision rides along for the
  :class:`~bastion.redteam.judges.GuardDecisionJudge`.
- :class:`ModelTarget`: a chat model (an embedded GGUF model via llama.cpp, or any
  :class:`~bastion.models.llm.LlmBackend`), unguarded.
- :class:`GuardedModelTarget`: the model behind the guard, as a deployment runs it: a
  refused input never reaches the model, and a refused reply is replaced (with
  ``block_harmful``, also a reply the output check finds harmful, whatever its category;
  :class:`HarmBlock` sets the thresholds).
- :class:`HttpChatTarget`: an OpenAI-compatible ``/chat/completions`` endpoint, a bastion
  gateway included (its ``X-Bastion-Action`` header and ``bastion`` field ride along),
  over :class:`~bastion.models.openai_chat.OpenAIChatBackend`.

:func:`build_target` turns a ``--target`` spec (``guard``, ``embedded:smollm2``,
``embedded:smollm2+guard``, ``openai:URL``, ``gateway:URL``) into one. A scripted target
for tests ships in :mod:`bastion.redteam.fakes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bastion.core.errors import ConfigError
from bastion.core.types import Action, Limit

if TYPE_CHECKING:
    from bastion.core.verdict import Decision
    from bastion.guard import Guard
    from bastion.models.llm import GenerationOptions, LlmBackend
    from bastion.models.openai_chat import OpenAIChatBackend
    from bastion.redteam.base import Probe

__all__ = [
    "PASSING_ACTIONS",
    "GuardTarget",
    "GuardedModelTarget",
    "HarmBlock",
    "HttpChatTarget",
    "HttpOptions",
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


@dataclass(frozen=True, slots=True)
class HarmBlock:
    """When a ``+guard`` target replaces a reply the output check scores as harmful, whatever
    the policy says of its category (design notes 0030 and 0035).

    The score is the harmful probability of the last layer that judged the reply (the
    response classifier, in the shipped configurations), as the guard's own
    ``response_harmful`` flag reads it.

    Attributes:
        threshold: replace at or above this score (None: the layer's operating threshold,
            i.e. whenever the output check calls the reply harmful).
        allowed_threshold: the threshold for replies to turns the input check allowed
            outright (``allow``, not ``caution``); None: ``threshold``. Above 1, such
            replies are never replaced on this rule (a ``refuse`` still replaces them).
        trust_allowed: for turns the input check allowed outright, the output check's own
            soft-limit ``refuse`` also needs ``allowed_threshold`` (design note 0038); a
            hard-limit ``refuse`` always replaces the reply.
    """

    threshold: float | None = None
    allowed_threshold: float | None = None
    trust_allowed: bool = False

    def __post_init__(self) -> None:
        for value in (self.threshold, self.allowed_threshold):
            if value is not None and value < 0.0:
                raise ConfigError(f"harm thresholds must be >= 0, got {value}")

    def replaces(self, input_action: Action, decision: Decision) -> bool:
        """Whether the reply judged in ``decision`` is replaced, given the input's action
        (the output check's ``refuse`` included)."""
        if decision.action is Action.REFUSE and not self._trusted(input_action, decision):
            return True
        if decision.response_harmful is None:
            return False
        threshold = self.threshold
        if input_action is Action.ALLOW and self.allowed_threshold is not None:
            threshold = self.allowed_threshold
        if threshold is None:
            return bool(decision.response_harmful)
        judged = [v for v in decision.verdicts if v.response_harmful is not None]
        return bool(judged) and (judged[-1].response_harmful or 0.0) >= threshold

    def _trusted(self, input_action: Action, decision: Decision) -> bool:
        """A soft-limit output ``refuse`` left to the harm threshold (``trust_allowed``)."""
        return (
            self.trust_allowed and input_action is Action.ALLOW and decision.limit is not Limit.HARD
        )

    def to_dict(self) -> dict[str, float | bool | None]:
        """JSON-ready (run metadata)."""
        return {
            "threshold": self.threshold,
            "allowed_threshold": self.allowed_threshold,
            "trust_allowed": self.trust_allowed,
        }


class GuardedModelTarget:
    """A chat model behind the guard: input check, model, output check.

    Args:
        guard: the guard (its output check needs a ``response_classifier`` layer to read
            replies).
        backend: the model.
        options: generation settings.
        block_harmful: also replace a reply the output check finds harmful when the policy
            would let its category through (``caution`` categories): ``True`` at the
            layer's operating threshold, or a :class:`HarmBlock` with thresholds; off,
            only a ``refuse`` of the output check replaces it, as the gateway does by
            default.
    """

    def __init__(
        self,
        guard: Guard,
        backend: LlmBackend,
        options: GenerationOptions,
        *,
        block_harmful: bool | HarmBlock = False,
    ) -> None:
        self._guard, self._backend, self._options = guard, backend, options
        self._block: HarmBlock | None = (
            block_harmful if isinstance(block_harmful, HarmBlock) else None
        )
        if block_harmful is True:
            self._block = HarmBlock()

    def answer(self, probe: Probe) -> TargetReply:
        """The refusal if the input is stopped; else the model's reply, if the output passes."""
        first = self._guard.check(probe.messages, context=probe.context)
        if first.action not in PASSING_ACTIONS:
            return _decision_reply(first)
        text = self._backend.complete(probe.messages, self._options)
        second = self._guard.check_response(probe.messages, text, context=probe.context)
        decision = first.to_dict(verdicts=False)
        if self._block is not None:
            replaced = self._block.replaces(first.action, second)
        else:
            replaced = second.action is Action.REFUSE
        if replaced:
            return TargetReply(
                second.explanation or _HARMFUL_REPLY, True, first.action.value, decision
            )
        return TargetReply(text, False, first.action.value, decision)


_HARMFUL_REPLY = "I can't share that reply: the output check found it harmful."
_FILTERED = "content_filter"
_HTTP_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """How to reach an HTTP target.

    Attributes:
        model: the model name sent with each request.
        api_key: bearer key (read by the caller, e.g. from an environment variable).
        transport: an httpx transport (tests: ``httpx.MockTransport`` or an ASGI/WSGI one).
    """

    model: str = "default"
    api_key: str | None = None
    transport: Any = None


class HttpChatTarget:
    """An OpenAI-compatible chat endpoint (a bastion gateway or any other).

    A reply counts as blocked when the endpoint ends it with ``finish_reason:
    content_filter`` (what the gateway does for a refused input or a replaced reply). A
    gateway's input action (``X-Bastion-Action``) and decision ride along for the judges.
    """

    def __init__(self, backend: OpenAIChatBackend, options: GenerationOptions) -> None:
        self._backend, self._options = backend, options

    def answer(self, probe: Probe) -> TargetReply:
        """POST the conversation; the probe's context goes in ``X-Bastion-Context``."""
        headers = {"X-Bastion-Context": probe.context} if probe.context else None
        reply = self._backend.chat(probe.messages, self._options, headers=headers)
        decision = (reply.bastion or {}).get("input")
        return TargetReply(
            text=reply.text,
            blocked=reply.finish_reason == _FILTERED,
            action=reply.action,
            decision=dict(decision) if isinstance(decision, dict) else None,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._backend.close()


def build_target(
    spec: str,
    *,
    guard: Callable[[], Guard],
    options: GenerationOptions | None = None,
    http: HttpOptions | None = None,
    block_harmful: bool | HarmBlock = False,
) -> Target:
    """The target a ``--target`` spec names.

    Args:
        spec: ``guard``, ``embedded:<model>`` or ``embedded:<model>+guard`` where
            ``<model>`` is ``smollm2`` or ``qwen``; ``openai:URL`` (any OpenAI-compatible
            API root, e.g. ``http://127.0.0.1:8000/v1``) or ``gateway:URL`` (a bastion
            gateway's root, same shape).
        guard: builds the guard (called only when the spec needs one).
        options: generation settings for models.
        http: model name, key and transport for HTTP targets.
        block_harmful: ``+guard`` targets also replace replies found harmful (``True``, or
            a :class:`HarmBlock` with thresholds).

    Raises:
        ConfigError: an unknown spec, or an embedded model that cannot be found.
    """
    from bastion.models.llm import GenerationOptions

    opts = options or GenerationOptions(max_tokens=64, temperature=0.0)
    if spec == "guard":
        return GuardTarget(guard())
    kind, _, rest = spec.partition(":")
    if kind in ("openai", "gateway") and rest:
        return _http_target(rest, opts, http or HttpOptions())
    if kind != "embedded" or not rest:
        raise ConfigError(
            f"unknown target {spec!r}; use guard, embedded:smollm2[+guard], openai:URL "
            "or gateway:URL"
        )
    model, _, suffix = rest.partition("+")
    if suffix not in ("", "guard"):
        raise ConfigError(f"unknown target suffix {suffix!r} in {spec!r}; only '+guard'")
    from bastion.models.llm import LlamaCppBackend, model_path

    backend = LlamaCppBackend(model_path(model), threads=1)
    if suffix == "guard":
        return GuardedModelTarget(guard(), backend, opts, block_harmful=block_harmful)
    return ModelTarget(backend, opts)


def _http_target(url: str, options: GenerationOptions, http: HttpOptions) -> HttpChatTarget:
    from bastion.models.openai_chat import OpenAIChatBackend

    backend = OpenAIChatBackend(
        url, model=http.model, api_key=http.api_key, transport=http.transport
    )
    if options.timeout_s is None:  # a network call never waits forever
        options = dataclasses.replace(options, timeout_s=_HTTP_TIMEOUT_S)
    return HttpChatTarget(backend, options)
