"""The SQLite store (sqlite-utils). Every write that belongs together is one transaction."""

from __future__ import annotations

import json
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.models import FeedHealth, HealthSummary, Story, StorySource, SubscriptionInfo
from bot.store.migrations import migrations
from bot.timeutil import from_iso, to_iso, utcnow

DEFAULT_DB = Path("storage") / "monitor.db"

ITEM_COLUMNS: tuple[str, ...] = (
    "id",
    "feed_url",
    "guid",
    "url",
    "canonical_url",
    "title",
    "summary",
    "lang",
    "published",
    "published_known",
    "fetched",
    "relevant",
    "score",
    "category",
    "stage",
    "story_id",
    "feedback",
    "backlog",
)
STORY_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "url",
    "summary",
    "category",
    "item_id",
    "lang",
    "first_seen",
    "last_seen",
    "relevant_at",
    "source_count",
    "languages",
    "updated_at",
)
# SQLite's own page cache, on top of the OS page cache. A poll of 10,000 feeds (bench/poll.py)
# cost the same CPU with 8, 16 or 32 MB (within run-to-run noise) while peak RSS grew with
# it: 259, 269, 285 MB; the store benchmark's queries stay within their budgets at 8 MB.
# (mmap_size was measured too: no gain once the OS page cache is warm, so it stays off.)
CACHE_KIB = 8 * 1024
# Pages the WAL may hold before a commit copies them into the database. A poll commits every
# few dozen feeds, and each commit rewrites the same hot index pages (items by id, FTS): at
# SQLite's default of 1,000 pages they were copied again every other commit. 20,000 pages
# (80 MB of WAL at most) cut the commits' CPU by a fifth at 10,000 feeds (bench/poll.py).
WAL_CHECKPOINT_PAGES = 20_000
WAL_KEEP_BYTES = 64 * 1024 * 1024  # the WAL file is cut back to this after a checkpoint
# What the poller writes of a new item: its story comes with the story rows, feedback later.
_NEW_ITEM_COLUMNS = tuple(c for c in ITEM_COLUMNS if c not in ("story_id", "feedback"))
_INSERT_ITEM = (
    f"INSERT OR IGNORE INTO items ({', '.join(_NEW_ITEM_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_NEW_ITEM_COLUMNS))})"
)
# Positional values: binding 16 named parameters from a dict costs ~1.4 µs more a row.
_new_item_values = operator.itemgetter(*_NEW_ITEM_COLUMNS)
BULK_CACHE_KIB = 512 * 1024  # random-key index inserts thrash a small cache
RETENTION_BATCH = 20_000  # rows per poll cycle: ~0.2 s of work at most


@dataclass(slots=True)
class FeedState:
    url: str
    name: str
    enabled: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_failures: int
    next_attempt: datetime | None
    last_success: datetime | None
    added_at: datetime | None


@dataclass(slots=True)
class BulkLoad:
    items: int = 0  # rows really inserted (duplicates are ignored, as on the poll path)
    stories: int = 0


@dataclass(slots=True)
class StoryWrite:
    """A story change decided by the grouper, applied inside the feed's transaction."""

    item_id: str
    story_id: int
    new: bool  # True: this item starts the story (the grouper allocated the id)
    title: str
    url: str
    summary: str
    category: str | None
    lang: str
    published: datetime
    backlog: bool


