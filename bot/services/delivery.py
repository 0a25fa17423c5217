"""Scheduled digests, delivered exactly once per period, with nothing skipped.

The protocol, and why it survives a crash at any point:

1. Record the run first: a `digests` row in state `pending` with its period
   [covered_until, fire time) and the stories chosen, in one transaction.
2. Post it through the adapter, tagged with the run's key (`tiktok-digest:<id>`).
3. Mark the run `posted` and move the subscription's `covered_until` to the period's end,
   in one transaction.

A crash before 2 leaves a pending run: at the next start (or the next fire) the same run is
resumed — same period, same stories — so the period is neither skipped nor split.
A crash between 2 and 3 also leaves a pending run, but the message is already in the channel:
before posting a pending run again we ask the platform whether a message with that run key
exists (`already_posted`), and only mark it posted if so. Posting is therefore idempotent and
the channel sees the digest exactly once. A permanent failure (channel gone, bot not invited)
marks the run failed and leaves `covered_until` alone, so the next digest covers the hole.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.base import ChatAdapter, PostError
from bot.models import Digest, Story, SubscriptionInfo
from bot.services.digest import build_digest
from bot.store.db import Store
from bot.timeutil import from_iso, to_iso, utcnow

log = logging.getLogger(__name__)

FIRST_DIGEST_SPAN = timedelta(hours=24)
UPDATE_LOOKBACK = timedelta(days=14)
# A story already posted comes back only when it gained this many sources, or a language.
UPDATE_MIN_NEW_SOURCES = 2


@dataclass(slots=True)
class DeliveryResult:
    platform: str
    channel: str
    state: str  # posted | skipped-quiet | failed | nothing-due
    stories: int
    detail: str = ""


def run_key(run_id: int) -> str:
    return f"tiktok-digest:{run_id}"


class DigestDelivery:
    def __init__(self, store: Store, adapters: dict[str, ChatAdapter]) -> None:
        self.store = store
        self.adapters = adapters

    async def deliver(self, sub: SubscriptionInfo, fire_time: datetime) -> DeliveryResult:
        adapter = self.adapters.get(sub.platform)
        if adapter is None:
            return DeliveryResult(
                sub.platform, sub.channel, "failed", 0, f"no {sub.platform} adapter is running"
            )
        run = self._pending_run(sub) or self._new_run(sub, fire_time)
        if run is None:
            return DeliveryResult(sub.platform, sub.channel, "nothing-due", 0)
        key = run_key(run["id"])
        resumed = run["resumed"]
        created = from_iso(run["created_at"]) or fire_time
        if resumed and await self._already_posted(adapter, sub, key, created):
            self._mark_posted(run, sub, posted=True)
            return DeliveryResult(sub.platform, sub.channel, "posted", 0, "recovered")
        # A resumed run is posted exactly as recorded (same stories, same parts), so a platform
        # that kept some of its parts is sent only the rest; later news gets the next run.
        digest = self._digest_for(run, sub)
        if not digest.stories and sub.quiet == "skip":
            self._mark_posted(run, sub, posted=False)
            return DeliveryResult(sub.platform, sub.channel, "skipped-quiet", 0)
        try:
            await adapter.post_digest(sub.channel, digest, key)
        except PostError as exc:
            return self._failed(run, sub, exc)
        self._mark_posted(run, sub, posted=True)
        return DeliveryResult(sub.platform, sub.channel, "posted", len(digest.stories))

    async def _already_posted(
        self, adapter: ChatAdapter, sub: SubscriptionInfo, key: str, since: datetime
    ) -> bool:
        try:
            return await adapter.already_posted(sub.channel, key, since)
        except PostError:
            return False

    # ----------------------------------------------------------------- runs
    def _pending_run(self, sub: SubscriptionInfo) -> dict[str, Any] | None:
        rows = self.store.query(
            "SELECT * FROM digests WHERE platform = ? AND channel = ? AND state = 'pending' "
            "ORDER BY id LIMIT 1",
            [sub.platform, sub.channel],
        )
        if not rows:
            return None
        return {**rows[0], "resumed": True}

    def _period_start(self, sub: SubscriptionInfo, fire_time: datetime) -> datetime:
        covered = from_iso(
            self.store.scalar(
                "SELECT covered_until FROM subscriptions WHERE platform = ? AND channel = ?",
                [sub.platform, sub.channel],
            )
        )
        # A new subscriber gets at most the last day, never the whole history.
        return covered if covered is not None else fire_time - FIRST_DIGEST_SPAN

    def _plan(
        self, sub: SubscriptionInfo, start: datetime, end: datetime
    ) -> dict[str, list[object]]:
        digest = build_digest(
            self.store, since=start, until=end, categories=sub.categories or None, now=end
        )
        stories = digest.stories + self._updates(sub, start, end, digest.stories)
        return {str(s.id): [s.source_count, s.languages, s.is_update] for s in stories}

    def _new_run(self, sub: SubscriptionInfo, fire_time: datetime) -> dict[str, Any] | None:
        start = self._period_start(sub, fire_time)
        if start >= fire_time:
            return None
        snapshot = self._plan(sub, start, fire_time)
        with self.store.transaction() as db:
            run_id = (
                db["digests"]
                .insert(
                    {
                        "platform": sub.platform,
                        "channel": sub.channel,
                        "period_start": to_iso(start),
                        "period_end": to_iso(fire_time),
                        "state": "pending",
                        "story_ids": json.dumps(snapshot),
                        "created_at": to_iso(utcnow()),
                    },
                    ignore=True,
                )
                .last_pk
            )
        rows = self.store.query(
            "SELECT * FROM digests WHERE platform = ? AND channel = ? AND period_end = ?",
            [sub.platform, sub.channel, to_iso(fire_time)],
        )
        if not rows or (rows[0]["state"] != "pending" and rows[0]["id"] != run_id):
            return None  # this period was already delivered
        return {**rows[0], "resumed": False}

    def _updates(
        self, sub: SubscriptionInfo, start: datetime, end: datetime, fresh: list[Story]
    ) -> list[Story]:
        """Stories this channel already saw that have since gained something worth saying."""
        seen: dict[int, tuple[int, list[str]]] = {}
        for row in self.store.query(
            "SELECT story_ids FROM digests WHERE platform = ? AND channel = ? AND state = 'posted' "
            "AND period_end >= ? ORDER BY id",
            [sub.platform, sub.channel, to_iso(start - UPDATE_LOOKBACK)],
        ):
            for sid, (count, languages, *_rest) in json.loads(row["story_ids"] or "{}").items():
                seen[int(sid)] = (count, languages)
        fresh_ids = {s.id for s in fresh}
        candidates = [sid for sid in seen if sid not in fresh_ids]
        if not candidates:
            return []
        marks = ",".join("?" * len(candidates))
        rows = self.store.query(
            f"SELECT * FROM stories WHERE id IN ({marks}) AND updated_at >= ? AND updated_at < ?",
            [*candidates, to_iso(start), to_iso(end)],
        )
        updates = []
        for story in self.store.hydrate_stories(rows):
            count, languages = seen[story.id]
            new_language = bool(set(story.languages) - set(languages))
            if story.source_count - count >= UPDATE_MIN_NEW_SOURCES or new_language:
                if sub.categories and story.category not in sub.categories:
                    continue
                story.is_update = True
                updates.append(story)
        return updates

    def _digest_for(self, run: dict[str, Any], sub: SubscriptionInfo) -> Digest:
        snapshot = json.loads(run["story_ids"] or "{}")
        ids = [int(sid) for sid in snapshot]
        stories: list[Story] = []
        if ids:
            rows = self.store.query(
                f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(ids))})", ids
            )
            by_id = {s.id: s for s in self.store.hydrate_stories(rows)}
            for sid in ids:  # keep the ranking decided when the run was recorded
                story = by_id.get(sid)
                if story is not None:
                    story.is_update = bool(snapshot[str(sid)][2])
                    stories.append(story)
        start = from_iso(run["period_start"]) or utcnow()
        end = from_iso(run["period_end"]) or utcnow()
        return Digest(since=start, until=end, stories=stories, generated_at=end)

    def _mark_posted(self, run: dict[str, Any], sub: SubscriptionInfo, posted: bool) -> None:
        now = to_iso(utcnow())
        with self.store.transaction() as db:
            db.execute(
                "UPDATE digests SET state = ?, posted_at = ?, error = NULL WHERE id = ?",
                ["posted" if posted else "skipped", now, run["id"]],
            )
            db.execute(
                "UPDATE subscriptions SET covered_until = ?, last_error = NULL, "
                "last_error_at = NULL, last_posted = COALESCE(?, last_posted) "
                "WHERE platform = ? AND channel = ?",
                [run["period_end"], now if posted else None, sub.platform, sub.channel],
            )

    def _failed(self, run: dict[str, Any], sub: SubscriptionInfo, exc: PostError) -> DeliveryResult:
        message = str(exc)
        with self.store.transaction() as db:
            if exc.permanent:
                db.execute(
                    "UPDATE digests SET state = 'failed', error = ? WHERE id = ?",
                    [message, run["id"]],
                )
                # Pin the start, so the next digest covers this failed period too.
                db.execute(
                    "UPDATE subscriptions SET covered_until = COALESCE(covered_until, ?) "
                    "WHERE platform = ? AND channel = ?",
                    [run["period_start"], sub.platform, sub.channel],
                )
            else:
                db.execute("UPDATE digests SET error = ? WHERE id = ?", [message, run["id"]])
            db.execute(
                "UPDATE subscriptions SET last_error = ?, last_error_at = ? "
                "WHERE platform = ? AND channel = ?",
                [message, to_iso(utcnow()), sub.platform, sub.channel],
            )
        log.warning("digest for %s %s failed: %s", sub.platform, sub.channel, message)
        return DeliveryResult(sub.platform, sub.channel, "failed", 0, message)
