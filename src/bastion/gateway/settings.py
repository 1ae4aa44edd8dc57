"""Gateway settings, loaded once with one precedence: defaults < file < environment < flags.

Only :func:`load_settings` reads files and the environment (including the upstream API
key, from the variable *named* by ``upstream.api_key_env``); :func:`~bastion.gateway.create_app`
and everything below it receive the resulting :class:`GatewaySettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bastion.core.errors import ConfigError
from bastion.core.types import Action
from bastion.guard.config import GuardConfig, load_config
from bastion.oversight.config import OversightConfig

__all__ = [
    "ENV_PREFIX",
    "DashboardSettings",
    "GatewaySettings",
    "ModerationSettings",
    "RateLimitSettings",
    "StreamSettings",
    "UpstreamSettings",
    "load_settings",
]

ENV_PREFIX = "BASTION_GATEWAY_"
_ENV_KEYS = {
    "HOST": "host",
    "PORT": "port",
    "UPSTREAM": "upstream.target",
    "UPSTREAM_MODEL": "upstream.model",
    "UPSTREAM_API_KEY_ENV": "upstream.api_key_env",
    "RECORDS": "records",
    "MAX_BODY_BYTES": "max_body_bytes",
    "BODY_TIMEOUT_S": "body_timeout_s",
    "KEEP_ALIVE_S": "keep_alive_s",
    "DASHBOARD": "dashboard.enabled",
    "STORE_URL": "store_url",
    "ACCESS_LOG": "access_log",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamSettings(_Frozen):
    """Where chat completions go after the input check.

    Attributes:
        target: ``embedded`` (local GGUF model, no network), ``scripted`` (canned replies,
            for demos and benchmarks) or the base URL of any OpenAI-compatible API
            (``https://host/v1``).
        model: model name sent to a URL upstream when the request names none, and reported
            by the embedded and scripted upstreams.
        api_key_env: name of the environment variable holding the URL upstream's API key
            (read once, by :func:`load_settings`); None sends no key.
        timeout_s: per-request budget for a URL upstream: a whole reply (or, when
            streaming, each read of the stream) must arrive within it.
        embedded_model: ``auto`` (Qwen2.5-0.5B, SmolLM2-135M when Qwen is missing),
            ``qwen`` or ``smollm2``.
        threads: llama.cpp threads for the embedded model.
        max_tokens: default reply length when the request sets none.
        n_ctx: context window of the embedded model, in tokens.
    """

    target: str = "embedded"
    model: str | None = None
    api_key_env: str | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    embedded_model: Literal["auto", "qwen", "smollm2"] = "auto"
    threads: int = Field(default=2, ge=1)
    max_tokens: int = Field(default=256, ge=1)
    n_ctx: int = Field(default=4096, ge=256)

    @model_validator(mode="after")
    def _known_target(self) -> UpstreamSettings:
        if self.target not in ("embedded", "scripted") and not self.target.startswith(
            ("http://", "https://")
        ):
            raise ValueError("target must be 'embedded', 'scripted' or an http(s) URL")
        return self


class StreamSettings(_Frozen):
    """Sliding-window output checks on streamed replies.

    Every ``check_every`` characters the last ``window`` characters are checked; text is
    released to the client only after a window containing it passed, so nothing unchecked
    leaves the gateway and at most one window of a harmful passage can precede the cut.

    Attributes:
        check_every: characters between window checks (N).
        window: characters each check reads (W >= N).
        max_seconds: the longest the gateway waits for one streamed reply from the
            upstream; past it the stream ends with an ``upstream_error`` event (an upstream
            that never finishes, or sends only keep-alive comments, cannot hold a client).
        max_chars: the most characters of one streamed reply; past it the upstream is
            stopped and the stream ends with an ``upstream_error`` event.
    """

    check_every: int = Field(default=200, ge=1)
    window: int = Field(default=600, ge=1)
    max_seconds: float = Field(default=300.0, gt=0)
    max_chars: int = Field(default=200_000, ge=1)

    @model_validator(mode="after")
    def _window_covers_step(self) -> StreamSettings:
        if self.window < self.check_every:
            raise ValueError("window must be at least check_every")
        return self


class RateLimitSettings(_Frozen):
    """Per-API-key token buckets (only once keys exist), charged by what a request costs.

    A request costs one token per input text (a moderation input, a chat or check
    conversation) plus one per ``chars_per_token`` characters, so a short prompt costs 1
    and a large batch its share of the guard's CPU (``bastion.gateway.limits``).

    Attributes:
        per_second: tokens a key regains per second; 0 turns limiting off.
        burst: tokens a key may spend at once before the rate applies.
        chars_per_token: characters of input text that cost one more token.
    """

    per_second: float = Field(default=50.0, ge=0)
    burst: int = Field(default=100, ge=1)
    chars_per_token: int = Field(default=1000, ge=1)


class ModerationSettings(_Frozen):
    """The per-request budget of ``/v1/moderations`` (checked before any input is).

    At ~27 µs of guard CPU per character (issue 22's measurement), the default character
    cap bounds one request at about a second of CPU.

    Attributes:
        max_inputs: more inputs in one request are answered 400 (the schema's own limit
            is 256).
        max_total_chars: more characters across all inputs are answered 413.
    """

    max_inputs: int = Field(default=32, ge=1, le=256)
    max_total_chars: int = Field(default=32_000, ge=1)


class DashboardSettings(_Frozen):
    """The human-oversight dashboard at ``/dashboard`` (``docs/dashboard.md``).

    Attributes:
        enabled: mount the dashboard (it needs an oversight store).
        playground: ``auto`` (open to anyone while the gateway itself takes requests
            without an API key, dashboard users only once keys exist), ``login``
            (dashboard users only) or ``off``.
        session_hours: how long a login lasts.
        admin_password_env: first run: the environment variable that may hold the password
            of the ``admin`` user created when no reviewer exists; when it is unset (or
            this is None) a random password is drawn and printed once.
        chart_cache_s: how long a rendered chart is reused.
    """

    enabled: bool = True
    playground: Literal["auto", "login", "off"] = "auto"
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    admin_password_env: str | None = "BASTION_ADMIN_PASSWORD"
    chart_cache_s: float = Field(default=30.0, ge=0)


class GatewaySettings(_Frozen):
    """Everything the gateway needs.

    Attributes:
        host: address to listen on.
        port: TCP port.
        max_body_bytes: larger request bodies are answered 413.
        body_timeout_s: a request body not fully received within this time (a body
            shorter than its ``Content-Length``, a trickle) is answered 408 and the
            connection closed.
        keep_alive_s: how long an idle keep-alive connection stays open (uvicorn's
            ``timeout_keep_alive``, set by ``bastion serve``).
        header_context: whether ``X-Bastion-Context`` may choose the deployment context.
        api_key_contexts: bearer API key -> deployment context; a mapped key's context wins
            over the header.
        records: append a ``guard_decision`` record per decision to this JSONL file.
        block_output_at: an output check at or above this action replaces the reply.
        upstream: where completions come from.
        stream: sliding-window settings for streamed replies.
        guard: the guard configuration (``bastion serve --config``).
        dashboard: the oversight dashboard.
        store_url: the oversight store ``create_app`` opens when none is passed in
            (``sqlite:///FILE``, ``postgresql://...``); None opens none. ``bastion serve``
            uses ``sqlite:///bastion-oversight.db`` when it is unset.
        oversight: redaction and review-queue settings of that store.
        rate_limit: per-key rate limits, charged by request cost.
        moderation: caps of one ``/v1/moderations`` request.
        access_log: uvicorn's per-request access log (the audit log records every
            decision either way; off saves ~0.3 ms of CPU per request).
        upstream_api_key: resolved from ``upstream.api_key_env``; never serialised.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    body_timeout_s: float = Field(default=10.0, gt=0, le=600)
    keep_alive_s: int = Field(default=5, ge=1, le=300)
    header_context: bool = True
    api_key_contexts: dict[str, str] = Field(default_factory=dict)
    records: Path | None = None
    block_output_at: Action = Action.REFUSE
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    guard: GuardConfig = Field(default_factory=GuardConfig)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    access_log: bool = True
    store_url: str | None = None
    oversight: OversightConfig = Field(default_factory=OversightConfig)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    upstream_api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)


def load_settings(
    file: str | Path | None = None,
    *,
    guard_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GatewaySettings:
    """Build the settings: defaults < YAML ``file`` < ``environ`` < ``overrides``.

    Args:
        file: gateway settings YAML (``BASTION_GATEWAY_SETTINGS`` names it when None).
        guard_file: guard configuration YAML; else ``BASTION_CONFIG``, else the settings
            file's ``guard_config`` key. Loaded by :func:`bastion.guard.load_config`.
        environ: read for ``BASTION_GATEWAY_*`` (and the guard's ``BASTION_*``); pass
            ``os.environ`` explicitly.
        overrides: flag values by dotted key (``host``, ``port``, ``upstream.target``...);
            None values are ignored.

    Raises:
        ConfigError: a file is unreadable or a value is invalid.
    """
    env = environ or {}
    path = file if file is not None else env.get(f"{ENV_PREFIX}SETTINGS")
    data: dict[str, Any] = _read_file(Path(path)) if path else {}
    file_guard = data.pop("guard_config", None)
    for key, dotted in _ENV_KEYS.items():
        if f"{ENV_PREFIX}{key}" in env:
            _set(data, dotted, env[f"{ENV_PREFIX}{key}"])
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set(data, dotted, value)
    chosen_guard = guard_file or env.get("BASTION_CONFIG") or file_guard
    data["guard"] = load_config(chosen_guard, environ=env)
    settings = _validate(data)
    key_env = settings.upstream.api_key_env
    if key_env and env.get(key_env):
        settings = settings.model_copy(update={"upstream_api_key": SecretStr(env[key_env])})
    return settings


def _validate(data: dict[str, Any]) -> GatewaySettings:
    try:
        return GatewaySettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid gateway settings at {where}: {first['msg']}") from None


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for name in parents:
        child = node.get(name)
        if not isinstance(child, dict):
            child = {}
            node[name] = child
        node = child
    node[leaf] = value


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read gateway settings: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: gateway settings must be a YAML mapping")
    return data
