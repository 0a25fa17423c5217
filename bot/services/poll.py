"""One poll cycle: fetch → parse → normalise → filter → group → store.

Workers fetch feeds concurrently on the event loop and hand the bytes to one worker thread,
which parses them; one sink takes the parsed feeds in batches and has the same thread judge
all their new items in one call, group them and store the batch in one transaction. The loop
thread only moves bytes, so chat commands are answered during a poll. A feed's items and its
new validators are always committed together, so a crash mid-cycle keeps every batch already
done and refetches the rest next time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Settings
from bot.ingest.fetch import Fetcher, FetchError, FetchResult, backoff_until
from bot.ingest.language import ensure_language, language_identifier
from bot.ingest.normalize import item_row, normalize_entry
from bot.ingest.parse import NotAFeedError, parse_feed
from bot.models import Item, Verdict
from bot.relevance.filter import RelevanceFilter
from bot.store.db import FeedState, Store, StoryWrite
from bot.stories.grouper import StoryGrouper, StoryItem, group_items
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

BACKLOG_AGE = timedelta(hours=48)
# Parsed feeds handled together by the sink. Judging a few items per feed thousands of times
# costs about twice as much as judging them in batches (per-call overhead, and the model's
# tables fall out of the CPU cache between calls); a commit per feed costs ~0.8 ms of page
# writes that a batch shares. A parsed feed holds ~90 KB of items: the queue is bounded.
SINK_BATCH = 32
SINK_QUEUE = SINK_BATCH


@dataclass(slots=True)
class PollReport:
    feeds: int = 0
    fetched: int = 0
    not_modified: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    new_items: int = 0
    relevant: int = 0
    bytes_downloaded: int = 0
    bytes_parsed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "not_modified": self.not_modified,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": self.errors,
            "new_items": self.new_items,
            "relevant": self.relevant,
        }

    def summary(self) -> str:
        return (
            f"Polled {self.feeds} feeds: {self.fetched} fetched, {self.not_modified} not modified, "
            f"{self.unchanged} unchanged, {self.skipped} backing off, {self.errors} failed; "
            f"{self.new_items} new items, {self.relevant} relevant."
        )


@dataclass(slots=True)
class _Prepared:
    items: list[Item]
    verdicts: list[Verdict]
    warning: str | None


@dataclass(slots=True)
class _Parsed:
    """A feed fetched and parsed by a worker, waiting for the sink."""

    state: FeedState
    result: FetchResult
    prepared: _Prepared


@dataclass(slots=True)
class _Stored:
    """What the worker thread stored of a batch, for the loop thread to add to the report
    (the report is not shared between threads)."""

    new_items: int = 0
    relevant: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)  # the items stored so far

    def add_to(self, report: PollReport) -> None:
        report.new_items += self.new_items
        report.relevant += self.relevant
        report.errors += len(self.failures)
        report.failures += self.failures


Progress = Callable[[int, int], None]


class Poller:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        relevance: RelevanceFilter,
        grouper: StoryGrouper,
    ) -> None:
        self.store = store
        self.settings = settings
        self.relevance = relevance
        self.grouper = grouper
        # Everything CPU-bound (parse, judge, group, store) runs on this one thread, in turn:
        # more threads would only fight over the GIL, and the story index and the batch
        # transaction then have a single user (commands reach the store under its lock).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poll")
        self._lock = asyncio.Lock()
        self._unchanged: list[str] = []

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    async def run(self, force: bool = False, progress: Progress | None = None) -> PollReport:
        """Poll every enabled feed that is due (all of them with force)."""
        async with self._lock:  # one cycle at a time, whoever asks
            return await self._run(force, progress)

    async def _run(self, force: bool, progress: Progress | None) -> PollReport:
        now = utcnow()
        states = self.store.feed_states(enabled_only=True)
        report = PollReport(feeds=len(states))
        bootstrap = self.store.last_poll() is None
        poll_id = self.store.start_poll(len(states))
        done = 0
        network = self.settings.network
        pending = iter(states)
        parsed: asyncio.Queue[_Parsed] = asyncio.Queue(maxsize=SINK_QUEUE)

        def finished(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(states))

        async def worker() -> None:
            # A fixed pool of workers pulling feeds, rather than one task per feed: ten
            # thousand parked tasks would cost memory for nothing.
            for state in pending:
                ready = await self._fetch_and_parse(fetcher, state, now, force, report)
                if ready is None:
                    finished(1)
                else:
                    await parsed.put(ready)

        async def sink() -> None:
            loop = asyncio.get_running_loop()
            while True:
                batch = [await parsed.get()]
                while len(batch) < SINK_BATCH and not parsed.empty():
                    batch.append(parsed.get_nowait())
                try:
                    # On the poll thread, between parses: judging, grouping and storing
                    # no longer take turns with parsing at every GIL switch (~10% less CPU
                    # over a cold cycle, measured), and the loop stays free for commands.
                    stored = await loop.run_in_executor(
                        self._executor, self._judge_and_store, batch, now, bootstrap
                    )
                    stored.add_to(report)
                finally:
                    finished(len(batch))
                    for _ in batch:
                        parsed.task_done()

        self._unchanged = []
        try:
            async with Fetcher(network) as fetcher:
                workers = min(network.concurrency, len(states))
                consumer = asyncio.create_task(sink())
                fetching = asyncio.gather(*(worker() for _ in range(workers)))
                drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                try:
                    await _until_done_or_failed(fetching, consumer)
                    # Every feed is in the queue now: wait for the sink to store them all.
                    drained = asyncio.ensure_future(parsed.join())
                    await _until_done_or_failed(drained, consumer)
                finally:  # also when the cycle is cancelled (SIGTERM mid-poll)
                    for task in (fetching, drained, consumer):
                        task.cancel()
                    await asyncio.gather(fetching, drained, consumer, return_exceptions=True)
        finally:
            self.store.record_feeds_unchanged(self._unchanged)
        self.store.finish_poll(poll_id, report.counts())
        self._apply_retention()
        return report

    def _apply_retention(self) -> None:
        # Housekeeping: the cycle's items are already committed, so a failure here (say a
        # lock held too long) is logged and retried next cycle rather than failing the poll.
        try:
            cleared = self.store.apply_retention(self.settings.storage.retention_days)
        except sqlite3.Error:
            log.exception("retention failed; will retry after the next poll")
            return
        if cleared:
            log.info("retention: cleared the summaries of %d old irrelevant items", cleared)

    async def _fetch_and_parse(
        self,
        fetcher: Fetcher,
        state: FeedState,
        now: datetime,
        force: bool,
        report: PollReport,
    ) -> _Parsed | None:
        """The feed fetched and parsed, or None when there is nothing to store (backing off,
        not modified, the same bytes as last time, or a failure already recorded)."""
        if not force and state.next_attempt and state.next_attempt > now:
            report.skipped += 1
            return None
        try:
            result = await fetcher.fetch(state.url, state.etag, state.last_modified)
        except FetchError as exc:
            self._fail(state, str(exc), exc.retry_after, report)
            return None
        report.bytes_downloaded += len(result.body)
        if result.not_modified:
            report.not_modified += 1
            self._unchanged.append(state.url)
            return None
        if result.body_hash and result.body_hash == state.body_hash:
            # The server ignores conditional headers but the bytes are the same: no parse.
            report.unchanged += 1
            self._unchanged.append(state.url)
            return None
        report.fetched += 1
        report.bytes_parsed += len(result.body)
        loop = asyncio.get_running_loop()
        try:
            prepared = await loop.run_in_executor(self._executor, self._prepare, state, result, now)
        except NotAFeedError as exc:
            self._fail(state, str(exc), None, report)
            return None
        except Exception as exc:  # a parser crash on one feed must not stop the cycle
            log.exception("feed %s could not be processed", state.url)
            self._fail(state, f"could not process the feed: {type(exc).__name__}", None, report)
            return None
        result.body = b""  # parsed: only the validators are stored from here on
        return _Parsed(state, result, prepared)

    def _judge_and_store(self, batch: list[_Parsed], now: datetime, bootstrap: bool) -> _Stored:
        """Judge, group and store a batch of parsed feeds (on the worker thread)."""
        # Judge only what is new: re-classifying a changed feed's old items would waste the
        # model.
        # One query for the batch's ids (a few hundred at once), one per feed for its GUIDs.
        known_ids = self.store.existing_item_ids(
            [item.id for feed in batch for item in feed.prepared.items]
        )
        for feed in batch:
            feed.prepared.items = self._only_new(feed.state.url, feed.prepared.items, known_ids)
        items = [item for feed in batch for item in feed.prepared.items]
        if items:
            verdicts = self._judge(items)
            start = 0
            for feed in batch:
                end = start + len(feed.prepared.items)
                feed.prepared.verdicts = verdicts[start:end]
                start = end
        # One transaction for the batch, each feed in a savepoint of its own: a feed whose
        # storing fails is rolled back alone and recorded as failed; the others commit.
        grouped: list[str] = []
        stored = _Stored()
        try:
            with self.store.transaction():
                for feed in batch:
                    try:
                        grouped += self._store(
                            feed.state, feed.result, feed.prepared, now, bootstrap, stored
                        )
                    except sqlite3.Error as exc:
                        if not self.store.in_transaction():
                            raise  # the error ended the whole transaction: the batch is lost
                        log.exception("feed %s could not be stored", feed.state.url)
                        error = f"could not store the feed: {exc}"
                        self._record_failure(feed.state, error, None)
                        stored.failures.append((feed.state.url, error))
        except BaseException:
            # The commit failed: nothing of the batch is stored, so the index must not
            # hold it either (the next poll fetches these feeds again).
            with self.store.lock:  # the index is only ever changed under the store's lock
                self.grouper.forget(grouped)
            raise
        return stored

    def _prepare(self, state: FeedState, result: FetchResult, now: datetime) -> _Prepared:
        language_identifier()  # loaded once, now, while the cycle holds little (see its doc)
        parsed = parse_feed(result.body, result.content_type)
        seen: set[str] = set()
        items: list[Item] = []
        for entry in parsed.entries:
            item = normalize_entry(entry, state.url, state.name, now)
            if item is None or item.id in seen:
                continue
            seen.add(item.id)
            items.append(item)
        return _Prepared(items=items, verdicts=[], warning=parsed.warning)

    def _judge(self, items: list[Item]) -> list[Verdict]:
        verdicts = self.relevance.judge(items)
        for item, verdict in zip(items, verdicts, strict=True):
            if verdict.relevant or verdict.stage != "keyword":  # it passed the gate
                ensure_language(item)
        return verdicts

    def _only_new(self, feed_url: str, items: list[Item], known_ids: set[str]) -> list[Item]:
        if not items:
            return items
        known_guids = self.store.existing_guids(feed_url, [i.guid for i in items])
        # A stored link needs no query of its own: an item with a link has the id
        # hash("url:" + canonical URL), so the id check covers it.
        return [
            i for i in items if i.id not in known_ids and (not i.guid or i.guid not in known_guids)
        ]

    def _is_backlog(self, item: Item, state: FeedState, now: datetime, bootstrap: bool) -> bool:
        """Old news must not flood a digest: items over 48 hours old, and (after the first
        poll ever) everything a newly added feed published before it was added."""
        if item.published < now - BACKLOG_AGE:
            return True
        first_poll_of_feed = state.last_success is None
        return (
            not bootstrap
            and first_poll_of_feed
            and state.added_at is not None
            and item.published < state.added_at
        )

    def _store(
        self,
        state: FeedState,
        result: FetchResult,
        prepared: _Prepared,
        now: datetime,
        bootstrap: bool,
        counts: _Stored,
    ) -> list[str]:
        """Group and store one feed's judged items; the ids this call added to the story
        index (to forget if the enclosing transaction fails)."""
        rows = []
        story_inputs: list[StoryItem] = []
        by_id: dict[str, tuple[Item, Verdict, bool]] = {}
        # A feed stored earlier in this batch may have carried the same item (the same link
        # under another headline): it is theirs now. Only this thread stores items, and the
        # batch began by leaving out what was already stored, so the batch's own ids are the
        # only ones to check. (Another process's poll is caught by INSERT OR IGNORE below.)
        judged = [
            (item, verdict)
            for item, verdict in zip(prepared.items, prepared.verdicts, strict=True)
            if item.id not in counts.ids
        ]
        for item, verdict in judged:
            backlog = self._is_backlog(item, state, now, bootstrap)
            row = item_row(item)
            row.update(
                relevant=int(verdict.relevant),
                score=verdict.score,
                category=verdict.category,
                stage=verdict.stage,
                backlog=int(backlog),
            )
            rows.append(row)
            if verdict.relevant:
                by_id[item.id] = (item, verdict, backlog)
                story_inputs.append(story_item(item, verdict.category))
        # Items the index already holds belong to stored items: never forget those below.
        indexed = {i for i in by_id if self.grouper.index.story_of(i) is not None}
        decisions = group_items(self.grouper, story_inputs)
        writes = [
            StoryWrite(
                item_id=item_id,
                story_id=story_id,
                new=new,
                title=by_id[item_id][0].title,
                url=by_id[item_id][0].url,
                summary=by_id[item_id][0].summary,
                category=by_id[item_id][1].category,
                lang=by_id[item_id][0].lang,
                published=by_id[item_id][0].published,
                backlog=by_id[item_id][2],
            )
            for item_id, story_id, new in decisions
        ]
        try:
            inserted = self.store.store_feed_result(
                state.url,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=result.body_hash,
                items=rows,
                stories=writes,
            )
        except Exception:
            self.grouper.forget(i for i in by_id if i not in indexed)
            raise
        stored = set(inserted)
        self.grouper.forget(i for i in by_id if i not in stored and i not in indexed)
        counts.ids |= stored
        counts.new_items += len(inserted)
        counts.relevant += sum(1 for i in inserted if i in by_id)
        return [i for i in inserted if i in by_id and i not in indexed]

    def _fail(
        self, state: FeedState, error: str, retry_after: float | None, report: PollReport
    ) -> None:
        report.errors += 1
        report.failures.append((state.url, error))
        self._record_failure(state, error, retry_after)

    def _record_failure(self, state: FeedState, error: str, retry_after: float | None) -> None:
        failures = state.consecutive_failures + 1
        until = backoff_until(failures, self.settings.poll_interval, retry_after)
        self.store.record_feed_failure(state.url, error, until)
        log.warning("feed %s failed (%d in a row): %s", state.url, failures, error)


async def _until_done_or_failed(work: asyncio.Future[object], sink: asyncio.Task[None]) -> None:
    """Wait for `work`; if the sink dies first (say the disk is full), stop waiting and
    raise its error rather than leave the workers blocked on a queue nobody reads."""
    await asyncio.wait({work, sink}, return_when=asyncio.FIRST_COMPLETED)
    if sink.done():
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        sink.result()  # raises the sink's error
        raise RuntimeError("the poll sink stopped early")
    work.result()


def story_item(item: Item, category: str | None) -> StoryItem:
    return StoryItem(
        id=item.id,
        title=item.title,
        summary=item.summary,
        lang=item.lang,
        published=item.published,
        category=category,
        canonical_url=item.canonical_url,
        guid=item.guid,
        feed_url=item.feed_url,
    )
