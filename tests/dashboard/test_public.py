"""Pins the dashboard's public surface."""

from __future__ import annotations

import bastion.dashboard


def test_dashboard_all_is_pinned() -> None:
    assert sorted(bastion.dashboard.__all__) == [
        "FirstRun",
        "create_dashboard",
        "dashboard_url",
        "ensure_reviewer",
        "mount_dashboard",
        "startup_lines",
    ]
