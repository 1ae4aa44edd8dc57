"""API key secrets (sha256 of a high-entropy token) and passwords (scrypt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "hash_secret", "new_key", "verify_password"]

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
# A hash to compare against when the user does not exist, so both paths cost one scrypt.
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, secret)``; the secret is ``bst_<key_id>_<43 random chars>``."""
    key_id = secrets.token_hex(6)
    return key_id, f"bst_{key_id}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """sha256 hex of an API key secret (enough: the secret has 256 random bits)."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of ``password`` with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None: compares against a dummy, False)."""
    try:
        _name, n, r, p, salt, digest = (stored or _DUMMY).split("$")
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected) and stored is not None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    data = password.encode("utf-8", "replace")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
