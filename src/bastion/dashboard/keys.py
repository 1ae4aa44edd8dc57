"""The playground's own API key: the gateway needs one once any key exists."""

from __future__ import annotations

import threading

from bastion.oversight import KeyStore, Scope

__all__ = ["KEY_NAME", "PlaygroundKey"]

KEY_NAME = "dashboard-playground"
"""The name of the playground's ``client`` key in the key store."""


class PlaygroundKey:
    """The playground's own ``client`` API key, issued when the gateway starts to need keys.

    One key per process: issuing a new one revokes the earlier playground keys (their
    secrets died with the process that held them).
    """

    def __init__(self) -> None:
        self._secret: str | None = None
        self._lock = threading.Lock()

    def bearer(self, store: KeyStore) -> str | None:
        """The key's secret, or None while the gateway needs no key (blocking)."""
        with self._lock:
            if self._secret is not None and store.authenticate_key(self._secret) is not None:
                return self._secret
            if not store.has_keys():
                return None
            for key in store.list_keys():
                if key.name == KEY_NAME and key.active:
                    store.revoke_key(key.id)
            self._secret = store.create_key(KEY_NAME, Scope.CLIENT).secret
            return self._secret
