"""Figures for self-contained HTML reports: a matplotlib figure as an inline PNG."""

from __future__ import annotations

import base64
import io
from typing import Any

__all__ = ["png_data_uri"]


def png_data_uri(fig: Any) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (no timestamp: reruns are identical)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
