"""Users correct the filter: the item's state changes at once and the next training uses it."""

from __future__ import annotations

import json
from typing import Any

from bot.ingest.language import ensure_language
from bot.models import Caller, Item
from bot.services.poll import story_item
from bot.store.db import Store, StoryWrite
from bot.stories.grouper import StoryGrouper, group_items
from bot.timeutil import from_iso, to_iso, utcnow

VERDICTS = ("relevant", "irrelevant")


class FeedbackError(ValueError):
    """Unknown item or verdict, worded for the user."""


def short_id(item_id: str) -> str:
    return item_id[:8]


class FeedbackService:
    def __init__(self, store: Store, grouper: StoryGrouper) -> None:
        self.store = store
        self.grouper = grouper

    def find_item(self, ref: str) -> dict[str, Any]:
        ref = ref.strip().lower()
        if len(ref) < 6 or not all(c in "0123456789abcdef" for c in ref):
            raise FeedbackError(
                f"{ref!r} is not an item id (the 8-character code shown in digests)"
            )
        rows = self.store.query(
            "SELECT * FROM items WHERE id >= ? AND id < ? LIMIT 2", [ref, ref + "g"]
        )
        if not rows:
            raise FeedbackError(f"no item with id {ref}")
        if len(rows) > 1:
            raise FeedbackError(f"{ref} matches several items; give more characters")
        return rows[0]

    def record(self, ref: str, verdict: str, caller: Caller) -> str:
        verdict = verdict.strip().lower()
        if verdict not in VERDICTS:
            raise FeedbackError("say `relevant` or `irrelevant`")
        row = self.find_item(ref)
        with self.store.transaction() as db:
            db["feedback"].insert(
                {
                    "item_id": row["id"],
                    "verdict": verdict,
                    "platform": caller.platform,
                    "user_id": caller.user_id,
                    "at": to_iso(utcnow()),
                }
            )
            if verdict == "relevant" and not row["relevant"]:
                self._mark_relevant(row)
            elif verdict == "irrelevant" and row["relevant"]:
                self._mark_irrelevant(row)
        title = row["title"][:80]
        if verdict == "relevant":
            return f"Thanks: “{title}” is now kept and will teach the next training run."
        return f"Thanks: “{title}” is now dropped and will teach the next training run."

    def _mark_relevant(self, row: dict[str, Any]) -> None:
        db = self.store.db
        item = ensure_language(_item_from_row(row))  # dropped by the gate: never detected
        db.execute(
            "UPDATE items SET relevant = 1, stage = 'feedback', lang = ? WHERE id = ?",
            [item.lang, row["id"]],
        )
        story_id, new = group_items(self.grouper, [story_item(item, row["category"])])[0][1:]
        self.store.apply_story_writes(
            [
                StoryWrite(
                    item_id=item.id,
                    story_id=story_id,
                    new=new,
                    title=item.title,
                    url=item.url,
                    summary=item.summary,
                    category=row["category"],
                    lang=item.lang,
                    published=item.published,
                    backlog=False,
                )
            ]
        )

    def _mark_irrelevant(self, row: dict[str, Any]) -> None:
        db = self.store.db
        story_id = row["story_id"]
        db.execute(
            "UPDATE items SET relevant = 0, stage = 'feedback', story_id = NULL WHERE id = ?",
            [row["id"]],
        )
        self.grouper.forget([row["id"]])
        if story_id is None:
            return
        remaining = self.store.query(
            "SELECT id, title, url, summary, lang, published FROM items WHERE story_id = ? "
            "ORDER BY published",
            [story_id],
        )
        if not remaining:
            db.execute("DELETE FROM stories WHERE id = ?", [story_id])
            return
        first = remaining[0]
        languages = list(dict.fromkeys(r["lang"] for r in remaining))
        db.execute(
            "UPDATE stories SET source_count = ?, languages = ?, title = ?, url = ?, summary = ?, "
            "item_id = ?, lang = ?, first_seen = ?, last_seen = ? WHERE id = ?",
            [
                len(remaining),
                json.dumps(languages),
                first["title"],
                first["url"],
                first["summary"],
                first["id"],
                first["lang"],
                first["published"],
                remaining[-1]["published"],
                story_id,
            ],
        )


def feedback_rows(store: Store) -> list[dict[str, Any]]:
    """The latest verdict per item, with its text, for the next training run."""
    return store.query(
        "SELECT items.id AS item_id, items.title, items.summary, items.lang, items.category, "
        "feedback.verdict FROM feedback JOIN items ON items.id = feedback.item_id "
        "WHERE feedback.id IN (SELECT MAX(id) FROM feedback GROUP BY item_id) "
        "ORDER BY feedback.id"
    )


def _item_from_row(row: dict[str, Any]) -> Item:
    published = from_iso(row["published"]) or utcnow()
    return Item(
        id=row["id"],
        feed_url=row["feed_url"],
        title=row["title"],
        summary=row["summary"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        guid=row["guid"],
        lang=row["lang"],
        published=published,
        fetched=from_iso(row["fetched"]) or published,
    )
