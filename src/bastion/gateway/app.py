"""The app factory: :func:`create_app` builds one gateway from its settings and parts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from bastion.core.errors import ConfigError
from bastion.gateway._http import BodyLimitMiddleware, SafeJSONResponse, install_handlers
from bastion.gateway._state import Gateway
from bastion.gateway.auth import Access, RateLimiter, access_summary, authorize
from bastion.gateway.embedded import EmbeddedUpstream
from bastion.gateway.http_upstream import OpenAICompatibleUpstream
from bastion.gateway.metrics import GatewayMetrics
from bastion.gateway.oversight_routes import oversight_router
from bastion.gateway.recorder import DecisionRecorder, JsonlRecorder, TeeRecorder
from bastion.gateway.routes import router
from bastion.gateway.scripted import ScriptedUpstream
from bastion.gateway.service import GuardService
from bastion.gateway.settings import GatewaySettings
from bastion.gateway.upstream import Upstream
from bastion.guard import Guard
from bastion.oversight import KeyStore, OversightConfig, OversightStore, open_store

__all__ = ["build_upstream", "create_app", "oversight_config"]

_log = logging.getLogger("bastion.gateway")

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
    store: OversightStore | None = None,
) -> FastAPI:
    """Build the gateway app.

    Args:
        settings: loaded once by :func:`~bastion.gateway.load_settings`.
        guard: the guard; None builds one from ``settings.guard``.
        upstream: where completions come from; None builds the one ``settings`` names.
        recorder: where decisions are written down besides the store; None appends
            records to ``settings.records`` when set.
        store: the oversight store (audit log, review queue, API keys); None opens
            ``settings.store_url`` when set. It records every decision and enables the
            review, report and audit endpoints and API keys.

    What the factory builds itself it also closes when the app shuts down; what is passed
    in stays the caller's to close.
    """
    closers: list[Callable[[], Any]] = []
    if guard is None:
        guard = Guard.from_config(settings.guard)
        closers.append(guard.close)
    try:
        _check_contexts(settings, guard)
        upstream = _upstream(settings, upstream, closers)
        store = _store(settings, guard, store, closers)
        recorder = _recorder(settings, recorder, store, closers)
    except BaseException:
        for close in reversed(closers):
            if close != getattr(upstream, "aclose", None):  # async: nothing to await it here
                close()
        raise
    metrics = GatewayMetrics()
    service = GuardService(guard, metrics, recorder, block_output_at=settings.block_output_at)
    limits = settings.rate_limit
    limiter = RateLimiter(limits.per_second, limits.burst)
    access = Access(store, limiter)
    app = _build(Gateway(settings, service, upstream, metrics, store, access, limiter), closers)
    if store is not None and settings.dashboard.enabled:
        from bastion.dashboard import mount_dashboard  # the dashboard needs the store

        mount_dashboard(app, store=store, settings=settings)
    return app


def _build(gateway: Gateway, closers: list[Callable[[], Any]]) -> FastAPI:
    app = FastAPI(
        title="bastion gateway",
        description=_DESCRIPTION,
        default_response_class=SafeJSONResponse,
        lifespan=_lifespan(closers, gateway.access.keys),
        dependencies=[Depends(authorize)],
    )
    app.state.gateway = gateway
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=gateway.settings.max_body_bytes,
        body_timeout_s=gateway.settings.body_timeout_s,
    )
    install_handlers(app)
    app.include_router(router)
    app.include_router(oversight_router)
    return app


def _check_contexts(settings: GatewaySettings, guard: Guard) -> None:
    """A key mapped to a context the policy lacks would fail every request: refuse to start."""
    unknown = sorted(
        {c for c in settings.api_key_contexts.values() if not guard.policy.has_context(c)}
    )
    if unknown:
        known = ", ".join(guard.policy.contexts)
        raise ConfigError(f"api_key_contexts names unknown contexts {unknown}; known: {known}")


def _upstream(
    settings: GatewaySettings, upstream: Upstream | None, closers: list[Callable[[], Any]]
) -> Upstream:
    if upstream is None:
        upstream = build_upstream(settings)
        closers.append(getattr(upstream, "aclose", lambda: None))
    return upstream


def _store(
    settings: GatewaySettings,
    guard: Guard,
    store: OversightStore | None,
    closers: list[Callable[[], Any]],
) -> OversightStore | None:
    """The store passed in, else the one ``settings.store_url`` names (or None)."""
    if store is None and settings.store_url is not None:
        store = open_store(settings.store_url, config=oversight_config(settings, guard))
        closers.append(store.close)
    return store


def oversight_config(settings: GatewaySettings, guard: Guard) -> OversightConfig:
    """``settings.oversight`` with the guard's act thresholds filled in (the layers' own
    ``act_threshold`` settings, the combiner's threshold for the rest), so the store's
    low-confidence band sits around the thresholds that actually decide."""
    cfg = settings.oversight
    explicit = {s.type: s.act_threshold for s in guard.config.layers if s.act_threshold}
    update: dict[str, Any] = {"thresholds": {**explicit, **cfg.thresholds}}
    if "default_threshold" not in cfg.model_fields_set:
        update["default_threshold"] = guard.config.combiner.act_threshold
    return cfg.model_copy(update=update)


def _recorder(
    settings: GatewaySettings,
    recorder: DecisionRecorder | None,
    store: OversightStore | None,
    closers: list[Callable[[], Any]],
) -> DecisionRecorder | None:
    """Where decisions go: the store and/or the recorder (or the records file)."""
    if recorder is None and settings.records is not None:
        jsonl = JsonlRecorder(settings.records)
        closers.append(jsonl.close)
        recorder = jsonl
    if store is None or recorder is None:
        return store if store is not None else recorder
    return TeeRecorder(store, recorder)


def _lifespan(closers: list[Callable[[], Any]], keys: KeyStore | None) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _log.info("%s", await run_in_threadpool(access_summary, keys))  # who may call what
        yield
        for close in reversed(closers):
            result = close()
            if hasattr(result, "__await__"):
                await result

    return lifespan
