"""`tiktok-monitor run` as an operator runs it: polls at start, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from bot.timeutil import utcnow
from tests.conftest import write_config
from tests.feed_server import FeedServer, rfc822, rss


async def test_run_polls_on_schedule_and_stops_cleanly_on_sigterm(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    items = [
        {
            "title": "Senate passes TikTok divestiture bill",
            "guid": "1",
            "link": "https://wire.example/senate-tiktok",
            "pubDate": rfc822(utcnow()),
        }
    ]
    url = feed_server.add("feed.xml", body=rss(items))
    config = write_config(tmp_path / "feeds.yaml", feeds=[(url, "Wire")])
    db = tmp_path / "run.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "--db",
        str(db),
        "-v",
        "run",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        for _ in range(200):  # the poll job runs at start
            await asyncio.sleep(0.1)
            if db.exists() and feed_server.routes["feed.xml"].hits:
                with sqlite3.connect(db) as conn:
                    if conn.execute(
                        "SELECT COUNT(*) FROM polls WHERE finished IS NOT NULL"
                    ).fetchone()[0]:
                        break
        else:
            raise AssertionError("no poll finished within 20 s")
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert "console adapter" in err.decode()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT title FROM items").fetchall() == [
            ("Senate passes TikTok divestiture bill",)
        ]
