"""The human-oversight dashboard, served by the gateway at ``/dashboard``.

Server-rendered Jinja2 pages with htmx (vendored, works offline; no SPA build step):
login, the review queue, an item's whole conversation with each layer's verdict,
uphold / overturn with a rationale, audit search with chain verification, charts over
time (matplotlib SVG), and a chat playground that talks to the gateway's own
``/v1/chat/completions`` and reports wrong refusals or bad answers to the queue.

The gateway mounts it with :func:`mount_dashboard` when ``settings.dashboard.enabled``
and an oversight store is given; :func:`ensure_reviewer` is the first-run step of
``bastion serve``. See ``docs/dashboard.md``.
"""

from bastion.dashboard.app import create_dashboard, mount_dashboard
from bastion.dashboard.first_run import FirstRun, dashboard_url, ensure_reviewer, startup_lines

__all__ = [
    "FirstRun",
    "create_dashboard",
    "dashboard_url",
    "ensure_reviewer",
    "mount_dashboard",
    "startup_lines",
]
