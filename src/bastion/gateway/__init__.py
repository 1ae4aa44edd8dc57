"""The guarded gateway: an OpenAI-compatible HTTP service in front of an LLM.

Build it with :func:`create_app` from :class:`GatewaySettings` (loaded once by
:func:`load_settings`) and run it with uvicorn, or with ``bastion serve``. Every user turn
is checked before the upstream sees it and every reply before the client does; streamed
replies are checked on a sliding window. See ``docs/gateway.md``.

Needs the ``serve`` extra (``pip install 'bastion[serve]'``).
"""

from bastion.gateway.app import build_upstream, create_app
from bastion.gateway.embedded import EmbeddedUpstream
from bastion.gateway.http_upstream import OpenAICompatibleUpstream
from bastion.gateway.recorder import DecisionEvent, DecisionRecorder, JsonlRecorder, MemoryRecorder
from bastion.gateway.scripted import ScriptedUpstream
from bastion.gateway.settings import (
    GatewaySettings,
    StreamSettings,
    UpstreamSettings,
    load_settings,
)
from bastion.gateway.streaming import WindowGate
from bastion.gateway.upstream import Completion, Upstream, UpstreamError, UpstreamRequest

__all__ = [
    "Completion",
    "DecisionEvent",
    "DecisionRecorder",
    "EmbeddedUpstream",
    "GatewaySettings",
    "JsonlRecorder",
    "MemoryRecorder",
    "OpenAICompatibleUpstream",
    "ScriptedUpstream",
    "StreamSettings",
    "Upstream",
    "UpstreamError",
    "UpstreamRequest",
    "UpstreamSettings",
    "WindowGate",
    "build_upstream",
    "create_app",
    "load_settings",
]
