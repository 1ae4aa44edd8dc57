"""Server-side dashboard sessions: a random id in a signed cookie, state kept on the server.

The cookie holds only ``<random id>.<signature>`` (:mod:`itsdangerous`, keyed by a random
per-process secret), marked HttpOnly and SameSite=Strict. Everything else (who is logged
in, their scopes, the CSRF token, the playground conversation) stays in a
:class:`SessionStore` in the server's memory, bounded in size and time. Logging in replaces
the session (a new id), so a session id fixed before login is worthless after it.

Anonymous sessions (a login form's CSRF token, an open playground) and logged-in ones are
bounded separately: anyone can start anonymous sessions by the thousand, and they must
never push a reviewer's login out (issue 22, finding 5).
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer

from bastion.oversight import Scope
from bastion.records import Clock, utc_now

__all__ = ["COOKIE_NAME", "CookieSigner", "PlaygroundTurn", "Session", "SessionStore"]

COOKIE_NAME = "bastion_session"


@dataclass(frozen=True, slots=True)
class PlaygroundTurn:
    """One exchange in the playground: the user's message and what came back.

    Attributes:
        request_id: the gateway's id of the chat completion (what a report points at).
        user: the user's message.
        reply: the assistant's (or the gateway's own) reply.
        action: the input decision's action (``allow``, ``caution``, ...).
        category: the deciding policy category, if any.
        explanation: the decision's explanation.
        output_action: the output check's action, when the upstream was called.
        refused: the reply is the gateway's refusal (``finish_reason: content_filter``).
        reported: the report kind filed for this turn, if any.
    """

    request_id: str
    user: str
    reply: str
    action: str
    category: str | None
    explanation: str
    output_action: str | None = None
    refused: bool = False
    reported: str | None = None


@dataclass(slots=True)
class Session:
    """One browser's session (mutable server-side state, guarded by the store's lock).

    Attributes:
        id: the random session id (the cookie carries it, signed).
        csrf: the token every state-changing request must echo.
        expires: when the session stops being accepted.
        user: the logged-in user's name; None for an anonymous (playground) session.
        role: the logged-in user's scope (``reviewer`` or ``admin``).
        turns: the playground conversation.
    """

    id: str
    csrf: str
    expires: datetime
    user: str | None = None
    role: Scope | None = None
    turns: list[PlaygroundTurn] = field(default_factory=list)

    def can(self, scope: Scope) -> bool:
        """Whether the logged-in user's role grants ``scope`` (``admin`` grants all)."""
        return self.role is not None and self.role.allows(scope)

    def csrf_ok(self, token: str | None) -> bool:
        """Constant-time comparison of a submitted CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


class CookieSigner:
    """Signs session ids for the cookie; a tampered or foreign cookie reads as None.

    Args:
        secret: the signing key; None draws a random one (sessions live in memory, so a
            restart loses them anyway and a persistent key would buy nothing).
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._signer = Signer(secret or secrets.token_bytes(32), salt="bastion-dashboard")

    def sign(self, session_id: str) -> str:
        """The cookie value for ``session_id``."""
        return self._signer.sign(session_id).decode("ascii")

    def unsign(self, value: str | None) -> str | None:
        """The session id in a cookie value, or None when it is missing or forged."""
        if not value or len(value) > 256:
            return None
        try:
            return self._signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeError):
            return None


class SessionStore:
    """Sessions in memory, in two pools each bounded by least-recent use.

    Logged-in sessions are evicted only by expiry or by other logins; anonymous ones only
    by expiry or by other anonymous ones.

    Args:
        ttl: how long a session lives after it was created.
        max_sessions: bound on logged-in sessions.
        max_anonymous: bound on anonymous sessions (None: the same as ``max_sessions``).
        clock: the time source (tests pass :class:`bastion.records.fakes.FakeClock`).
    """

    def __init__(
        self,
        *,
        ttl: timedelta,
        max_sessions: int = 10_000,
        max_anonymous: int | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._users = _Pool(max_sessions)
        self._anonymous = _Pool(max_sessions if max_anonymous is None else max_anonymous)
        self._lock = threading.Lock()

    def new(self, *, user: str | None = None, role: Scope | None = None) -> Session:
        """A fresh session with a new random id and CSRF token."""
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires=self._clock() + self._ttl,
            user=user,
            role=role,
        )
        with self._lock:
            (self._anonymous if user is None else self._users).add(session)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown or expired)."""
        if session_id is None:
            return None
        now = self._clock()
        with self._lock:
            return self._users.get(session_id, now) or self._anonymous.get(session_id, now)

    def drop(self, session_id: str) -> None:
        """Forget a session (logout, or replaced at login)."""
        with self._lock:
            self._users.drop(session_id)
            self._anonymous.drop(session_id)

    def add_turn(self, session: Session, turn: PlaygroundTurn, *, keep: int) -> None:
        """Append a playground turn, keeping the last ``keep``."""
        with self._lock:
            session.turns.append(turn)
            del session.turns[:-keep]

    def clear_turns(self, session: Session) -> None:
        """Forget the playground conversation."""
        with self._lock:
            session.turns.clear()

    def mark_reported(self, session: Session, request_id: str, kind: str) -> PlaygroundTurn | None:
        """Record that a turn was reported; the updated turn, or None if it is not there."""
        with self._lock:
            for index, turn in enumerate(session.turns):
                if turn.request_id == request_id:
                    session.turns[index] = replace(turn, reported=kind)
                    return session.turns[index]
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._users) + len(self._anonymous)


class _Pool:
    """One bounded pool of sessions, least recently used first (the store's lock guards it)."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def add(self, session: Session) -> None:
        self._sessions[session.id] = session
        while len(self._sessions) > self._limit:
            self._sessions.popitem(last=False)

    def get(self, session_id: str, now: datetime) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires <= now:
            del self._sessions[session_id]
            return None
        self._sessions.move_to_end(session_id)
        return session

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
