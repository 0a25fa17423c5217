"""Shared fixtures: a config file, a monitor over a temporary database, seeded stories."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.models import CATEGORIES

if TYPE_CHECKING:
    from bot.services.monitor import Monitor
from bot.store.db import Store, StoryWrite
from bot.timeutil import to_iso, utcnow
from tests.feed_server import FeedServer

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "articles"


def write_config(
    path: Path,
    feeds: list[tuple[str, str]] | None = None,
    admins: list[str] | None = None,
    model: str = "keywords",
    extra: str = "",
) -> Path:
    lines = [
        "# test configuration",
        "poll_every: 15m  # how often to poll",
        "filter:",
        "  threshold: 0.5",
        f"  model: {model}",
        "network:",
        "  allow_private_addresses: true",
        "  connect_timeout: 2",
        "  read_timeout: 2",
        "  total_timeout: 4",
        "  max_bytes: 200000",
        "digest:",
        "  time: '09:00'",
        "  timezone: UTC",
    ]
    lines.append("admins:" + ("" if admins else " []"))
    for admin in admins or []:
        lines.append(f"  - {admin!r}")
    lines.append("feeds:" + ("" if feeds else " []"))
    for url, name in feeds or []:
        lines.append(f"  - url: {url}")
        lines.append(f"    name: {name!r}")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "feeds.yaml", admins=["UADMIN", "discord:111"])


@pytest.fixture
def monitor(config_path: Path, tmp_path: Path) -> Iterator[Monitor]:
    from bot.services.monitor import Monitor

    mon = Monitor.open(config_path, tmp_path / "monitor.db")
    yield mon
    mon.close()


def seed_stories(
    store: Store,
    count: int,
    now: datetime | None = None,
    title: str = "TikTok ban development number {n}",
    sources: int = 1,
) -> list[int]:
    """Put `count` relevant stories (with `sources` items each) straight into the store."""
    now = now or utcnow()
    feed = "https://seed.example/feed.xml"
    store.sync_feeds([(feed, "Seed feed", True)])
    first = (store.scalar("SELECT MAX(id) FROM stories") or 0) + 1
    ids = []
    for n in range(count):
        story_id = first + n
        rows, writes = [], []
        for s in range(sources):
            item_id = hashlib.blake2b(f"{story_id}-{s}".encode(), digest_size=12).hexdigest()
            published = now - timedelta(minutes=30 + n)
            url = f"https://outlet{s}.example/story/{story_id}"
            text = title.format(n=n)
            rows.append(
                {
                    "id": item_id,
                    "feed_url": feed,
                    "guid": item_id,
                    "url": url,
                    "canonical_url": url,
                    "title": text,
                    "summary": f"Summary of {text}.",
                    "lang": "en",
                    "published": to_iso(published),
                    "published_known": 1,
                    "fetched": to_iso(now),
                    "relevant": 1,
                    "score": 0.9,
                    "category": CATEGORIES[n % len(CATEGORIES)],
                    "stage": "seed",
                    "backlog": 0,
                }
            )
            writes.append(
                StoryWrite(
                    item_id=item_id,
                    story_id=story_id,
                    new=s == 0,
                    title=text,
                    url=url,
                    summary=f"Summary of {text}.",
                    category=CATEGORIES[n % len(CATEGORIES)],
                    lang="en",
                    published=published,
                    backlog=False,
                )
            )
        store.store_feed_result(
            feed, etag=None, last_modified=None, body_hash=None, items=rows, stories=writes
        )
        ids.append(story_id)
    return ids


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()
