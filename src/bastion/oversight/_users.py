"""Validation shared by both stores for new dashboard users."""

from __future__ import annotations

import re

from bastion.core.errors import InputError
from bastion.oversight.access import Scope

__all__ = ["MIN_PASSWORD", "check_new_user"]

MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def check_new_user(username: str, password: str, role: Scope) -> str:
    """The cleaned username.

    Raises:
        InputError: a bad name, a short password, or the ``client`` role.
    """
    name = username.strip()
    if not _NAME.match(name):
        raise InputError("a username is 1-64 letters, digits or _ . @ -")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if Scope(role) is Scope.CLIENT:
        raise InputError("dashboard users are reviewers or admins, not clients")
    return name
