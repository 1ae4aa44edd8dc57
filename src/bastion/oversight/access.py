"""Who may do what: API key scopes, keys and dashboard users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["ApiKey", "IssuedKey", "Scope", "User"]


class Scope(StrEnum):
    """What an API key (or a dashboard user) may do; each scope includes the ones below it.

    ``client``: the guarded API (chat, moderations, guard checks, reports, appeals).
    ``reviewer``: also the review queue and audit search. ``admin``: everything, including
    key management.
    """

    CLIENT = "client"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    def allows(self, needed: Scope) -> bool:
        """Whether this scope grants ``needed``."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Scope.CLIENT: 0, Scope.REVIEWER: 1, Scope.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored (the secret itself is never stored, only its sha256).

    Attributes:
        id: public key id (also the secret's prefix after ``bst_``).
        name: a label for people.
        scope: what the key may do.
        created_at: when it was issued.
        revoked_at: when it was revoked, or None while active.
    """

    id: str
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key: the only time the secret is visible."""

    key: ApiKey
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user (reviewer or admin); the password is stored as a scrypt hash."""

    username: str
    role: Scope
    created_at: datetime
