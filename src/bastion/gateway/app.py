"""The app factory: :func:`create_app` builds one gateway from its settings and parts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from bastion.core.errors import ConfigError
from bastion.gateway._http import BodyLimitMiddleware, SafeJSONResponse, install_handlers
from bastion.gateway._state import Gateway
from bastion.gateway.embedded import EmbeddedUpstream
from bastion.gateway.http_upstream import OpenAICompatibleUpstream
from bastion.gateway.metrics import GatewayMetrics
from bastion.gateway.recorder import DecisionRecorder, JsonlRecorder
from bastion.gateway.routes import router
from bastion.gateway.scripted import ScriptedUpstream
from bastion.gateway.service import GuardService
from bastion.gateway.settings import GatewaySettings
from bastion.gateway.upstream import Upstream
from bastion.guard import Guard

__all__ = ["build_upstream", "create_app"]

_DESCRIPTION = (
    "A guarded, OpenAI-compatible gateway: every user turn and every reply is checked "
    "against the bastion policy. Errors have the OpenAI shape `{error: {message, type}}`."
)


def build_upstream(settings: GatewaySettings) -> Upstream:
    """The upstream named by ``settings.upstream.target``: embedded, scripted or a URL."""
    up = settings.upstream
    if up.target == "scripted":
        return ScriptedUpstream(model=up.model or "scripted")
    if up.target == "embedded":
        return EmbeddedUpstream(
            model=up.embedded_model, threads=up.threads, n_ctx=up.n_ctx, max_tokens=up.max_tokens
        )
    key = settings.upstream_api_key
    return OpenAICompatibleUpstream(
        up.target,
        api_key=key.get_secret_value() if key is not None else None,
        model=up.model,
        timeout_s=up.timeout_s,
    )


def create_app(
    settings: GatewaySettings,
    *,
    guard: Guard | None = None,
    upstream: Upstream | None = None,
    recorder: DecisionRecorder | None = None,
) -> FastAPI:
    """Build the gateway app.

    Args:
        settings: loaded once by :func:`~bastion.gateway.load_settings`.
        guard: the guard; None builds one from ``settings.guard``.
        upstream: where completions come from; None builds the one ``settings`` names.
        recorder: where decisions are written down (the oversight store plugs in here);
            None appends records to ``settings.records`` when set.

    What the factory builds itself it also closes when the app shuts down; what is passed
    in stays the caller's to close.
    """
    closers: list[Callable[[], Any]] = []
    if guard is None:
        guard = Guard.from_config(settings.guard)
        closers.append(guard.close)
    try:
        _check_contexts(settings, guard)
        upstream, recorder = _parts(settings, upstream, recorder, closers)
    except BaseException:
        if closers and closers[0] == guard.close:
            guard.close()
        raise
    metrics = GatewayMetrics()
    service = GuardService(guard, metrics, recorder, block_output_at=settings.block_output_at)
    return _build(Gateway(settings, service, upstream, metrics), closers)


def _build(gateway: Gateway, closers: list[Callable[[], Any]]) -> FastAPI:
    app = FastAPI(
        title="bastion gateway",
        description=_DESCRIPTION,
        default_response_class=SafeJSONResponse,
        lifespan=_lifespan(closers),
    )
    app.state.gateway = gateway
    app.add_middleware(BodyLimitMiddleware, max_bytes=gateway.settings.max_body_bytes)
    install_handlers(app)
    app.include_router(router)
    return app


def _check_contexts(settings: GatewaySettings, guard: Guard) -> None:
    """A key mapped to a context the policy lacks would fail every request: refuse to start."""
    unknown = sorted(
        {c for c in settings.api_key_contexts.values() if not guard.policy.has_context(c)}
    )
    if unknown:
        known = ", ".join(guard.policy.contexts)
        raise ConfigError(f"api_key_contexts names unknown contexts {unknown}; known: {known}")


def _parts(
    settings: GatewaySettings,
    upstream: Upstream | None,
    recorder: DecisionRecorder | None,
    closers: list[Callable[[], Any]],
) -> tuple[Upstream, DecisionRecorder | None]:
    """The upstream and recorder, built from the settings where not passed in."""
    if upstream is None:
        upstream = build_upstream(settings)
        closers.append(getattr(upstream, "aclose", lambda: None))
    if recorder is None and settings.records is not None:
        recorder = JsonlRecorder(settings.records)
        closers.append(recorder.close)
    return upstream, recorder


def _lifespan(closers: list[Callable[[], Any]]) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for close in reversed(closers):
            result = close()
            if hasattr(result, "__await__"):
                await result

    return lifespan