class SharedConnection(sqlite3.Connection):
    """A connection used from two threads: the event loop's (commands, the scheduler) and the
    poller's worker (which judges, groups and stores a batch of feeds off the loop). A
    statement waits while the other thread is inside a transaction, so it never becomes part
    of that transaction (a settings change committed or rolled back with a batch of items)."""

    lock: threading.RLock

    def execute(self, *args: Any) -> sqlite3.Cursor:
        with self.lock:
            return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        with self.lock:
            return super().executemany(*args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        with self.lock:
            return super().executescript(*args)


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else DEFAULT_DB
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path),
            check_same_thread=False,
            isolation_level=None,
            factory=SharedConnection,
        )
        # Held for a whole transaction (see transaction()) and for every statement.
        self.lock = conn.lock = threading.RLock()
        self.db = Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self.db.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN ... COMMIT, or a savepoint inside the calling thread's transaction. The lock
        comes first: another thread's open transaction must not turn this one into its
        savepoint."""
        with self.lock:
            outermost = not self.db.conn.in_transaction
            with self.db.atomic():
                yield self.db
                if outermost:
                    self._index_queued()

    def _index_queued(self) -> None:
        """Index the relevant rows this transaction queued (migration 0004): one statement,
        so FTS5 writes one segment for the whole transaction instead of one per row."""
        if self.db.conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is None:
            return  # nothing queued: a read-only transaction stays read-only
        self.db.conn.execute(
            "INSERT INTO items_fts(rowid, title, summary) SELECT rowid, title, summary FROM items "
            "WHERE rowid IN (SELECT item_rowid FROM fts_pending) AND relevant = 1"
        )
        self.db.conn.execute("DELETE FROM fts_pending")

    def in_transaction(self) -> bool:
        return self.db.conn.in_transaction

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:  # every row read before another thread's transaction can begin
            return list(self.db.query(sql, list(params)))

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        with self.lock:
            row = self.db.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    # ---------------------------------------------------------------- feeds
    def sync_feeds(self, entries: Iterable[tuple[str, str, bool]]) -> None:
        """Make the feeds table follow the config; fetch state of known feeds is kept."""
        now = to_iso(utcnow())
        wanted = {url: (name, enabled) for url, name, enabled in entries}
        with self.transaction():
            known = {row["url"] for row in self.db.query("SELECT url FROM feeds")}
            # One statement each for the known and the new feeds: a first start with 10,000
            # feeds took 0.3 s of row-by-row inserts.
            self.db.conn.executemany(
                "UPDATE feeds SET name = ?, enabled = ? WHERE url = ? "
                "AND (name IS NOT ? OR enabled IS NOT ?)",
                [
                    (name, int(enabled), url, name, int(enabled))
                    for url, (name, enabled) in wanted.items()
                    if url in known
                ],
            )
            self.db.conn.executemany(
                "INSERT INTO feeds (url, name, enabled, added_at) VALUES (?, ?, ?, ?)",
                [
                    (url, name, int(enabled), now)
                    for url, (name, enabled) in wanted.items()
                    if url not in known
                ],
            )
            for url in known - wanted.keys():
                # Removed from the config: stop polling but keep its items searchable.
                self.db.execute("UPDATE feeds SET enabled = 0 WHERE url = ?", [url])

    def feed_states(self, enabled_only: bool = True) -> list[FeedState]:
        sql = "SELECT * FROM feeds" + (" WHERE enabled = 1" if enabled_only else "")
        return [_feed_state(row) for row in self.db.query(sql)]

    def feed_state(self, url: str) -> FeedState | None:
        rows = self.query("SELECT * FROM feeds WHERE url = ?", [url])
        return _feed_state(rows[0]) if rows else None

    def record_feed_failure(self, url: str, error: str, next_attempt: datetime) -> None:
        now = to_iso(utcnow())
        self.db.execute(
            "UPDATE feeds SET last_attempt = ?, last_error = ?, "
            "consecutive_failures = consecutive_failures + 1, next_attempt = ? WHERE url = ?",
            [now, error[:500], to_iso(next_attempt), url],
        )

    def record_feeds_unchanged(self, urls: list[str]) -> None:
        """Mark feeds polled successfully with nothing new: one transaction for many, since
        a warm cycle of thousands of 304s should not pay a commit each."""
        if not urls:
            return
        now = to_iso(utcnow())
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE feeds SET last_attempt = ?, last_success = ?, last_error = NULL, "
                "consecutive_failures = 0, next_attempt = NULL WHERE url = ?",
                [(now, now, url) for url in urls],
            )

    def store_feed_result(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        items: list[dict[str, Any]],
        stories: list[StoryWrite],
        next_attempt: datetime | None = None,
    ) -> list[str]:
        """Store a feed's new items, their stories and its new fetch state in one transaction
        (a savepoint inside the caller's: the poller commits a batch of feeds at once).

        The validators (ETag, Last-Modified, body hash) are written in the same transaction
        as the items, so a crash before commit means the next poll fetches the feed again.
        Returns the ids of the items that were really new.
        """
        now = to_iso(utcnow())
        with self.transaction():
            inserted = self._insert_new_items(items)
            kept = set(inserted)
            for write in stories:
                if write.item_id in kept:
                    self._apply_story_write(write)
            self.db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?, last_attempt = ?, "
                "last_success = ?, last_error = NULL, consecutive_failures = 0, "
                "next_attempt = ?, items = items + ? WHERE url = ?",
                [
                    etag,
                    last_modified,
                    body_hash,
                    now,
                    now,
                    to_iso(next_attempt) if next_attempt else None,
                    len(inserted),
                    url,
                ],
            )
        return inserted

    def _insert_new_items(self, items: list[dict[str, Any]]) -> list[str]:
        """Insert new item rows in one statement; the ids that were really inserted.

        The poller has already left out what is stored, so every row normally goes in; when
        some did not (a duplicate GUID), the rows this call wrote are found by reading back
        each row's feed and fetch time.
        """
        if not items:
            return []
        cursor = self.db.conn.executemany(_INSERT_ITEM, map(_new_item_values, items))
        if cursor.rowcount == len(items):  # rows this statement inserted (not its triggers')
            return [row["id"] for row in items]
        wanted = {row["id"]: (row["feed_url"], row["fetched"]) for row in items}
        ids = list(wanted)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                item_id
                for item_id, feed_url, fetched in self.db.execute(
                    f"SELECT id, feed_url, fetched FROM items WHERE id IN ({marks})", chunk
                )
                if wanted[item_id] == (feed_url, fetched)
            )
        return [row["id"] for row in items if row["id"] in found]

    def _apply_story_write(self, write: StoryWrite) -> int:
        published = to_iso(write.published)
        relevant_at = None if write.backlog else to_iso(utcnow())
        story_id = write.story_id
        if write.new:
            self.db.conn.execute(
                "INSERT INTO stories (id, title, url, summary, category, item_id, lang, "
                "first_seen, last_seen, relevant_at, source_count, languages, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                [
                    story_id,
                    write.title,
                    write.url,
                    write.summary,
                    write.category,
                    write.item_id,
                    write.lang,
                    published,
                    published,
                    relevant_at,
                    json.dumps([write.lang]),
                    to_iso(utcnow()),
                ],
            )
        else:
            row = self.db.execute(
                "SELECT languages, first_seen, relevant_at FROM stories WHERE id = ?", [story_id]
            ).fetchone()
            languages = json.loads(row[0] or "[]")
            if write.lang not in languages:
                languages.append(write.lang)
            self.db.execute(
                "UPDATE stories SET source_count = source_count + 1, languages = ?, "
                "first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?), "
                "relevant_at = COALESCE(relevant_at, ?), updated_at = ? WHERE id = ?",
                [
                    json.dumps(languages),
                    published,
                    published,
                    relevant_at,
                    to_iso(utcnow()),
                    story_id,
                ],
            )
            # The earliest original represents the story.
            if published < row[1]:
                self.db.execute(
                    "UPDATE stories SET title = ?, url = ?, summary = ?, item_id = ?, lang = ? "
                    "WHERE id = ?",
                    [write.title, write.url, write.summary, write.item_id, write.lang, story_id],
                )
        self.db.execute("UPDATE items SET story_id = ? WHERE id = ?", [story_id, write.item_id])
        return int(story_id)

    def apply_story_writes(self, writes: list[StoryWrite]) -> None:
        with self.transaction():
            for write in writes:
                self._apply_story_write(write)

    # ----------------------------------------------------------------- bulk
    def bulk_load(
        self,
        items: Iterable[dict[str, Any]],
        stories: Iterable[dict[str, Any]] = (),
        batch: int = 50_000,
    ) -> BulkLoad:
        """Insert many stories and items fast (imports, the storage benchmark).

        Rows are dicts keyed by the columns of the table (missing keys take the column
        default). Each `batch` rows are one executemany in one transaction, so an
        interrupted load keeps the batches already committed. Rows are INSERT OR IGNORE
        (items deduplicate as on the poll path), so re-running an import only adds what is
        missing, and feeds.items grows by what was really inserted. Big batches pay: every
        commit rewrites the random-key index pages it touched (id, canonical URL, feed+GUID),
        and at a million items 5,000-row batches took 76 s against 48 s for 50,000.

        FTS: relevant rows are queued and indexed in one statement as each batch commits
        (see Store.transaction), as on the poll path.
        """
        result = BulkLoad()
        previous_cache = self.scalar("PRAGMA cache_size")
        self.db.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        try:
            result.stories = self._bulk_batches(stories, batch, self._insert_stories)
            result.items = self._bulk_batches(items, batch, self._insert_items)
            self.optimize()
        finally:
            self.db.execute(f"PRAGMA cache_size={previous_cache}")
        return result

    def _bulk_batches(
        self,
        rows: Iterable[dict[str, Any]],
        batch: int,
        insert: Callable[[list[dict[str, Any]]], int],
    ) -> int:
        inserted = 0
        iterator = iter(rows)
        while chunk := list(islice(iterator, batch)):
            with self.transaction():
                inserted += insert(chunk)
        return inserted

    def _insert_stories(self, rows: list[dict[str, Any]]) -> int:
        return self._executemany("INSERT OR IGNORE", "stories", STORY_COLUMNS, rows)

    def _insert_items(self, rows: list[dict[str, Any]]) -> int:
        before = self.scalar("SELECT COALESCE(MAX(rowid), 0) FROM items")
        inserted = self._executemany("INSERT OR IGNORE", "items", ITEM_COLUMNS, rows)
        # New rows are exactly those above the old MAX(rowid), ignored duplicates excluded.
        self.db.execute(
            "UPDATE feeds SET items = items + added.n FROM (SELECT feed_url, COUNT(*) AS n "
            "FROM items WHERE rowid > ? GROUP BY feed_url) AS added "
            "WHERE feeds.url = added.feed_url",
            [before],
        )
        return inserted

    def _executemany(
        self, verb: str, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> int:
        defaults = self.db[table].default_values
        sql = f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        values = [tuple(row.get(c, defaults.get(c)) for c in columns) for row in rows]
        return self.db.conn.executemany(sql, values).rowcount

    def optimize(self) -> None:
        """After a large load: one FTS segment (fewer b-trees per search term), fresh planner
        statistics (sampled, so this stays quick at millions of rows) and a small WAL."""
        self.db.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA analysis_limit=1000")
        self.db.execute("ANALYZE")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def apply_retention(
        self, days: int, now: datetime | None = None, limit: int = RETENTION_BATCH
    ) -> int:
        """Drop the summary text of irrelevant items fetched more than `days` ago.

        Title, ids and URLs stay, so re-polls still deduplicate; relevant items and stories
        are kept whole, and so are items a user gave feedback on (training data). The
        partial index holds only rows still to clear, so each poll cycle reads just the rows
        that aged out since the last one. At most `limit` rows per call: the first run on a
        large archive (800,000 rows, ~7 s) is spread over cycles instead of stalling the
        bot. Returns the number of items cleared. The file does not shrink: shortened rows
        leave room inside their pages that only VACUUM gives back.
        """
        cutoff = to_iso((now or utcnow()) - timedelta(days=days))
        cursor = self.db.execute(
            "UPDATE items SET summary = '' WHERE rowid IN ("
            "SELECT rowid FROM items INDEXED BY idx_items_retention "
            "WHERE relevant = 0 AND summary != '' AND fetched < ? "
            "AND NOT EXISTS (SELECT 1 FROM feedback WHERE feedback.item_id = items.id) "
            "LIMIT ?)",
            [cutoff, limit],
        )
        return cursor.rowcount

    def existing_item_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self.db.conn.execute(
                    f"SELECT id FROM items WHERE id IN ({marks})", chunk
                )
            )
        return found

    def existing_guids(self, feed_url: str, guids: list[str]) -> set[str]:
        guids = [g for g in guids if g]
        found: set[str] = set()
        for start in range(0, len(guids), 500):
            chunk = guids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self.db.conn.execute(
                    # "guid != ''" lets SQLite use the partial unique index.
                    "SELECT guid FROM items WHERE feed_url = ? AND guid != '' "
                    f"AND guid IN ({marks})",
                    [feed_url, *chunk],
                )
            )
        return found

    # ---------------------------------------------------------------- polls
    def start_poll(self, feeds: int) -> int:
        return int(self.db["polls"].insert({"started": to_iso(utcnow()), "feeds": feeds}).last_pk)

    def finish_poll(self, poll_id: int, counts: dict[str, int]) -> None:
        self.db["polls"].update(poll_id, {"finished": to_iso(utcnow()), **counts})

    def last_poll(self) -> datetime | None:
        return from_iso(self.scalar("SELECT MAX(finished) FROM polls"))

    # -------------------------------------------------------------- stories
    def story_rows(self, where: str, params: list[Any], order: str, limit: int) -> list[Story]:
        rows = self.query(
            f"SELECT * FROM stories WHERE {where} ORDER BY {order} LIMIT ?", [*params, limit]
        )
        return self.hydrate_stories(rows)

    def hydrate_stories(self, rows: list[dict[str, Any]], with_sources: bool = True) -> list[Story]:
        stories = [_story(row) for row in rows]
        if with_sources and stories:
            by_id = {s.id: s for s in stories}
            marks = ",".join("?" * len(by_id))
            for row in self.db.query(
                "SELECT items.id, items.title, items.url, items.lang, items.published, "
                "feeds.name AS feed_name, items.story_id FROM items "
                "LEFT JOIN feeds ON feeds.url = items.feed_url "
                f"WHERE items.story_id IN ({marks}) ORDER BY items.published",
                list(by_id),
            ):
                by_id[row["story_id"]].sources.append(
                    StorySource(
                        item_id=row["id"],
                        title=row["title"],
                        url=row["url"],
                        feed_name=row["feed_name"] or "",
                        outlet=_outlet(row["url"]),
                        lang=row["lang"],
                        published=from_iso(row["published"]) or utcnow(),
                    )
                )
        return stories

    def story(self, story_id: int) -> Story | None:
        rows = self.query("SELECT * FROM stories WHERE id = ?", [story_id])
        found = self.hydrate_stories(rows)
        return found[0] if found else None

    def latest_story_in(self, category: str) -> Story | None:
        rows = self.query(
            "SELECT * FROM stories WHERE category = ? ORDER BY first_seen DESC LIMIT 1", [category]
        )
        found = self.hydrate_stories(rows, with_sources=False)
        return found[0] if found else None

    # ------------------------------------------------------------ health
    def feed_health(self, limit: int | None = None, worst_first: bool = False) -> list[FeedHealth]:
        order = (
            "ORDER BY enabled DESC, consecutive_failures DESC, last_success IS NULL DESC, name"
            if worst_first
            else "ORDER BY name, url"
        )
        sql = f"SELECT * FROM feeds {order}" + (f" LIMIT {int(limit)}" if limit else "")
        return [_feed_health(row) for row in self.db.query(sql)]

    def health_summary(self, worst: int = 5) -> HealthSummary:
        row = self.db.execute(
            "SELECT COUNT(*), SUM(enabled), "
            "SUM(enabled AND consecutive_failures = 0 AND last_success IS NOT NULL), "
            "SUM(enabled AND consecutive_failures > 0), "
            "SUM(enabled AND last_success IS NULL AND consecutive_failures = 0) FROM feeds"
        ).fetchone()
        failing = [
            _feed_health(r)
            for r in self.db.query(
                "SELECT * FROM feeds WHERE enabled = 1 AND consecutive_failures > 0 "
                "ORDER BY consecutive_failures DESC, name LIMIT ?",
                [worst],
            )
        ]
        return HealthSummary(
            total=row[0] or 0,
            enabled=row[1] or 0,
            healthy=row[2] or 0,
            failing=row[3] or 0,
            never_polled=row[4] or 0,
            worst=failing,
        )

    # ------------------------------------------------------- subscriptions
    def subscriptions(self) -> list[SubscriptionInfo]:
        return [
            _subscription(row)
            for row in self.db.query("SELECT * FROM subscriptions ORDER BY platform, channel")
        ]

    def audit(self, platform: str, user_id: str, action: str, detail: str) -> None:
        self.db["audit"].insert(
            {
                "at": to_iso(utcnow()),
                "platform": platform,
                "user_id": user_id,
                "action": action,
                "detail": detail,
            }
        )


def _outlet(url: str) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url or "").hostname or ""
    return host.removeprefix("www.")


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        url=row["url"],
        name=row["name"] or "",
        enabled=bool(row["enabled"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        consecutive_failures=row["consecutive_failures"] or 0,
        next_attempt=from_iso(row["next_attempt"]),
        last_success=from_iso(row["last_success"]),
        added_at=from_iso(row["added_at"]),
    )


def _feed_health(row: dict[str, Any]) -> FeedHealth:
    return FeedHealth(
        url=row["url"],
        name=row["name"] or row["url"],
        enabled=bool(row["enabled"]),
        last_success=from_iso(row["last_success"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"] or 0,
        next_attempt=from_iso(row["next_attempt"]),
        items=row["items"] or 0,
    )


def _story(row: dict[str, Any]) -> Story:
    first = from_iso(row["first_seen"]) or utcnow()
    return Story(
        id=row["id"],
        title=row["title"] or "",
        url=row["url"] or "",
        summary=row["summary"] or "",
        category=row["category"],
        first_seen=first,
        last_seen=from_iso(row["last_seen"]) or first,
        item_id=row["item_id"],
        languages=json.loads(row["languages"] or "[]"),
        source_count=row["source_count"] or 1,
    )


def _subscription(row: dict[str, Any]) -> SubscriptionInfo:
    return SubscriptionInfo(
        platform=row["platform"],
        channel=row["channel"],
        time=row["time"],
        timezone=row["timezone"],
        categories=json.loads(row["categories"] or "[]"),
        last_error=row["last_error"],
        last_posted=from_iso(row["last_posted"]),
        schedule=row["schedule"] or "daily",
        quiet=row["quiet"] or "line",
    )
