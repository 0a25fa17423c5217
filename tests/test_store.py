"""The storage layer: bulk path, retention, migrations, and atomicity of a feed's write."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.services.digest import build_digest
from bot.services.search import search_stories
from bot.services.status import build_status
from bot.store.db import ITEM_COLUMNS, STORY_COLUMNS, Store, StoryWrite
from bot.store.migrations import migrations
from bot.timeutil import to_iso, utcnow
from tests.conftest import seed_stories, write_config

FEED = "https://seed.example/feed.xml"
OTHER_FEED = "https://other.example/rss"
SEARCHES = ("montana", "court", "ruling 3", "weather", "nothingmatches")


def item_row(
    n: int, *, fetched: datetime, relevant: bool, feed: str = OTHER_FEED
) -> dict[str, Any]:
    url = f"https://other.example/news/{n}"
    return {
        "id": f"{n:024x}",
        "feed_url": feed,
        "guid": f"guid-{n}",
        "url": url,
        "canonical_url": url,
        "title": f"Weather report {n}" if not relevant else f"Court ruling on TikTok {n}",
        "summary": f"Rain expected in the valley, bulletin {n}.",
        "lang": "en",
        "published": to_iso(fetched - timedelta(minutes=5)),
        "published_known": 1,
        "fetched": to_iso(fetched),
        "relevant": int(relevant),
        "score": 0.1,
        "category": None,
        "stage": "keyword",
        "backlog": 0,
    }


def store_items(store: Store, rows: list[dict[str, Any]], feed: str = OTHER_FEED) -> list[str]:
    return store.store_feed_result(
        feed, etag=None, last_modified=None, body_hash=None, items=rows, stories=[]
    )


def per_feed_store(path: Path) -> Store:
    """Stories and items written the way a poll writes them, plus irrelevant items."""
    store = Store(path)
    now = utcnow()
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    seed_stories(store, 6, now=now, title="Court blocks Montana TikTok law, ruling {n}", sources=3)
    seed_stories(store, 3, now=now - timedelta(days=20), title="Older court story {n}")
    store_items(store, [item_row(n, fetched=now, relevant=False) for n in range(5)])
    return store


def answers(store: Store, now: datetime) -> dict[str, Any]:
    until = now + timedelta(minutes=1)  # relevant_at may be this very second
    return {
        "digest": build_digest(store, since=now - timedelta(days=1), until=until, now=now).stories,
        "digest7": build_digest(store, since=now - timedelta(days=7), until=until, now=now).stories,
        "status": build_status(store, now=now),
        "search": {text: search_stories(store, text) for text in SEARCHES},
        "feeds": store.query("SELECT url, items FROM feeds ORDER BY url"),
        "fts": store.query(
            "SELECT items.id FROM items_fts JOIN items ON items.rowid = items_fts.rowid "
            "WHERE items_fts MATCH 'court' ORDER BY items.id"
        ),
    }


def test_bulk_load_answers_like_the_per_feed_path(tmp_path: Path) -> None:
    source = per_feed_store(tmp_path / "feed.db")
    items = source.query(f"SELECT {', '.join(ITEM_COLUMNS)} FROM items ORDER BY rowid")
    stories = source.query(f"SELECT {', '.join(STORY_COLUMNS)} FROM stories ORDER BY id")
    bulk = Store(tmp_path / "bulk.db")
    # Same feed states, counters at zero: bulk_load must bring them to the same totals.
    bulk.db["feeds"].insert_all({**f, "items": 0} for f in source.query("SELECT * FROM feeds"))

    loaded = bulk.bulk_load(iter(items), iter(stories), batch=7)  # several batches

    now = utcnow()
    assert (loaded.items, loaded.stories) == (len(items), len(stories))
    expected, got = answers(source, now), answers(bulk, now)
    assert got == expected
    assert len(got["digest"]) == 9 and len(got["search"]["montana"]) == 6
    assert got["fts"] and not got["search"]["weather"], "irrelevant items stay out of FTS"
    # Re-running the import adds nothing, and the feed counters do not move.
    again = bulk.bulk_load(iter(items), iter(stories))
    assert (again.items, again.stories) == (0, 0)
    assert answers(bulk, now) == expected
    # The insert trigger is back: a polled item after the load is searchable.
    seed_stories(bulk, 1, title="Nebraska ruling {n}")
    assert search_stories(bulk, "nebraska")


def test_failed_bulk_batch_rolls_back_and_keeps_the_fts_trigger(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.db")
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    now = utcnow()
    rows = [item_row(n, fetched=now, relevant=True) for n in range(6)]
    rows[4]["title"] = ["not", "bindable"]  # fails in the second batch
    with pytest.raises(sqlite3.Error):
        store.bulk_load(iter(rows), (), batch=3)
    assert store.scalar("SELECT COUNT(*) FROM items") == 3  # the first batch committed
    assert store.scalar("SELECT items FROM feeds WHERE url = ?", [OTHER_FEED]) == 3
    assert store.scalar("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'ruling'") == 3
    triggers = store.query("SELECT name FROM sqlite_master WHERE name = 'items_fts_ai'")
    assert triggers == [{"name": "items_fts_ai"}]


def test_retention_clears_only_old_irrelevant_summaries(tmp_path: Path) -> None:
    store = Store(tmp_path / "monitor.db")
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    now = utcnow()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    store_items(
        store,
        [
            item_row(1, fetched=old, relevant=False),
            item_row(2, fetched=recent, relevant=False),
            item_row(3, fetched=old, relevant=True),
            item_row(4, fetched=old, relevant=False),  # a user's feedback: training data
            item_row(5, fetched=old, relevant=False),
        ],
    )
    store.db["feedback"].insert({"item_id": f"{4:024x}", "verdict": "irrelevant"})
    seed_stories(store, 1, now=old, title="Old court story {n}")
    before = store.query("SELECT * FROM items ORDER BY id")
    stories = store.query("SELECT * FROM stories")

    assert store.apply_retention(90, now=now, limit=1) == 1  # a backlog drains over cycles
    assert store.apply_retention(90, now=now) == 1
    assert store.apply_retention(90, now=now) == 0

    after = {row["id"]: row for row in store.query("SELECT * FROM items")}
    for row in before:
        kept = after[row["id"]]
        if row["id"] in (f"{1:024x}", f"{5:024x}"):
            assert kept["summary"] == ""
            assert {**kept, "summary": row["summary"]} == row  # title, ids, URLs unchanged
        else:
            assert kept == row
    assert store.query("SELECT * FROM stories") == stories
    # Re-polls still deduplicate the cleared item.
    assert store.existing_item_ids([f"{1:024x}"]) == {f"{1:024x}"}
    assert store_items(store, [item_row(1, fetched=now, relevant=False)]) == []


async def test_poll_cycle_applies_retention(tmp_path: Path) -> None:
    from bot.services.monitor import Monitor

    config = write_config(tmp_path / "feeds.yaml", extra="storage:\n  retention_days: 30\n")
    monitor = Monitor.open(config, tmp_path / "monitor.db")
    try:
        now = utcnow()
        monitor.store.sync_feeds([(OTHER_FEED, "Other", False)])
        store_items(
            monitor.store,
            [
                item_row(1, fetched=now - timedelta(days=31), relevant=False),
                item_row(2, fetched=now - timedelta(days=29), relevant=False),
            ],
        )
        await monitor.poll()
        summaries = monitor.store.query("SELECT id, summary FROM items ORDER BY id")
    finally:
        monitor.close()
    assert [bool(row["summary"]) for row in summaries] == [False, True]


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    first = Store(path)
    schema = first.query("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    first.close()
    second = Store(path)
    try:
        assert second.query("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
        applied = second.query("SELECT name FROM _sqlite_migrations ORDER BY id")
        assert [row["name"] for row in applied] == [m.name for m in migrations._migrations]
        assert migrations.pending(second.db) == []
    finally:
        second.close()


def good_write(story_id: int, item: dict[str, Any], new: bool) -> StoryWrite:
    return StoryWrite(
        item_id=item["id"],
        story_id=story_id,
        new=new,
        title=item["title"],
        url=item["url"],
        summary=item["summary"],
        category="courts",
        lang="en",
        published=utcnow(),
        backlog=False,
    )


@pytest.mark.parametrize("failure", ["unbindable item", "story id taken"])
def test_failed_feed_write_leaves_nothing_half_written(tmp_path: Path, failure: str) -> None:
    store = Store(tmp_path / "monitor.db")
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    now = utcnow()
    first = item_row(1, fetched=now, relevant=True)
    store.store_feed_result(
        OTHER_FEED,
        etag='"v1"',
        last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
        body_hash="h1",
        items=[first],
        stories=[good_write(1, first, new=True)],
    )
    feed_before = store.query("SELECT * FROM feeds")
    items_before = store.query("SELECT * FROM items")
    stories_before = store.query("SELECT * FROM stories")
    fts_before = store.scalar("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'court'")

    rows = [item_row(n, fetched=now, relevant=True) for n in (2, 3, 4)]
    writes = [good_write(2, rows[0], new=True)]
    if failure == "unbindable item":
        rows[1]["summary"] = {"not": "bindable"}  # the driver rejects it mid-batch
    else:
        writes.append(good_write(1, rows[1], new=True))  # UNIQUE constraint on stories.id
    with pytest.raises(sqlite3.Error):
        store.store_feed_result(
            OTHER_FEED,
            etag='"v2"',
            last_modified="Tue, 02 Jan 2024 00:00:00 GMT",
            body_hash="h2",
            items=rows,
            stories=writes,
        )

    assert store.query("SELECT * FROM feeds") == feed_before  # validators unchanged
    assert store.query("SELECT * FROM items") == items_before
    assert store.query("SELECT * FROM stories") == stories_before
    assert (
        store.scalar("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'court'") == fts_before
    )
    assert not store.db.conn.in_transaction


def test_store_reports_only_the_rows_it_really_inserted(tmp_path: Path) -> None:
    """A feed that reuses a GUID for a new link: the second row is refused by the feed+GUID
    unique index, and the caller must not group or count it as stored."""
    store = Store(tmp_path / "s.db")
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    now = utcnow()
    first, reused = item_row(1, fetched=now, relevant=True), item_row(2, fetched=now, relevant=True)
    reused["guid"] = first["guid"]
    earlier = item_row(3, fetched=now - timedelta(hours=1), relevant=False)
    assert store_items(store, [earlier]) == [earlier["id"]]
    again = {**earlier, "fetched": to_iso(now)}  # stored by the previous poll: not ours
    assert store_items(store, [first, reused, again]) == [first["id"]]
    assert store.scalar("SELECT COUNT(*) FROM items") == 2
    assert store.scalar("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'court'") == 1
    store.close()


def test_a_settings_change_never_joins_another_threads_transaction(tmp_path: Path) -> None:
    """The poller stores a batch on its worker thread while commands run on the event loop,
    over one connection. A subscription saved while the batch is open must wait for it, and
    must stay saved when the batch rolls back (before the store's lock it became a savepoint
    of the batch and was rolled back with it)."""
    from bot.models import Caller
    from bot.services.subscriptions import SubscriptionRequest, SubscriptionService

    store = Store(tmp_path / "monitor.db")
    store.sync_feeds([(OTHER_FEED, "Other", True)])
    batch_open, release = threading.Event(), threading.Event()

    def batch_that_fails() -> None:
        with contextlib.suppress(RuntimeError), store.transaction():
            store.store_feed_result(
                OTHER_FEED, etag=None, last_modified=None, body_hash=None,
                items=[item_row(1, fetched=utcnow(), relevant=False)], stories=[],
            )  # fmt: skip
            batch_open.set()
            release.wait(10)
            raise RuntimeError("the batch is lost")

    poller = threading.Thread(target=batch_that_fails)
    poller.start()
    assert batch_open.wait(10)
    subscriptions = SubscriptionService(store)
    saver = threading.Thread(
        target=subscriptions.subscribe,
        args=(Caller("slack", "U1", "C1"), SubscriptionRequest(time="09:00", timezone="UTC")),
    )
    saver.start()
    saver.join(0.5)
    assert saver.is_alive()  # waiting for the batch: not writing inside it
    release.set()
    poller.join(10)
    saver.join(10)
    assert store.scalar("SELECT COUNT(*) FROM items") == 0  # the batch rolled back
    assert subscriptions.get("slack", "C1") is not None  # the setting stayed


def test_syncing_the_config_renames_disables_and_adds_feeds_but_keeps_fetch_state(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "sync.db")
    first, second, third = (f"https://feed{n}.example/rss" for n in range(3))
    store.sync_feeds([(first, "First", True), (second, "Second", True)])
    store.store_feed_result(
        first, etag='"v1"', last_modified=None, body_hash="abc", items=[], stories=[]
    )

    # The admin renames and pauses the first feed, drops the second and adds a third.
    store.sync_feeds([(first, "First, renamed", False), (third, "Third", True)])

    feeds = {row["url"]: row for row in store.query("SELECT * FROM feeds")}
    assert set(feeds) == {first, second, third}  # a removed feed's items stay searchable
    assert (feeds[first]["name"], feeds[first]["enabled"]) == ("First, renamed", 0)
    assert (feeds[first]["etag"], feeds[first]["body_hash"]) == ('"v1"', "abc")
    assert feeds[second]["enabled"] == 0
    assert (feeds[third]["name"], feeds[third]["enabled"]) == ("Third", 1)
    assert feeds[third]["added_at"] and feeds[third]["consecutive_failures"] == 0
    assert [state.url for state in store.feed_states(enabled_only=True)] == [third]

    store.sync_feeds([(first, "First, renamed", True), (third, "Third", True)])
    assert {state.url for state in store.feed_states(enabled_only=True)} == {first, third}


def fts_ids(store: Store, query: str) -> set[str]:
    rows = store.query(
        "SELECT items.id FROM items_fts JOIN items ON items.rowid = items_fts.rowid "
        "WHERE items_fts MATCH ?",
        [query],
    )
    return {row["id"] for row in rows}


def test_full_text_index_follows_commits_rollbacks_updates_and_deletes(tmp_path: Path) -> None:
    store = Store(tmp_path / "fts.db")
    store.sync_feeds([(OTHER_FEED, "Other", True), (FEED, "Seed", True)])
    now = utcnow()
    kept = [item_row(n, fetched=now, relevant=n < 3) for n in range(4)]
    lost = item_row(10, fetched=now, relevant=True, feed=FEED)
    with store.transaction():
        store_items(store, kept)
        with contextlib.suppress(RuntimeError), store.transaction():  # a feed that fails
            store_items(store, [lost], feed=FEED)
            assert store.scalar("SELECT COUNT(*) FROM fts_pending") == 4
            raise RuntimeError("storing this feed failed")
        # Queued rows changed before the commit are indexed as they are at the commit.
        store.db.execute(
            "UPDATE items SET title = 'Montana appeal heard' WHERE id = ?", [kept[0]["id"]]
        )
        store.db.execute("UPDATE items SET relevant = 0 WHERE id = ?", [kept[1]["id"]])
        assert fts_ids(store, "court") == set()  # nothing indexed before the commit

    assert fts_ids(store, "court") == {kept[2]["id"]}
    assert fts_ids(store, "montana") == {kept[0]["id"]}
    assert store.scalar("SELECT COUNT(*) FROM fts_pending") == 0

    # Indexed rows: updates and deletes go straight to the index, as before.
    store.db.execute("UPDATE items SET relevant = 1 WHERE id = ?", [kept[1]["id"]])
    store.db.execute("UPDATE items SET title = 'Senate vote' WHERE id = ?", [kept[2]["id"]])
    store.db.execute("DELETE FROM items WHERE id = ?", [kept[0]["id"]])
    assert fts_ids(store, "court") == {kept[1]["id"]}
    assert fts_ids(store, "senate") == {kept[2]["id"]}
    assert fts_ids(store, "montana") == set()

    # The lost item, stored again later, is indexed once.
    store_items(store, [lost], feed=FEED)
    assert fts_ids(store, "court") == {kept[1]["id"], lost["id"]}
    # FTS5's own consistency check of the index (raises "database disk image is malformed").
    # Not against the items table: irrelevant rows are left out of the index by design.
    store.db.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")
    assert store.scalar("SELECT COUNT(*) FROM items_fts_docsize") == 3  # documents indexed
