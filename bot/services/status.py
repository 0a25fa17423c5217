"""Where the story stands: latest development per category, activity, feed health."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import CATEGORIES, Status
from bot.store.db import Store
from bot.timeutil import to_iso, utcnow


def build_status(store: Store, now: datetime | None = None) -> Status:
    now = now or utcnow()
    week_ago = to_iso(now - timedelta(days=7))
    month_before = to_iso(now - timedelta(days=37))
    last_7d = store.scalar("SELECT COUNT(*) FROM stories WHERE first_seen >= ?", [week_ago])
    prev_30d = store.scalar(
        "SELECT COUNT(*) FROM stories WHERE first_seen >= ? AND first_seen < ?",
        [month_before, week_ago],
    )
    return Status(
        generated_at=now,
        latest_by_category={c: store.latest_story_in(c) for c in CATEGORIES},
        last_7d=last_7d or 0,
        prev_30d=prev_30d or 0,
        last_poll=store.last_poll(),
        feeds=store.health_summary(),
        subscriptions=store.subscriptions(),
        items_total=store.scalar("SELECT COALESCE(SUM(items), 0) FROM feeds") or 0,
        relevant_total=store.scalar("SELECT COUNT(*) FROM stories") or 0,
    )
