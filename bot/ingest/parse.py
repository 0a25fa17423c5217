"""Bytes to entries with feedparser (never letting it fetch: it has no timeout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import feedparser


class NotAFeedError(ValueError):
    """The bytes are not RSS, Atom or RDF, or are broken beyond recovery."""


@dataclass(slots=True)
class ParsedFeed:
    title: str
    version: str
    entries: list[dict[str, Any]]
    warning: str | None


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    headers = {"content-type": content_type} if content_type else {}
    # Summaries are reduced to plain text later, so feedparser's HTML sanitiser and
    # relative-URI rewriting would be work thrown away.
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = parsed.get("version") or ""
    entries = list(parsed.get("entries") or [])
    warning = None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        warning = f"{type(problem).__name__}: {problem}" if problem else "malformed feed"
    if not version and not entries:
        head = body[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            raise NotAFeedError("not a feed: the server sent an HTML page")
        raise NotAFeedError(f"not a feed: {warning or 'no RSS, Atom or RDF content found'}")
    title = (parsed.get("feed") or {}).get("title", "") or ""
    return ParsedFeed(title=title, version=version, entries=entries, warning=warning)
