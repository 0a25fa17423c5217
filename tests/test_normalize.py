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
    detect_language,
    html_to_text,
    normalize_entry,
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


def test_languages() -> None:
    assert detect_language("La Cour suprême confirme la loi qui peut interdire TikTok") == "fr"
    assert detect_language("Der Oberste Gerichtshof bestätigt das TikTok-Gesetz") == "de"
    assert detect_language("The Supreme Court upholds the law that could ban TikTok") == "en"


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
