"""The poll cycle against real local feed servers: what ends up stored and what the admin sees."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.services.monitor import Monitor
from bot.timeutil import utcnow
from tests.conftest import write_config
from tests.feed_server import FeedServer, rfc822, rss

WORDS = (
    "senate house court judge oracle montana governor appeal ruling deadline extension "
    "investors venture algorithm servers parliament ministry canada india nepal albania "
    "lawsuit injunction hearing testimony creators advertisers campaign license approval "
    "treasury commerce attorney general warrant subpoena statute amendment clause review "
    "panel vote delay order decree filing brief motion remedy penalty fine audit inquiry"
).split()


def ban_items(prefix: str, n: int, hours_ago: float = 2) -> list[dict[str, str]]:
    """Distinct ban items: each shares little text with the others, so none are grouped."""
    rng = random.Random(prefix)
    when = rfc822(utcnow() - timedelta(hours=hours_ago))
    items = []
    for i in range(n):
        words = " ".join(rng.sample(WORDS, 9))
        items.append(
            {
                "title": f"TikTok ban: {prefix} {words}",
                "link": f"https://{prefix}.example/news/{i}?utm_source=rss",
                "guid": f"{prefix}-{i}",
                "description": f"&lt;p&gt;{' '.join(rng.sample(WORDS, 12))} ({prefix}).&lt;/p&gt;",
                "pubDate": when,
            }
        )
    return items


def open_monitor(tmp_path: Path, feeds: list[tuple[str, str]]) -> Monitor:
    config = write_config(tmp_path / "feeds.yaml", feeds=feeds)
    return Monitor.open(config, tmp_path / "monitor.db")


async def test_polling_twice_stores_nothing_twice(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("a.xml", body=rss(ban_items("alpha", 4)))
    monitor = open_monitor(tmp_path, [(url, "Alpha")])
    try:
        first = await monitor.poll()
        second = await monitor.poll(force=True)
        count = monitor.store.scalar("SELECT COUNT(*) FROM items")
    finally:
        monitor.close()
    assert first.new_items == 4 and first.fetched == 1
    assert second.new_items == 0 and second.not_modified == 1
    assert count == 4


async def test_broken_feeds_are_recorded_and_never_stop_the_cycle(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    good = feed_server.add("good.xml", body=rss(ban_items("good", 2)))
    html = feed_server.add(
        "page.html", body=b"<!doctype html><html><body>Hi</body></html>", content_type="text/html"
    )
    slow = feed_server.add("slow.xml", body=rss(ban_items("slow", 1)), delay=6)
    large = feed_server.add("large.xml", body=b"<rss>" + b"x" * 300_000 + b"</rss>")
    missing = feed_server.url("missing.xml")
    broken = feed_server.add("broken.xml", body=b"<rss><channel><item><title>x")
    feeds = [
        (good, "Good"),
        (html, "Page"),
        (slow, "Slow"),
        (large, "Large"),
        (missing, "Missing"),
        (broken, "Broken"),
    ]
    monitor = open_monitor(tmp_path, feeds)
    try:
        report = await monitor.poll()
        health = {f.name: f for f in monitor.store.feed_health()}
        status = monitor.status()
    finally:
        monitor.close()
    assert report.new_items >= 2
    errors = {name: health[name].last_error or "" for name in health}
    assert "HTML page" in errors["Page"]
    assert "timed out" in errors["Slow"]
    assert "too large" in errors["Large"]
    assert "HTTP 404" in errors["Missing"]
    assert health["Good"].last_error is None and health["Good"].items == 2
    assert status.feeds.failing >= 4
    assert health["Missing"].next_attempt is not None and health["Missing"].next_attempt > utcnow()


async def test_failing_feed_backs_off(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("busy.xml", status=503, headers={"Retry-After": "3600"})
    monitor = open_monitor(tmp_path, [(url, "Busy")])
    try:
        await monitor.poll()
        again = await monitor.poll()  # not forced: the feed is backing off
    finally:
        monitor.close()
    assert again.skipped == 1
    assert feed_server.routes["busy.xml"].hits == 1


async def test_server_ignoring_conditional_get_is_not_reparsed(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.add("stubborn.xml", body=rss(ban_items("stub", 3)), conditional=False)
    monitor = open_monitor(tmp_path, [(url, "Stubborn")])
    try:
        await monitor.poll()
        same = await monitor.poll(force=True)
        feed_server.routes["stubborn.xml"].body = rss(ban_items("stub", 4))
        changed = await monitor.poll(force=True)
        count = monitor.store.scalar("SELECT COUNT(*) FROM items")
    finally:
        monitor.close()
    assert feed_server.routes["stubborn.xml"].hits == 3
    assert same.unchanged == 1 and same.fetched == 0 and same.bytes_parsed == 0
    assert changed.fetched == 1 and changed.new_items == 1
    assert count == 4


async def test_new_feed_backlog_never_reaches_a_digest(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    first = feed_server.add("first.xml", body=rss(ban_items("first", 2)))
    monitor = open_monitor(tmp_path, [(first, "First")])
    try:
        await monitor.poll()
        old = feed_server.add("old.xml", body=rss(ban_items("old", 50, hours_ago=72)))
        recent_backlog = feed_server.add("recent.xml", body=rss(ban_items("recent", 3, 5)))
        write_config(
            tmp_path / "feeds.yaml",
            feeds=[(first, "First"), (old, "Old"), (recent_backlog, "Recent")],
        )
        monitor.config.reload()
        await monitor.poll()
        digest = monitor.digest(timedelta(hours=24))
        found = monitor.search("old")
    finally:
        monitor.close()
    titles = " ".join(s.title for s in digest.stories)
    assert "first" in titles
    assert "old" not in titles and "recent" not in titles
    assert found, "backlog stays searchable"


async def test_a_copy_stored_by_another_feed_mid_cycle_keeps_the_story_whole(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Two feeds carry one link under two headlines and are polled at once: both pass the
    first "is it new?" check, one stores it first. The other's late copy must be dropped,
    and must not take the stored item out of the story index (it did: a syndicated copy
    arriving next then started a second story for the same news). Replayed twice: as a feed
    later in the same batch (the batch knows what it stored), and as another process's poll
    storing it meanwhile (the insert ignores it)."""
    from bot.ingest.fetch import FetchResult
    from bot.services.poll import _Prepared, _Stored

    original = ban_items("wire", 1)
    url_a = feed_server.add("a.xml", body=rss(original))
    copy = [{**original[0], "title": "Rewritten headline: " + original[0]["title"]}]
    url_b = feed_server.add("b.xml", body=rss(copy))
    monitor = open_monitor(tmp_path, [(url_a, "Wire"), (url_b, "Aggregator")])
    try:
        await monitor.poll()
        stored = monitor.store.scalar("SELECT COUNT(*) FROM items")
        stories = monitor.store.scalar("SELECT COUNT(*) FROM stories")
        item_id = monitor.store.scalar("SELECT id FROM items")
        assert stored == 1 and stories == 1
        assert item_id in monitor.grouper.index.entries
        # Replay the losing side of the race: feed B's copy, parsed and judged while feed A
        # was being stored, now reaches the store step.
        poller = monitor.poller
        state = next(s for s in monitor.store.feed_states() if s.url == url_b)
        body = rss(copy)
        result = FetchResult(url_b, url_b, 200, body, None, None, "application/rss+xml", "x")
        prepared = poller._prepare(state, result, utcnow())
        prepared.verdicts = poller._judge(prepared.items)
        assert [i.id for i in prepared.items] == [item_id]
        for earlier_in_batch in (_Stored(ids={item_id}), _Stored()):
            with monitor.store.transaction():
                poller._store(
                    state,
                    result,
                    _Prepared(prepared.items, prepared.verdicts, None),
                    utcnow(),
                    False,
                    earlier_in_batch,
                )
            assert earlier_in_batch.new_items == 0
            assert item_id in monitor.grouper.index.entries
            assert monitor.store.scalar("SELECT COUNT(*) FROM items") == 1
            assert monitor.store.scalar("SELECT COUNT(*) FROM stories") == 1
            assert monitor.store.scalar("SELECT source_count FROM stories") == 1
    finally:
        monitor.close()


