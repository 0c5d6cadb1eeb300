"""The one source of time: aware UTC datetimes. Tests replace it with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def today() -> date:
    return _now().date()


def set_clock(func: Callable[[], datetime]) -> Callable[[], datetime]:
    """Replace the clock; returns the previous one so that callers can restore it."""
    global _now
    previous, _now = _now, func
    return previous
