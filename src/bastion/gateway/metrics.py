"""Prometheus metrics of one gateway app, in the app's own registry (no globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bastion.core.verdict import Decision

__all__ = ["GatewayMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class GatewayMetrics:
    """Counters and histograms the gateway exports at ``/metrics``.

    - ``bastion_gateway_decisions_total{direction,action,category}``
    - ``bastion_gateway_layer_latency_seconds{layer}`` (per layer, from each verdict)
    - ``bastion_gateway_check_latency_seconds{direction}`` (a whole guard check)
    - ``bastion_gateway_upstream_errors_total{reason}``
    - ``bastion_gateway_stream_cuts_total``
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "bastion_gateway_decisions",
            "Guard decisions by direction, action and category.",
            ["direction", "action", "category"],
            registry=self.registry,
        )
        self.layer_latency = Histogram(
            "bastion_gateway_layer_latency_seconds",
            "Time each guard layer took per check.",
            ["layer"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.check_latency = Histogram(
            "bastion_gateway_check_latency_seconds",
            "Time a whole guard check took.",
            ["direction"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "bastion_gateway_upstream_errors",
            "Upstream failures by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.stream_cuts = Counter(
            "bastion_gateway_stream_cuts",
            "Streamed replies cut by the sliding-window output check.",
            registry=self.registry,
        )

    def observe(self, direction: str, decision: Decision, seconds: float) -> None:
        """Count one decision and its latencies."""
        category = decision.category or "none"
        self.decisions.labels(direction, decision.action.value, category).inc()
        self.check_latency.labels(direction).observe(seconds)
        for verdict in decision.verdicts:
            self.layer_latency.labels(verdict.layer).observe(verdict.latency_ms / 1000.0)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
