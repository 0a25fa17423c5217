"""Store queries for the grouper: rebuilding its index from the database at start."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.config import StoriesSettings
from bot.stories.features import compute
from bot.stories.index import Entry
from bot.timeutil import from_iso, to_iso

if TYPE_CHECKING:
    from bot.store.db import Store
    from bot.stories.grouper import StoryGrouper


def next_story_id(store: Store) -> int:
    top = store.scalar("SELECT MAX(id) FROM stories")
    items_top = store.scalar("SELECT MAX(story_id) FROM items WHERE story_id IS NOT NULL")
    return max(int(top or 0), int(items_top or 0)) + 1


def rebuild(cls: type[StoryGrouper], store: Store, settings: StoriesSettings) -> StoryGrouper:
    """A grouper whose index is rebuilt from the store now (see `fill_index`)."""
    grouper = cls(settings, next_story_id=next_story_id(store))
    fill_index(grouper, store)
    return grouper


def fill_index(grouper: StoryGrouper, store: Store) -> None:
    """The items the live index would still hold (two windows behind the newest, at most
    its capacity), with their exact identities: start-up time and memory depend on the
    recent volume, not on the size of the archive."""
    index = grouper.index
    newest = from_iso(store.scalar("SELECT MAX(published) FROM items WHERE story_id IS NOT NULL"))
    if newest is None:
        return
    since = to_iso(newest - timedelta(seconds=index.retain))
    # The most recent items first, as many as the live index would hold, then oldest first
    # so that each story's first item is indexed first, as it was live.
    rows = store.db.execute(
        "SELECT id, title, summary, lang, published, story_id, canonical_url, feed_url, guid "
        "FROM items WHERE story_id IS NOT NULL AND published >= ? "
        "ORDER BY published DESC, id DESC LIMIT ?",
        [since, index.capacity],
    ).fetchall()
    rows.reverse()
    stories = {int(r[5]) for r in rows}
    index.categories.update(_story_categories(store, stories))
    for item_id, title, summary, lang, published, story, url, feed_url, guid in rows:
        moment = from_iso(published)
        if moment is None:
            continue
        features = compute(title or "", summary or "", lang or "und")
        index.remember(item_id, int(story), url or "", (feed_url, guid) if guid else None)
        index.add(Entry(item_id, int(story), moment.timestamp(), features))


def _story_categories(store: Store, story_ids: set[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    ids = sorted(story_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for story_id, category in store.db.execute(
            f"SELECT id, category FROM stories WHERE id IN ({marks})", chunk
        ):
            found[int(story_id)] = category
    return found
