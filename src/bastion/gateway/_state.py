"""The per-app state routes receive through ``Depends``: settings, guard service, upstream,
oversight store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from bastion.gateway.auth import Access, RateLimiter, bearer
from bastion.gateway.limits import request_cost
from bastion.gateway.metrics import GatewayMetrics
from bastion.gateway.service import GuardService
from bastion.gateway.settings import GatewaySettings
from bastion.gateway.upstream import Completion, Upstream, UpstreamError, UpstreamRequest
from bastion.oversight import OversightStore

__all__ = ["CONTEXT_HEADER", "Gateway", "GatewayDep"]

CONTEXT_HEADER = "X-Bastion-Context"


@dataclass(frozen=True, slots=True)
class Gateway:
    """Everything one gateway app shares between requests.

    ``store`` is the oversight store (None without one); ``access`` checks API keys;
    ``limiter`` is the cost-charging bucket ``access`` admits requests with (None: requests
    cost one token whatever their size).
    """

    settings: GatewaySettings
    service: GuardService
    upstream: Upstream
    metrics: GatewayMetrics
    store: OversightStore | None = None
    access: Access = field(default_factory=lambda: Access(None, RateLimiter(0, 1)))
    limiter: RateLimiter | None = None

    @property
    def upstream_name(self) -> str:
        """The model name replies report when neither the client nor the upstream says."""
        if self.settings.upstream.model:
            return self.settings.upstream.model
        return str(getattr(self.upstream, "model", None) or self.settings.upstream.target)

    def context_for(self, request: Request, requested: str | None = None) -> str:
        """The deployment context: an API-key mapping wins, then the request's own choice
        (a body field, else the ``X-Bastion-Context`` header), then the guard's default.

        Raises:
            InputError: the chosen context is not in the policy.
        """
        mapped = self.settings.api_key_contexts.get(bearer(request))
        if mapped is not None:
            return self.service.context(mapped)
        if self.settings.header_context:
            requested = requested or request.headers.get(CONTEXT_HEADER) or None
        return self.service.context(requested)

    def bill(self, request: Request, texts: int, chars: int) -> None:
        """Charge the caller's key the rest of its request's cost: ``texts`` input texts
        of ``chars`` characters in all (the key check already took one token). The
        balance may go negative; the key's next requests wait it off. Nothing in open
        mode."""
        key = getattr(request.state, "api_key", None)
        if key is None or self.limiter is None:
            return
        per = self.settings.rate_limit.chars_per_token
        self.limiter.charge(key.id, request_cost(texts, chars, chars_per_token=per) - 1)

    async def complete(self, request: UpstreamRequest) -> Completion:
        """Call the upstream, counting failures."""
        try:
            return await self.upstream.complete(request)
        except UpstreamError as exc:
            self.metrics.upstream_errors.labels(exc.reason).inc()
            raise


def _gateway(request: Request) -> Gateway:
    gateway = request.app.state.gateway
    assert isinstance(gateway, Gateway)
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]
