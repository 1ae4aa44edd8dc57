"""Oversight errors, placed in the one exception tree (:mod:`bastion.core.errors`)::

BastionError
├── InputError
│   ├── NotFoundError   no such entry, item, request or key (HTTP 404)
│   └── ConflictError   the item is already resolved, the name is taken (HTTP 409)
└── RecordError         the store cannot write or read (raised by the store as is)
"""

from __future__ import annotations

from bastion.core.errors import InputError

__all__ = ["ConflictError", "NotFoundError"]


class NotFoundError(InputError):
    """No such thing in the store; ``what`` and ``key`` say which."""

    def __init__(self, what: str, key: str) -> None:
        self.what, self.key = what, key
        super().__init__(f"no {what} {key!r}")


class ConflictError(InputError):
    """The request conflicts with what is stored (already resolved, already taken)."""
