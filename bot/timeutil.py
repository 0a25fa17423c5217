"""One textual form for instants in the database: sortable UTC ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@lru_cache(maxsize=4096)
def to_iso(moment: datetime) -> str:
    # Cached: a poll writes the same fetch time and the same few publication times for
    # thousands of items. (Equal datetimes are the same instant, so one string fits all.)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # 2024-03-13T16:00:00Z, from isoformat (C) rather than strftime (~3x slower).
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    # fromisoformat (which reads the trailing Z since 3.11) is several times faster than
    # strptime, and a 7-day digest parses thousands of these.
    return datetime.fromisoformat(text)


def humanize_age(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)}m ago"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"
