"""Where the gateway writes its decisions down: one small protocol, two implementations.

:class:`JsonlRecorder` appends ``guard_decision`` records (see :mod:`bastion.records`);
:class:`MemoryRecorder` keeps events in a list (a fake for tests). The oversight store
implements the same :class:`DecisionRecorder` protocol and is passed to
:func:`~bastion.gateway.create_app` the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from bastion.core.types import Message
from bastion.core.verdict import Decision
from bastion.records import Clock, RecordWriter, decision_record, utc_now

__all__ = ["DecisionEvent", "DecisionRecorder", "JsonlRecorder", "MemoryRecorder", "TeeRecorder"]


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """One guard decision the gateway made.

    Attributes:
        direction: ``input`` (the user's turn), ``output`` (a whole reply) or ``stream``
            (a window of a streamed reply).
        decision: what the guard decided.
        messages: the conversation that was checked.
        response: the reply (or the streamed text so far) that was judged, if any.
        request_id: the gateway's id of the HTTP request.
        enforced: whether the decision changed what the client got (refused, asked,
            framed, replaced or cut).
    """

    direction: str
    decision: Decision
    messages: tuple[Message, ...]
    response: str | None
    request_id: str
    enforced: bool


@runtime_checkable
class DecisionRecorder(Protocol):
    """Keeps the gateway's decisions."""

    def record(self, event: DecisionEvent) -> None:
        """Write one decision down (called on a worker thread; must be thread-safe)."""
        ...


class JsonlRecorder:
    """Appends one ``guard_decision`` record per event to a JSONL file.

    Args:
        path: the records file (appended to, never rewritten).
        clock: the record clock (tests pass :class:`bastion.records.fakes.FakeClock`).
    """

    def __init__(self, path: Path, *, clock: Clock = utc_now) -> None:
        self._writer = RecordWriter(path)
        self._clock = clock
        self._lock = threading.Lock()

    def record(self, event: DecisionEvent) -> None:
        """Append the event as a record; its source names the request and direction."""
        record = decision_record(
            event.decision,
            messages=event.messages,
            response=event.response,
            clock=self._clock,
            source=f"gateway:{event.request_id}:{event.direction}",
        )
        with self._lock:
            self._writer.write(record)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._writer.close()


class MemoryRecorder:
    """Keeps events in :attr:`events` (a fake for tests and demos)."""

    def __init__(self) -> None:
        self.events: list[DecisionEvent] = []
        self._lock = threading.Lock()

    def record(self, event: DecisionEvent) -> None:
        """Append the event."""
        with self._lock:
            self.events.append(event)


class TeeRecorder:
    """Records every event to each of several recorders, in order (the first failure
    propagates, so the gateway fails closed)."""

    def __init__(self, *recorders: DecisionRecorder) -> None:
        self._recorders = recorders

    def record(self, event: DecisionEvent) -> None:
        """Pass the event to every recorder."""
        for recorder in self._recorders:
            recorder.record(event)
