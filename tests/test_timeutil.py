"""Instants as stored: one sortable UTC form whatever the input's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.timeutil import from_iso, to_iso

MOMENTS = [
    datetime(2024, 3, 13, 16, 0, 0),  # naive: read as UTC
    datetime(2024, 3, 13, 16, 0, 0, 999_999, tzinfo=UTC),
    datetime(2024, 3, 13, 16, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2025, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(0), "GMT")),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_to_iso_is_utc_to_the_second(moment: datetime) -> None:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert to_iso(moment) == aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert from_iso(to_iso(moment)) == aware.replace(microsecond=0)


def test_the_same_instant_in_two_zones_is_one_string() -> None:
    utc = datetime(2024, 3, 13, 21, 0, tzinfo=UTC)
    eastern = utc.astimezone(timezone(timedelta(hours=-5)))
    assert to_iso(utc) == to_iso(eastern) == "2024-03-13T21:00:00Z"
    assert to_iso(eastern) == "2024-03-13T21:00:00Z"  # again: from the cache, still right
