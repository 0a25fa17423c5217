"""Entries to clean items: plain text, canonical URLs, UTC dates (the language: language.py)."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from bot.models import Item
from bot.timeutil import to_iso

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs", "vero_", "oly_")
_TRACKING_KEYS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "ocid",
        "cmpid",
        "smid",
        "smtyp",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "source",
        "src",
        "share",
        "via",
        "taid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "spm",
        "sr_share",
        "cid",
        "at_medium",
        "at_campaign",
        "guccounter",
        "soc_src",
        "soc_trk",
        "rss",
        "output",
        "__twitter_impression",
        "s_cid",
        "xtor",
    }
)
_MARKUP = re.compile(r"<[a-zA-Z/!]")
_BOILERPLATE_TAIL = re.compile(
    r"(The post .{0,300}? appeared first on .{0,200}?\.?|Read more\.*|Continue reading.*|"
    r"Lire la suite.*|Leia mais.*|Leer más.*|Weiterlesen.*|Leggi tutto.*|\[…\]|\[\.\.\.\])\s*$",
    re.IGNORECASE,
)
# One literal of each alternative above, lower-cased: no marker, no match.
_BOILERPLATE_MARKERS = (
    "appeared first on",
    "read more",
    "continue reading",
    "lire la suite",
    "leia mais",
    "leer más",
    "weiterlesen",
    "leggi tutto",
    "[…]",
    "[...]",
)
MAX_SUMMARY = 2000
FUTURE_SLACK = timedelta(hours=1)


# Formatting tags whose content is plain text, as feed summaries mostly use them. Markup made
# only of these (attributes quoted or not) is read by dropping the tags; anything else (a
# comment, a script, a table, a stray "<") goes to lexbor. Building a lexbor document costs
# ~25 µs however small the fragment: a third of normalising an entry.
_SIMPLE_TAG = re.compile(
    r"</?(?:p|br|b|i|em|strong|a|span|div|u|s|small|sup|sub|h[1-6]|ul|ol|li|blockquote|q|"
    r"cite|code|abbr|mark|figure|figcaption|img|hr|wbr)"
    r"""(?:\s+[^\s<>"'=/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s<>"'`=]+))?)*\s*/?>""",
    re.IGNORECASE,
)


def parsed_text(value: str) -> str:
    """The text lexbor reads in markup, separated by spaces, without scripts and styles."""
    tree = LexborHTMLParser(value)
    for node in tree.css("script, style, noscript"):
        node.decompose()
    return tree.text(separator=" ") if tree.body is not None else value


def html_to_text(value: str) -> str:
    """Markup to readable plain text, entities decoded, whitespace folded."""
    if not value:
        return ""
    if _MARKUP.search(value):
        text = _SIMPLE_TAG.sub(" ", value)
        if "<" in text:  # not only simple formatting: let the HTML parser read it
            text = parsed_text(value)
        elif "&" in text:
            text = html.unescape(text)  # what the parser would have decoded
    else:
        text = value
    if "&" in text:
        text = html.unescape(text)  # feeds that escape twice ("&amp;amp;")
    return " ".join(text.split())  # str.split folds the same whitespace as \s, ~3x faster


def clean_summary(value: str) -> str:
    text = html_to_text(value)
    lowered = text.lower()
    # The tail pattern is tried at every position of the text: look for its words first.
    if any(map(lowered.__contains__, _BOILERPLATE_MARKERS)):
        text = _BOILERPLATE_TAIL.sub("", text).strip()
    if len(text) > MAX_SUMMARY:
        text = text[:MAX_SUMMARY].rsplit(" ", 1)[0] + "…"
    return text


# Most links are plain: lower-case host, no port, user, query or fragment. Their canonical
# form needs no URL parser (urlsplit/urlunsplit are a third of normalising an entry).
_PLAIN_URL = re.compile(r"https?://([a-z0-9.-]+)(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


def canonical_url(url: str) -> str:
    """An identity for a link: tracking parameters, fragment, www., trailing slash and the
    http/https difference removed; remaining query parameters sorted."""
    if not url:
        return ""
    plain = _PLAIN_URL.fullmatch(url.strip())
    if plain:
        path = plain.group(2) or "/"
        if "//" in path:
            path = re.sub(r"/{2,}", "/", path)
        return f"https://{plain.group(1).removeprefix('www.')}{path.rstrip('/') or '/'}"
    return parsed_canonical_url(url)


def parsed_canonical_url(url: str) -> str:
    """canonical_url for any link, through the URL parser."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises for a port that is not a number ("host:abc")
    except ValueError:
        return url.strip()  # not a URL we can normalise: itself is its identity
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url.strip()
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = ""
    if parts.query:
        kept = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in _TRACKING_KEYS and not k.lower().startswith(_TRACKING_PREFIXES)
        ]
        query = urlencode(sorted(kept))
    path = parts.path or "/"
    if "//" in path:
        path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit(("https", host, path, query, ""))


def entry_datetime(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # see normalize_entry
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def item_id(canonical: str, feed_url: str, guid: str, title: str, summary: str) -> str:
    if canonical:
        key = "url:" + canonical
    elif guid:
        key = f"guid:{feed_url}\n{guid}"
    else:
        key = f"text:{feed_url}\n{title}\n{summary[:500]}"
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()


_WEB_LINK = re.compile(r"https?://", re.IGNORECASE)


def normalize_entry(
    entry: dict[str, Any], feed_url: str, feed_name: str, fetched: datetime
) -> Item | None:
    # FeedParserDict.get runs Python code per call to map legacy key names ("guid", "date"):
    # the keys read here are stored under their own names, so a plain dict lookup reads the
    # same values at a fraction of the cost (a quarter of normalising an entry).
    get = partial(dict.get, entry)
    title = html_to_text(get("title", "") or "")
    raw_summary = get("summary", "") or ""
    if not raw_summary and get("content"):
        raw_summary = entry["content"][0].get("value", "") or ""
    summary = clean_summary(raw_summary)
    if not title and not summary:
        return None
    link = (get("link") or "").strip()
    if link and not _WEB_LINK.match(link):
        link = ""
    guid = str(get("id") or get("guid") or "").strip()
    if not link and _WEB_LINK.match(guid):
        link = guid
    canonical = canonical_url(link)
    published = entry_datetime(entry)
    known = published is not None
    if published is None or published > fetched + FUTURE_SLACK:
        # Missing or impossible dates: first seen is the honest fallback.
        published = fetched
    return Item(
        id=item_id(canonical, feed_url, guid, title, summary),
        feed_url=feed_url,
        title=title or summary[:120],
        summary=summary,
        url=link,
        canonical_url=canonical,
        guid=guid,
        lang="",  # detected only for items that pass the keyword gate: see ensure_language
        published=published,
        fetched=fetched,
        feed_name=feed_name,
        published_known=known,
    )


def item_row(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "feed_url": item.feed_url,
        "guid": item.guid,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "title": item.title,
        "summary": item.summary,
        "lang": item.lang,
        "published": to_iso(item.published),
        "published_known": int(item.published_known),
        "fetched": to_iso(item.fetched),
    }
