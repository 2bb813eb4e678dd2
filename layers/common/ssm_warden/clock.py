"""Time helpers. Domain functions take ``now`` as an argument; only edges call ``utc_now``.

``utc_now`` follows a simulated clock while one is set (``set_clock`` / ``clock_set_to``): the local
demo plays a morning of sessions in seconds through the real handlers, which all ask ``utc_now``.
Nothing deployed sets one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_clock: Callable[[], datetime] | None = None


def utc_now() -> datetime:
    """Now, in UTC: the wall clock, or the simulated one while it is set."""
    return _clock() if _clock is not None else datetime.now(UTC)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Make ``utc_now`` return ``clock()`` (an aware datetime); ``None`` restores the wall clock."""
    global _clock
    _clock = clock


@contextmanager
def clock_set_to(clock: Callable[[], datetime]) -> Iterator[None]:
    """``set_clock(clock)`` for the duration of a ``with`` block, then the clock that was there."""
    global _clock
    previous = _clock
    _clock = clock
    try:
        yield
    finally:
        _clock = previous


def iso(ts: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, the format CloudTrail and the ledger use."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
