"""Text helpers for prompting small local models and reading their JSON replies."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["clip_middle", "first_json_object"]


def clip_middle(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping the head and the tail (an
    injected instruction or the answer often sits at the end)."""
    if len(text) <= limit:
        return text
    half = (limit - 7) // 2
    return f"{text[:half]} [...] {text[-half:]}"


def first_json_object(text: str) -> Any:
    """The first JSON value that starts at a ``{`` in ``text`` (trailing text ignored).

    Raises:
        ValueError: no ``{`` in ``text``, or the JSON there does not parse; the message
            says which, with the start of ``text``.
    """
    start = text.find("{")
    if start < 0:
        raise ValueError(f"no JSON object in the reply {text[:80]!r}")
    try:
        data, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError as exc:
        raise ValueError(f"bad JSON in the reply {text[:80]!r} ({exc})") from None
    return data
