"""`tiktok-monitor cluster`: group JSON lines into stories through the live grouping path."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bot.config import StoriesSettings
from bot.ingest.language import detect_language
from bot.ingest.normalize import canonical_url, html_to_text
from bot.stories.grouper import StoryGrouper, StoryItem, group_items
from bot.timeutil import utcnow


def cluster_lines(lines: Iterable[str], settings: StoriesSettings) -> Iterator[dict[str, Any]]:
    """Read {"id", "title", "summary", "link"?, "published"?, "lang"?} per line and yield
    {"id", "story"} for each, in input order; a malformed line yields {"id", "error"}.

    All valid lines are read first so that items are grouped earliest-first, as the poller
    does; the output keeps the input order so it can be zipped with the input.
    """
    grouper = StoryGrouper(settings)
    now = utcnow()
    parsed: list[tuple[int, StoryItem | None, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append((number, _item(line, now), {}))
        except _BadLine as exc:
            parsed.append((number, None, {"id": exc.item_id, "error": str(exc)}))
    valid = [item for _, item, _ in parsed if item is not None]
    stories = {item_id: story for item_id, story, _ in group_items(grouper, _unique(valid))}
    for _, item, error in parsed:
        if item is None:
            yield error
        else:
            yield {"id": item.id, "story": stories[item.id]}


class _BadLine(ValueError):
    def __init__(self, message: str, item_id: Any = None) -> None:
        super().__init__(message)
        self.item_id = item_id


def _item(line: str, now: datetime) -> StoryItem:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(row, dict):
        raise _BadLine("each line must be a JSON object")
    item_id = row.get("id")
    if item_id is None or item_id == "":
        raise _BadLine("missing 'id'")
    title = html_to_text(_text(row, "title", item_id))
    summary = html_to_text(_text(row, "summary", item_id))
    if not title and not summary:
        raise _BadLine("needs a non-empty 'title' or 'summary'", item_id)
    link = _text(row, "link", item_id)
    lang = _text(row, "lang", item_id) or detect_language(f"{title}. {summary}")
    return StoryItem(
        id=str(item_id),
        title=title,
        summary=summary,
        lang=lang.lower()[:2],
        published=_published(row.get("published"), now, item_id),
        category=row.get("category") if isinstance(row.get("category"), str) else None,
        canonical_url=canonical_url(link),
    )


def _text(row: dict[str, Any], key: str, item_id: Any) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _BadLine(f"'{key}' must be a string", item_id)
    return value


def _published(value: Any, now: datetime, item_id: Any) -> datetime:
    if value in (None, ""):
        return now  # unknown date: treat as just seen, like the poller does
    if not isinstance(value, str):
        raise _BadLine("'published' must be an ISO 8601 string", item_id)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _BadLine(f"'published' is not ISO 8601: {value!r}", item_id) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unique(items: list[StoryItem]) -> list[StoryItem]:
    # A repeated id is one item: the grouper answers it from the first occurrence.
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out
