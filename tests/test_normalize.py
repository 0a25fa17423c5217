"""Normalisation: what ends up in a digest line and what counts as the same link."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from bot.ingest.normalize import (
    canonical_url,
    clean_summary,
    html_to_text,
    normalize_entry,
    parsed_canonical_url,
    parsed_text,
)

FETCHED = datetime(2025, 1, 17, 16, 0, tzinfo=UTC)


def test_tracking_parameters_fragments_www_and_slashes_do_not_matter() -> None:
    base = canonical_url("https://capitolwire.example/2025/01/scotus-tiktok")
    variants = [
        "http://www.capitolwire.example/2025/01/scotus-tiktok/",
        "https://capitolwire.example/2025/01/scotus-tiktok?utm_source=twitter&utm_medium=social",
        "https://CapitolWire.example/2025/01/scotus-tiktok#comments",
        "https://capitolwire.example/2025/01/scotus-tiktok?fbclid=abc&gclid=x&mc_cid=1",
    ]
    assert all(canonical_url(v) == base for v in variants)
    assert canonical_url("https://a.example/p?id=2&b=1") == "https://a.example/p?b=1&id=2"
    assert canonical_url("https://a.example/p?id=2") != canonical_url("https://a.example/p?id=3")


PLAIN_AND_TRICKY_URLS = [
    "https://example.com",
    "http://www.example.com/",
    "https://example.com//a//b//",
    "https://example.com/%20a/",
    "https://example.com./a",
    "https://www./a",
    "https://www.www.example/a",
    "https://example.com/~a/!$&'()*+,;=:@/",
    "HTTPS://example.com/a",
    "https://Example.com/a",
    "https://example.com:8443/a/",
    "https://user@example.com/a",
    " https://example.com/a ",
    "https://example.com/a\tb",
    "https://example.com/a?utm_source=x",
    "https://example.com/a#top",
    "ftp://example.com/a",
]


def test_plain_links_skip_the_url_parser_with_the_same_result() -> None:
    """canonical_url reads plain links (most of them) without urlsplit: every demo feed link,
    the tricky cases above and 20,000 random ones must come out as the parser's path makes
    them."""
    import random

    urls = list(PLAIN_AND_TRICKY_URLS)
    for feed in sorted((Path(__file__).parents[1] / "bot" / "demo" / "feeds").glob("*.xml")):
        urls += [e.get("link", "") for e in feedparser.parse(feed.read_bytes()).entries]
    rng = random.Random(3)
    for _ in range(20_000):
        host = "".join(rng.choice("ab.-1") for _ in range(rng.randint(0, 8)))
        rest = "".join(
            rng.choice("ab./-_~%:@!$&'()*+,;=?#A1 \t") for _ in range(rng.randint(0, 12))
        )
        urls.append(rng.choice(["http://", "https://www.", "https://WWW."]) + host + rest)
    for url in urls:
        assert canonical_url(url) == parsed_canonical_url(url), url


def test_a_link_with_a_broken_port_is_kept_as_it_is() -> None:
    # urlsplit accepts it, then raises on .port: this once failed the whole feed.
    assert canonical_url("https://example.com:8o8o/story") == "https://example.com:8o8o/story"


def test_html_becomes_clean_text() -> None:
    html = (
        "<p>The <strong>Supreme Court</strong> upheld the law&nbsp;&amp; TikTok&#8217;s "
        "appeal failed.</p><script>x()</script>"
    )
    assert html_to_text(html) == "The Supreme Court upheld the law & TikTok’s appeal failed."
    assert (
        clean_summary("Ruling today. The post TikTok loses appeared first on Wire.")
        == "Ruling today."
    )


TRICKY_MARKUP = [
    "<p>Plain paragraph.</p>",
    "Tik<b>Tok</b> ban<br/>upheld<BR>today",
    '<a href="https://x.example/?a=1&amp;b=2" title="a > b">Link text</a> after',
    "<a href=https://x.example/p class=big>unquoted</a>",
    "<img src='a.png' alt=\"x > y\"> caption",
    "<P CLASS='lead'>Upper-case tags</P><DIV>and blocks</DIV>",
    "<b>Triple</b> &amp;amp;amp; escaped",
    "Double escaped &amp;amp; and &amp;quot;quotes&amp;quot; &eacute;t&eacute; &#39;x&#39;",
    "<p>law&nbsp;&amp; order &lt;b&gt;not a tag&lt;/b&gt;</p>",
    "<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>",
    "<p>Comment <!-- hidden --> after</p>",
    "<p>Script</p><script>var a = '<p>';</script><style>p{}</style>",
    "<table><tr><td>cell</td><td>other</td></tr></table>",
    "a < b and <p>c</p>",
    "<p>unclosed <b>bold",
    '<span style="color:red">red</span><em>em</em><i>i</i><strong>s</strong>',
    "<figure><img src=x.png><figcaption>Caption</figcaption></figure>",
    "<p>Entities &copy; &mdash; &hellip; &#x2014; &amp</p>",
]


def _markup_seen_in_feeds() -> list[str]:
    """Titles and summaries of every demo feed entry, as feedparser hands them over."""
    found = []
    for path in sorted(Path("bot/demo/feeds").glob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries:
            found += [entry.get("title", ""), entry.get("summary", "")]
    return [value for value in found if value]


@pytest.mark.parametrize("value", TRICKY_MARKUP + _markup_seen_in_feeds())
def test_simple_markup_reads_as_the_html_parser_reads_it(value: str) -> None:
    """Summaries made of simple formatting tags skip the HTML parser (most of the cost of
    normalising an entry): the text must be exactly what the parser would have read."""
    # The parser decodes entities once; html_to_text decodes what is left once more.
    through_parser = " ".join(html.unescape(parsed_text(value)).split())
    if "<" not in value:
        through_parser = " ".join(html.unescape(value).split())
    assert html_to_text(value) == through_parser


def test_missing_and_future_dates_fall_back_to_first_seen() -> None:
    missing = normalize_entry(
        {"title": "TikTok deal", "link": "https://a.example/x"}, "https://f.example", "F", FETCHED
    )
    future = normalize_entry(
        {
            "title": "TikTok deal",
            "link": "https://a.example/y",
            "published_parsed": (FETCHED + timedelta(days=3)).timetuple(),
        },
        "https://f.example",
        "F",
        FETCHED,
    )
    assert missing is not None and missing.published == FETCHED and not missing.published_known
    assert future is not None and future.published == FETCHED


def test_entries_without_title_link_or_id_still_get_a_stable_identity() -> None:
    entry = {"summary": "<p>Montana's TikTok ban blocked by a federal judge.</p>"}
    first = normalize_entry(entry, "https://f.example", "F", FETCHED)
    again = normalize_entry(entry, "https://f.example", "F", FETCHED + timedelta(hours=1))
    assert first is not None and again is not None and first.id == again.id
    assert first.title.startswith("Montana's TikTok ban")
    assert normalize_entry({}, "https://f.example", "F", FETCHED) is None


_READ_KEYS = ("title", "summary", "content", "link", "id", "guid")
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[1] / "bot/demo/feeds").glob("*.xml"))
)
def test_entries_read_as_plain_dicts_give_what_feedparsers_mapping_gives(path: Path) -> None:
    """normalize_entry reads the entry as a plain dict: the same items as reading it through
    FeedParserDict's legacy key mapping (guid -> id, updated_parsed -> published_parsed)."""
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.entries
    for entry in parsed.entries:
        mapped = {key: entry.get(key) for key in _READ_KEYS}
        # The first date FeedParserDict's own lookups find, in normalize_entry's order.
        mapped["published_parsed"] = next((entry.get(k) for k in _DATE_KEYS if entry.get(k)), None)
        assert normalize_entry(entry, "https://feed.example/", "x", FETCHED) == normalize_entry(
            mapped, "https://feed.example/", "x", FETCHED
        )
