"""The :class:`Guard` facade: normalise once, run the cascade, combine, decide."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bastion.core.errors import ConfigError, InputError
from bastion.core.registry import Registry
from bastion.core.text import NormalizedText, View
from bastion.core.types import Action, Limit, Message, as_messages
from bastion.core.verdict import Decision
from bastion.guard.combine import CascadeCombiner
from bastion.guard.config import GuardConfig, LayerConfig
from bastion.guard.layers.base import CheckRequest, LayerDeps, LayerPlugin, require
from bastion.guard.normalize import normalize
from bastion.guard.pipeline import Pipeline, Stage, layer_name
from bastion.guard.registry import build_layer_registry
from bastion.guard.review_budget import ReviewBudget
from bastion.policy.loader import load_policy
from bastion.policy.model import Policy, ReviewMode

__all__ = ["Guard"]

_MAX_DECODED = 8
_LOG = logging.getLogger("bastion.guard")


class Guard:
    """Checks conversation turns against a policy.

    Build one with :meth:`from_config` or :meth:`from_policy`, then call :meth:`check`
    (a user turn) or :meth:`check_response` (the assistant's reply). A guard is safe to
    share between threads; call :meth:`close` (or use it as a context manager) when done.
    """

    def __init__(
        self, *, policy: Policy, config: GuardConfig, pipeline: Pipeline, combiner: CascadeCombiner
    ) -> None:
        if not policy.has_context(config.context):
            raise ConfigError(f"default context {config.context!r} is not in the policy")
        self._policy = policy
        self._config = config
        self._pipeline = pipeline
        self._combiner = combiner
        self._budget = ReviewBudget(config.combiner.review_budget)
        for warning in config.fail_open_warnings:
            _LOG.warning("guard fails open: %s", warning)

    @classmethod
    def from_config(
        cls, config: GuardConfig, *, registry: Registry[LayerPlugin] | None = None
    ) -> Guard:
        """Build a guard from a configuration (its ``policy`` path, or the default)."""
        return cls.from_policy(config.policy, config=config, registry=registry)

    @classmethod
    def from_policy(
        cls,
        policy: Policy | str | Path | None = None,
        *,
        config: GuardConfig | None = None,
        registry: Registry[LayerPlugin] | None = None,
    ) -> Guard:
        """Build a guard for ``policy`` (a loaded policy, a file, or None for the default)."""
        cfg = config or GuardConfig()
        loaded = policy if isinstance(policy, Policy) else load_policy(policy)
        plugins = registry if registry is not None else build_layer_registry()
        stages = _named([_build_stage(s, cfg, plugins, loaded) for s in cfg.layers if s.enabled])
        combiner = CascadeCombiner(cfg.combiner, loaded, fail_action=cfg.fail_action)
        combiner.set_layers(
            {s.name: s.tier for s in stages},
            {s.name: s.act_threshold for s in stages if s.act_threshold is not None},
            frozenset(s.name for s in stages if getattr(s.layer, "precise", False)),
        )
        return cls(
            policy=loaded, config=cfg, pipeline=Pipeline(stages, combiner), combiner=combiner
        )

    @property
    def policy(self) -> Policy:
        """The loaded policy."""
        return self._policy

    @property
    def config(self) -> GuardConfig:
        """The configuration the guard was built with."""
        return self._config

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the layers, in cascade order."""
        return tuple(stage.name for stage in self._pipeline.stages)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What an operator must know about this guard's configuration: each acknowledged
        fail-open setting (logged at construction; the gateway's ``/readyz`` lists them)."""
        return self._config.fail_open_warnings

    def check(
        self, messages: str | Sequence[Message | Mapping[str, Any]], *, context: str | None = None
    ) -> Decision:
        """Decide on the latest turn of a conversation (a string is one user turn).

        Raises:
            InputError: malformed messages or an unknown context. Hostile or odd text
                never raises: it gets a decision, and internal failures fail closed.
        """
        return self._decide(as_messages(messages), None, self._context(context))

    def check_response(
        self,
        messages: str | Sequence[Message | Mapping[str, Any]],
        response: str,
        *,
        context: str | None = None,
    ) -> Decision:
        """Decide on the assistant's ``response`` to a conversation.

        The decision describes the reply: ``response_refusal`` and ``response_harmful``
        are set, and a harmful reply gets the action the policy sets for its category.
        """
        if not isinstance(response, str):
            raise InputError(f"response must be a string, got {type(response).__name__}")
        return self._decide(as_messages(messages), response, self._context(context))

    def recombine(self, decision: Decision, act_thresholds: Mapping[str, float]) -> Decision:
        """The decision this guard would have made from ``decision``'s recorded verdicts
        had the named layers acted at ``act_thresholds`` (offline threshold search, e.g.
        ``benchmarks/harm_block_dev.py``). A decision without verdicts (oversized input,
        internal failure) comes back unchanged: there is nothing to recombine, and it
        already failed closed.

        Raises:
            ConfigError: a name that is not one of this guard's layers.
        """
        unknown = sorted(set(act_thresholds) - set(self.layers))
        if unknown:
            raise ConfigError(f"recombine: unknown layers {unknown}; the guard has {self.layers}")
        if not decision.verdicts:
            return decision
        combined = self._combiner.with_thresholds(act_thresholds).combine(
            decision.verdicts, decision.context
        )
        techniques = tuple(sorted({*decision.techniques, *combined.techniques}))
        return replace(combined, decoded=decision.decoded, techniques=techniques)

    def close(self) -> None:
        """Release worker threads."""
        self._pipeline.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _context(self, context: str | None) -> str:
        chosen = context or self._config.context
        if not self._policy.has_context(chosen):
            known = ", ".join(self._policy.contexts)
            raise InputError(f"unknown context {chosen!r}; the policy has: {known}")
        return chosen

    def _decide(
        self, messages: tuple[Message, ...], response: str | None, context: str
    ) -> Decision:
        return self._budgeted(self._decide_unbudgeted(messages, response, context))

    def _decide_unbudgeted(
        self, messages: tuple[Message, ...], response: str | None, context: str
    ) -> Decision:
        size = sum(len(m.content) for m in messages) + len(response or "")
        if size > self._config.max_input_chars:
            return self._oversized(size, context)
        try:
            request = self._request(messages, response, context)
            decision = self._combiner.combine(self._pipeline.run(request), context)
            return _with_normalisation(decision, request)
        except Exception as exc:  # noqa: BLE001 - the guard itself must fail closed
            return self._internal_failure(exc, context)

    def _budgeted(self, decision: Decision) -> Decision:
        """Spend the review budget: failures, oversized input and ``review: always``
        categories always go to review; uncertain decisions while the budget lasts."""
        must = decision.review and (decision.error is not None or self._always(decision))
        if self._budget.admit(wants=decision.review, must=must) or not decision.review:
            return decision
        return replace(decision, review=False)

    def _always(self, decision: Decision) -> bool:
        if decision.layer == "guard":  # oversized input or an internal failure
            return True
        name = decision.subcategory or decision.category
        spec = self._policy.lookup.get(name) if name else None
        return spec is not None and spec.review is ReviewMode.ALWAYS

    def _request(
        self, messages: tuple[Message, ...], response: str | None, context: str
    ) -> CheckRequest:
        cfg = self._config.normalize
        return CheckRequest(
            messages=messages,
            normalized=tuple(normalize(m.content, cfg) for m in messages),
            context=context,
            response=response,
            normalized_response=normalize(response, cfg) if response is not None else None,
        )

    def _oversized(self, size: int, context: str) -> Decision:
        action = self._config.oversize_action
        return Decision(
            action=action,
            review=True,
            score=1.0 if action is Action.REFUSE else 0.5,
            category=None,
            limit=Limit.NONE,
            techniques=("oversized_input",),
            layer="guard",
            explanation=f"The input is too long to check ({size:,} characters; the limit is "
            f"{self._config.max_input_chars:,}).",
            alternative="Please send a shorter message.",
            context=context,
            policy=self._policy.ref,
        )

    def _internal_failure(self, exc: Exception, context: str) -> Decision:
        action = self._config.fail_action
        return Decision(
            action=action,
            review=True,
            score=1.0,
            category=None,
            limit=Limit.NONE,
            techniques=(),
            layer="guard",
            explanation="A safety check could not complete, so this turn was handled as "
            f"'{action.value}' to stay safe.",
            context=context,
            policy=self._policy.ref,
            error=f"{type(exc).__name__}: {exc}"[:500],
        )


def _build_stage(
    spec: LayerConfig, config: GuardConfig, registry: Registry[LayerPlugin], policy: Policy
) -> Stage:
    plugin = registry.get(spec.type)
    require(plugin, layer=spec.name or spec.type)  # a missing module stops start-up here
    try:
        params = plugin.config_model.model_validate(spec.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        raise ConfigError(f"layer {spec.type!r}: {where}: {first['msg']}") from None
    layer = plugin.build(params, LayerDeps(policy=policy))
    tier = plugin.tier if spec.tier is None else spec.tier
    threshold = spec.act_threshold
    if threshold is None:
        threshold = getattr(layer, "operating_threshold", None)
    return Stage(
        layer=layer,
        tier=tier,
        timeout_s=config.default_timeout_s if spec.timeout_s is None else spec.timeout_s,
        inline=spec.timeout_s is None and tier == 0,  # cheap by design; see LayerConfig
        act_threshold=threshold,
        name=spec.name or "",
    )


def _named(stages: Sequence[Stage]) -> list[Stage]:
    """Give every stage a unique name: its configured one, else the layer's own, with
    ``_2``, ``_3``, ... on a repeat (explicit names are unique by configuration)."""
    taken = {s.name for s in stages if s.name}
    out: list[Stage] = []
    for stage in stages:
        name = stage.name or layer_name(stage.layer)
        if not stage.name:
            base, n = name, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
        taken.add(name)
        out.append(replace(stage, name=name))
    return out


def _with_normalisation(decision: Decision, request: CheckRequest) -> Decision:
    """Keep the decoded forms (and obfuscation tactics) in the decision for reviewers."""
    texts: list[NormalizedText] = list(request.normalized)
    if request.normalized_response is not None:
        texts.append(request.normalized_response)
    decoded = _unique_views(view for norm in texts for view in norm.decoded)
    techniques = {t for norm in texts for t in norm.techniques} | set(decision.techniques)
    if not decoded and len(techniques) == len(decision.techniques):
        return decision
    return replace(decision, decoded=decoded, techniques=tuple(sorted(techniques)))


def _unique_views(views: Iterable[View]) -> tuple[View, ...]:
    seen: dict[tuple[str, str], View] = {}
    for view in views:
        seen.setdefault((view.method, view.text), view)
        if len(seen) >= _MAX_DECODED:
            break
    return tuple(seen.values())
