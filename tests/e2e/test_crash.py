"""A poll killed with SIGKILL halfway: what was stored stays whole; the next poll finishes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from bot.services.monitor import Monitor
from bot.timeutil import utcnow
from tests.conftest import write_config
from tests.feed_server import FeedServer, rfc822, rss

TOPICS = [
    "Senate vote",
    "court ruling",
    "device ban",
    "sale talks",
    "data access",
    "Albania ban",
    "creator lobbying",
    "enforcement delay",
]


def feed(prefix: str) -> bytes:
    when = rfc822(utcnow() - timedelta(hours=1))
    return rss(
        [
            {
                "title": f"{prefix}: TikTok {topic} reported by {prefix} desk",
                "link": f"https://{prefix}.example/{n}",
                "guid": f"{prefix}-{n}",
                "description": f"Congress and the courts weigh the TikTok ban ({prefix} {topic}).",
                "pubDate": when,
            }
            for n, topic in enumerate(TOPICS)
        ]
    )


def counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        orphans = conn.execute(
            "SELECT COUNT(*) FROM items WHERE relevant = 1 AND story_id IS NULL"
        ).fetchone()[0]
        broken = conn.execute(
            "SELECT COUNT(*) FROM stories s WHERE source_count != "
            "(SELECT COUNT(*) FROM items i WHERE i.story_id = s.id)"
        ).fetchone()[0]
    return items, orphans, broken


async def test_sigkill_mid_poll_loses_nothing(feed_server: FeedServer, tmp_path: Path) -> None:
    fast = [feed_server.add(f"fast{n}.xml", body=feed(f"fast{n}")) for n in range(3)]
    slow = feed_server.add("slow.xml", body=feed("slow"), delay=8)
    config = write_config(
        tmp_path / "feeds.yaml",
        feeds=[*((u, f"Fast {n}") for n, u in enumerate(fast)), (slow, "Slow")],
        extra="",
    )
    text = (
        config.read_text()
        .replace("total_timeout: 4", "total_timeout: 60")
        .replace("read_timeout: 2", "read_timeout: 60")
    )
    config.write_text(text)
    db = tmp_path / "crash.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "--db",
        str(db),
        "poll",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ},
        cwd=tmp_path,
    )
    for _ in range(300):  # until the three fast feeds are committed
        await asyncio.sleep(0.1)
        if db.exists():
            try:
                if counts(db)[0] >= 24:
                    break
            except sqlite3.OperationalError:
                continue
    proc.kill()  # SIGKILL: no cleanup, no finally blocks
    await proc.wait()
    items, orphans, broken = counts(db)
    assert items == 24 and orphans == 0 and broken == 0

    feed_server.routes["slow.xml"].delay = 0
    monitor = Monitor.open(config, db)
    try:
        report = await monitor.poll()
    finally:
        monitor.close()
    assert report.new_items == 8  # only the slow feed's items were missing
    assert counts(db) == (32, 0, 0)
