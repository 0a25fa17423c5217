"""Versioned schema. Append new migrations at the end; never edit an applied one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("tiktok-ban-monitor")


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    db["feeds"].create(
        {
            "url": str,
            "name": str,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "last_attempt": str,
            "last_success": str,
            "last_error": str,
            "consecutive_failures": int,
            "next_attempt": str,
            "items": int,
            "added_at": str,
        },
        pk="url",
        defaults={"enabled": 1, "consecutive_failures": 0, "items": 0},
    )
    db["stories"].create(
        {
            "id": int,
            "title": str,
            "url": str,
            "summary": str,
            "category": str,
            "item_id": str,
            "lang": str,
            "first_seen": str,
            "last_seen": str,
            "relevant_at": str,
            "source_count": int,
            "languages": str,
            "updated_at": str,
        },
        pk="id",
        defaults={"source_count": 1},
    )
    db["items"].create(
        {
            "id": str,
            "feed_url": str,
            "guid": str,
            "url": str,
            "canonical_url": str,
            "title": str,
            "summary": str,
            "lang": str,
            "published": str,
            "published_known": int,
            "fetched": str,
            "relevant": int,
            "score": float,
            "category": str,
            "stage": str,
            "story_id": int,
            "feedback": str,
            "backlog": int,
        },
        pk="id",
        defaults={"backlog": 0},
    )
    # GUIDs are only unique within one feed; canonical URLs are unique everywhere.
    db.execute("CREATE UNIQUE INDEX idx_items_feed_guid ON items(feed_url, guid) WHERE guid != ''")
    db.execute(
        "CREATE UNIQUE INDEX idx_items_canonical ON items(canonical_url) WHERE canonical_url != ''"
    )
    db.execute("CREATE INDEX idx_items_story ON items(story_id) WHERE story_id IS NOT NULL")
    db.execute("CREATE INDEX idx_items_relevant_published ON items(relevant, published)")
    db.execute("CREATE INDEX idx_items_fetched ON items(fetched)")
    db.execute("CREATE INDEX idx_stories_relevant_at ON stories(relevant_at)")
    db.execute("CREATE INDEX idx_stories_category_first ON stories(category, first_seen)")
    db.execute("CREATE INDEX idx_stories_first_seen ON stories(first_seen)")
    # Full-text search covers relevant items only: search is for the story, and leaving the
    # irrelevant 90% out keeps the index small and queries fast at a million items.
    db.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content='items', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER items_fts_ai AFTER INSERT ON items WHEN new.relevant = 1 BEGIN "
        "INSERT INTO items_fts(rowid, title, summary) VALUES (new.rowid, new.title, new.summary); "
        "END"
    )
    db.execute(
        "CREATE TRIGGER items_fts_ad AFTER DELETE ON items WHEN old.relevant = 1 BEGIN "
        "INSERT INTO items_fts(items_fts, rowid, title, summary) "
        "VALUES ('delete', old.rowid, old.title, old.summary); END"
    )
    db.execute(
        "CREATE TRIGGER items_fts_au_old AFTER UPDATE OF relevant, title, summary ON items "
        "WHEN old.relevant = 1 BEGIN "
        "INSERT INTO items_fts(items_fts, rowid, title, summary) "
        "VALUES ('delete', old.rowid, old.title, old.summary); END"
    )
    db.execute(
        "CREATE TRIGGER items_fts_au_new AFTER UPDATE OF relevant, title, summary ON items "
        "WHEN new.relevant = 1 BEGIN "
        "INSERT INTO items_fts(rowid, title, summary) VALUES (new.rowid, new.title, new.summary); "
        "END"
    )

    db["feedback"].create(
        {
            "id": int,
            "item_id": str,
            "verdict": str,
            "platform": str,
            "user_id": str,
            "at": str,
        },
        pk="id",
    )
    db.execute("CREATE INDEX idx_feedback_item ON feedback(item_id)")
    db["subscriptions"].create(
        {
            "platform": str,
            "channel": str,
            "time": str,
            "timezone": str,
            "categories": str,
            "schedule": str,
            "quiet": str,
            "created_by": str,
            "created_at": str,
            "last_error": str,
            "last_error_at": str,
            "last_posted": str,
            "covered_until": str,
        },
        pk=("platform", "channel"),
        defaults={"schedule": "daily", "quiet": "line"},
    )
    db["digests"].create(
        {
            "id": int,
            "platform": str,
            "channel": str,
            "period_start": str,
            "period_end": str,
            "state": str,
            "story_ids": str,
            "created_at": str,
            "posted_at": str,
            "error": str,
        },
        pk="id",
    )
    db.execute("CREATE UNIQUE INDEX idx_digests_period ON digests(platform, channel, period_end)")
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "platform": str,
            "user_id": str,
            "action": str,
            "detail": str,
        },
        pk="id",
    )
    db["polls"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "feeds": int,
            "fetched": int,
            "not_modified": int,
            "unchanged": int,
            "skipped": int,
            "errors": int,
            "new_items": int,
            "relevant": int,
        },
        pk="id",
    )


@migrations(name="0002_storage_scale")
def storage_scale(db: Database) -> None:
    # Retention clears old irrelevant summaries each poll cycle. The partial index holds only
    # rows not cleared yet, so the UPDATE reads just what aged out since the last cycle
    # instead of walking every old item in idx_items_fetched.
    db.execute(
        "CREATE INDEX idx_items_retention ON items(fetched) WHERE relevant = 0 AND summary != ''"
    )
    # The story index rebuild at start reads the newest grouped items (MAX(published), then a
    # window): without this it scans every grouped item.
    db.execute(
        "CREATE INDEX idx_items_story_published ON items(published) WHERE story_id IS NOT NULL"
    )
    # /tiktok status shows the last poll: MAX(finished) over ~35,000 polls a year.
    db.execute("CREATE INDEX idx_polls_finished ON polls(finished)")


@migrations(name="0003_lean_item_indexes")
def lean_item_indexes(db: Database) -> None:
    # Every index on items is rewritten by each poll commit; these three answered no query.
    # - canonical URL: an item with a link has the id hash("url:" + canonical URL)
    #   (ingest.normalize.item_id), so the primary key already makes links unique and already
    #   answers "is this link stored?".
    # - (relevant, published) and fetched: digests, status and search read stories and FTS;
    #   retention reads its own partial index (0002).
    # Measured: 27 -> 18 µs per stored item (bench/poll.py's feeds, one core).
    for name in ("idx_items_canonical", "idx_items_relevant_published", "idx_items_fetched"):
        db.execute(f"DROP INDEX IF EXISTS {name}")


@migrations(name="0004_fts_at_commit")
def fts_at_commit(db: Database) -> None:
    # FTS5 flushes its pending terms to a new segment at every statement savepoint, and the
    # insert trigger opened one per relevant row: ~80 µs a row, mostly writing and merging
    # one-row segments. New relevant rows are now queued in fts_pending, and the store
    # indexes the queue in one statement when its transaction commits (Store.transaction).
    # A rolled-back savepoint takes its queued rows with it, as it takes the items.
    db.execute("CREATE TABLE fts_pending (item_rowid INTEGER PRIMARY KEY)")
    for name in ("items_fts_ai", "items_fts_ad", "items_fts_au_old", "items_fts_au_new"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute(
        "CREATE TRIGGER items_fts_ai AFTER INSERT ON items WHEN new.relevant = 1 BEGIN "
        "INSERT OR IGNORE INTO fts_pending (item_rowid) VALUES (new.rowid); END"
    )
    # A row still queued is not in the index: there is nothing to delete, and the queue
    # indexes what the row holds at commit.
    queued = "(SELECT item_rowid FROM fts_pending)"
    db.execute(
        "CREATE TRIGGER items_fts_ad AFTER DELETE ON items "
        f"WHEN old.relevant = 1 AND old.rowid NOT IN {queued} BEGIN "
        "INSERT INTO items_fts(items_fts, rowid, title, summary) "
        "VALUES ('delete', old.rowid, old.title, old.summary); END"
    )
    # One update trigger, its two steps in order: SQLite fires a table's triggers newest
    # first, so the former pair (delete the old text, index the new) ran the other way
    # round, and an edited title left the index without the row's document size.
    db.execute(
        "CREATE TRIGGER items_fts_au AFTER UPDATE OF relevant, title, summary ON items BEGIN "
        "INSERT INTO items_fts(items_fts, rowid, title, summary) "
        "SELECT 'delete', old.rowid, old.title, old.summary "
        f"WHERE old.relevant = 1 AND old.rowid NOT IN {queued}; "
        "INSERT INTO items_fts(rowid, title, summary) SELECT new.rowid, new.title, new.summary "
        f"WHERE new.relevant = 1 AND new.rowid NOT IN {queued}; "
        "END"
    )