async def test_language_is_detected_for_items_past_the_keyword_gate(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Language detection is the dearest step of normalising; only items the keyword gate
    lets through are ever shown or grouped by language, so only they pay for it."""
    when = rfc822(utcnow() - timedelta(hours=1))
    items = [
        {
            "title": "Le Sénat américain adopte la loi qui peut interdire TikTok",
            "link": "https://fr.example/senat-tiktok",
            "description": "Le texte oblige ByteDance à vendre l'application ou à la voir "
            "bannie des boutiques d'applications aux États-Unis.",
            "pubDate": when,
        },
        {
            "title": "Rain expected across the valley this weekend",
            "link": "https://weather.example/rain",
            "description": "Forecasters expect two days of showers and cooler air.",
            "pubDate": when,
        },
    ]
    url = feed_server.add("mixed.xml", body=rss(items))
    monitor = open_monitor(tmp_path, [(url, "Mixed")])
    try:
        await monitor.poll()
        langs = dict(monitor.store.db.execute("SELECT url, lang FROM items").fetchall())
    finally:
        monitor.close()
    assert langs == {"https://fr.example/senat-tiktok": "fr", "https://weather.example/rain": ""}


async def test_a_poll_that_finds_nothing_new_never_rebuilds_the_story_index(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.add("a.xml", body=rss(ban_items("alpha", 3)))
    first = open_monitor(tmp_path, [(url, "Alpha")])
    try:
        await first.poll()
    finally:
        first.close()
    again = open_monitor(tmp_path, [(url, "Alpha")])  # a new process: `tiktok-monitor poll`
    try:
        report = await again.poll(force=True)
        assert report.not_modified == 1
        assert again.grouper._load is not None  # still pending: nothing needed it
        assert len(again.grouper.index.entries) == 3  # and it loads on first use
        assert again.grouper._load is None
    finally:
        again.close()


def _syndicated(items: list[dict[str, str]], outlet: str) -> list[dict[str, str]]:
    """The same reports carried by another outlet: new links, GUIDs and headlines."""
    return [
        {
            **item,
            "title": f"Wire report: {item['title']}",
            "link": f"https://{outlet}.example/copy/{i}",
            "guid": f"{outlet}-{i}",
        }
        for i, item in enumerate(items)
    ]


def _refuse_items_of(monitor: Monitor, feed_url: str, how: str) -> None:
    """Make SQLite refuse this feed's items, as a full disk or a corrupt page would:
    ABORT fails the one statement, ROLLBACK ends the whole transaction."""
    monitor.store.db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON items "
        f"WHEN new.feed_url = '{feed_url}' BEGIN SELECT RAISE({how}, 'disk says no'); END"
    )


def _wire_and_copy(feed_server: FeedServer, tmp_path: Path) -> tuple[Monitor, str, str]:
    """Two reports from a wire (feed A) and the same two carried by a paper (feed B)."""
    original = ban_items("wire", 2)
    url_a = feed_server.add("a.xml", body=rss(original))
    url_b = feed_server.add("b.xml", body=rss(_syndicated(original, "paper")))
    return open_monitor(tmp_path, [(url_a, "Wire"), (url_b, "Paper")]), url_a, url_b


def _stories_by_size(monitor: Monitor) -> list[int]:
    return sorted(row[0] for row in monitor.store.db.execute("SELECT source_count FROM stories"))


async def test_a_feed_that_cannot_be_stored_fails_alone_and_is_fetched_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    monitor, url_a, url_b = _wire_and_copy(feed_server, tmp_path)
    try:
        _refuse_items_of(monitor, url_b, "ABORT")
        first = await monitor.poll()
        assert first.errors == 1 and first.failures[0][0] == url_b
        assert "disk says no" in first.failures[0][1]
        assert first.new_items == 2
        stored = {r[0] for r in monitor.store.db.execute("SELECT feed_url FROM items")}
        assert stored == {url_a}
        # Nothing of the refused feed is left in the story index to mislead grouping.
        assert len(monitor.grouper.index.entries) == 2
        assert monitor.store.feed_state(url_b).etag is None  # fetched in full next time

        monitor.store.db.execute("DROP TRIGGER temp.refuse")
        second = await monitor.poll(force=True)
        assert second.errors == 0 and second.new_items == 2
        assert _stories_by_size(monitor) == [2, 2]  # each report once, with both sources
    finally:
        monitor.close()


async def test_a_lost_transaction_stops_the_cycle_and_loses_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """When SQLite ends the whole transaction, every feed of the batch is rolled back: the
    cycle stops with the error, the index forgets what it grouped, and the next cycle stores
    it all, grouped as if nothing had happened."""
    monitor, _, url_b = _wire_and_copy(feed_server, tmp_path)
    try:
        _refuse_items_of(monitor, url_b, "ROLLBACK")
        with pytest.raises(sqlite3.Error, match="disk says no"):
            await monitor.poll()
        stored = {r[0] for r in monitor.store.db.execute("SELECT id FROM items")}
        assert set(monitor.grouper.index.entries) == stored  # the index holds what is stored

        monitor.store.db.execute("DROP TRIGGER temp.refuse")
        await monitor.poll()
        assert monitor.store.scalar("SELECT COUNT(*) FROM items") == 4
        assert _stories_by_size(monitor) == [2, 2]
    finally:
        monitor.close()


async def test_a_link_reposted_after_its_story_left_the_index_is_not_a_new_story(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The story index forgets old items (and their links) to keep memory bounded; a link
    re-posted later by another feed is still the stored item, never a second story."""
    items = ban_items("alpha", 101)
    items[0]["pubDate"] = rfc822(utcnow() - timedelta(hours=20))  # the oldest: evicted first
    url_a = feed_server.add("a.xml", body=rss(items))
    repost = [{**items[0], "title": "Re-shared: " + items[0]["title"], "guid": "other-0"}]
    repost[0]["pubDate"] = rfc822(utcnow())
    url_b = feed_server.add("b.xml", body=rss([]), conditional=False)
    config = write_config(
        tmp_path / "feeds.yaml",
        feeds=[(url_a, "Alpha"), (url_b, "Beta")],
        extra="stories:\n  max_indexed: 100\n",
    )
    monitor = Monitor.open(config, tmp_path / "monitor.db")
    try:
        await monitor.poll()
        first_id = monitor.store.scalar("SELECT id FROM items WHERE guid = 'alpha-0'")
        stories = monitor.store.query("SELECT id, source_count FROM stories ORDER BY id")
        assert first_id not in monitor.grouper.index.entries
        assert first_id not in monitor.grouper.index.identities
        feed_server.routes["b.xml"].body = rss(repost)
        report = await monitor.poll(force=True)
        assert report.fetched == 1
        assert report.new_items == 0
        assert monitor.store.query("SELECT id, source_count FROM stories ORDER BY id") == stories
    finally:
        monitor.close()
