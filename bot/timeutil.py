"""One textual form for instants in the database: sortable UTC ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


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
