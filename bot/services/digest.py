"""Digests: the stories that became relevant in a period, each once, most significant first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from bot.models import Digest, Story
from bot.store.db import Store
from bot.timeutil import to_iso, utcnow

# Court rulings and laws move the story more than a lobbying push; ties go to sources.
CATEGORY_WEIGHT: dict[str, float] = {
    "courts": 1.3,
    "legislation": 1.3,
    "executive": 1.25,
    "divestiture": 1.25,
    "international": 1.0,
    "device-bans": 1.0,
    "data-security": 1.0,
    "lobbying": 0.85,
}


def significance(story: Story, now: datetime) -> float:
    age_hours = max(0.0, (now - story.last_seen).total_seconds() / 3600)
    recency = 1.0 / (1.0 + age_hours / 48.0)
    weight = CATEGORY_WEIGHT.get(story.category or "", 0.9)
    return (1.0 + math.log2(story.source_count)) * weight * (0.5 + recency)


def build_digest(
    store: Store,
    since: datetime,
    until: datetime | None = None,
    categories: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Digest:
    now = now or utcnow()
    until = until or now
    where = "relevant_at >= ? AND relevant_at < ?"
    params: list[object] = [to_iso(since), to_iso(until)]
    if categories:
        where += f" AND category IN ({','.join('?' * len(categories))})"
        params.extend(categories)
    rows = store.query(f"SELECT * FROM stories WHERE {where}", params)
    stories = store.hydrate_stories(rows)
    stories.sort(key=lambda s: (-significance(s, now), -s.last_seen.timestamp(), s.id))
    return Digest(since=since, until=until, stories=stories, generated_at=now)
