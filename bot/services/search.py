"""Full-text search over relevant items, answered as stories."""

from __future__ import annotations

import re

from bot.models import Story
from bot.store.db import Store

_TERM = re.compile(r"[\w][\w'\-]*", re.UNICODE)


def fts_query(text: str) -> str:
    """Quote every term so user input can never be FTS5 syntax (no injection, no errors)."""
    terms = [t.replace('"', "") for t in _TERM.findall(text)]
    return " ".join(f'"{t}"' for t in terms if t)


def search_stories(store: Store, text: str, limit: int = 10) -> list[Story]:
    query = fts_query(text)
    if not query:
        return []
    rows = store.query(
        # Newest matches first by rowid (insertion order), which FTS5 walks without sorting:
        # a common word matching 100,000 items still costs only the LIMIT.
        "SELECT items.story_id AS id FROM "
        "(SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS hit "
        "JOIN items ON items.rowid = hit.rowid WHERE items.story_id IS NOT NULL",
        [query, limit * 20],
    )
    ids = list(dict.fromkeys(row["id"] for row in rows))[:limit]
    if not ids:
        return []
    stories = store.hydrate_stories(
        store.query(f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(ids))})", ids)
    )
    order = {sid: n for n, sid in enumerate(ids)}
    return sorted(stories, key=lambda s: order[s.id])
