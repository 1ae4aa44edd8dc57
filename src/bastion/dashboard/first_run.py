"""First run: make sure somebody can log in to the dashboard (design note 0027)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from bastion.gateway.settings import GatewaySettings
from bastion.oversight import Scope, UserStore

__all__ = ["ADMIN_USER", "FirstRun", "dashboard_url", "ensure_reviewer", "startup_lines"]

ADMIN_USER = "admin"
"""The user the first run creates."""


@dataclass(frozen=True, slots=True)
class FirstRun:
    """The user the first run created.

    Attributes:
        username: always :data:`ADMIN_USER`.
        password: the password (to print once when it was generated).
        generated: True when the password was drawn at random, False when it was given.
    """

    username: str
    password: str = field(repr=False)
    generated: bool


def ensure_reviewer(store: UserStore, *, password: str | None = None) -> FirstRun | None:
    """Create an ``admin`` user when no reviewer or admin exists yet (blocking).

    Args:
        store: the dashboard users.
        password: the admin's password (``--admin-password-env``); None draws a random
            one, which the caller prints once.

    Returns:
        The created user, or None when a reviewer already existed (nothing changes).

    Raises:
        InputError: the given password is under 8 characters.
    """
    if any(user.role.allows(Scope.REVIEWER) for user in store.list_users()):
        return None
    generated = password is None
    secret = password if password is not None else secrets.token_urlsafe(12)
    store.create_user(ADMIN_USER, secret, role=Scope.ADMIN)
    return FirstRun(ADMIN_USER, secret, generated)


def dashboard_url(settings: GatewaySettings) -> str:
    """Where the dashboard answers (a wildcard address is shown as localhost)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/dashboard/"


def startup_lines(
    store: UserStore, settings: GatewaySettings, *, environ: Mapping[str, str]
) -> list[str]:
    """What ``bastion serve`` prints about the dashboard: its URL, and the first-run user.

    Creates the ``admin`` user when nobody can log in (:func:`ensure_reviewer`), with the
    password from the variable named by ``settings.dashboard.admin_password_env`` when it
    is set, else a random one that appears here, once.
    """
    if not settings.dashboard.enabled:
        return []
    lines = [f"dashboard: {dashboard_url(settings)}"]
    variable = settings.dashboard.admin_password_env
    given = environ.get(variable) if variable else None
    created = ensure_reviewer(store, password=given or None)
    if created is not None and created.generated:
        lines.append(
            f"dashboard: created user {created.username} with password {created.password} "
            "(shown once; keep it)"
        )
    elif created is not None:
        lines.append(f"dashboard: created user {created.username} with the password in ${variable}")
    return lines
