"""Synthetic feeds for the poll benchmark: realistic sizes and a mix of RSS 2.0, Atom and RDF."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

VOCAB = (
    "the a of to in and for on with as by at from that this is was were will has have said "
    "officials company app users data law court judge ruling appeal congress senate house "
    "vote bill deadline extension order administration commerce department security "
    "national china chinese government investors deal venture oracle sale divest owner "
    "platform creators advertisers campaign video short music shop sales record launch "
    "feature update market growth revenue quarter analysts report study survey parents teens "
    "school phones states governor state federal agencies devices employees access servers "
    "cloud algorithm recommendation content moderation policy rules regulators europe india "
    "canada brussels london paris berlin tokyo washington beijing singapore texas montana "
).split()

RELEVANT_TITLES = [
    "TikTok ban: court hears appeal over divest-or-ban law",
    "Senate vote moves TikTok sale deadline closer",
    "White House extends TikTok enforcement pause again",
    "State bans TikTok on government devices",
    "ByteDance weighs offers as TikTok sale talks advance",
    "Lawmakers question TikTok over data access by ByteDance staff",
]
OTHER_TITLES = [
    "Streaming service adds new live features",
    "Chipmaker reports record quarterly revenue",
    "Study finds teens spend more time on video apps",
    "Retail sales climb ahead of the holidays",
    "Music label signs licensing deal with platform",
    "City council approves new bike lanes",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(words)).capitalize() + "."


def feed_size(rng: random.Random) -> int:
    """Log-normal sizes clipped to 2 KB-300 KB, median near 10 KB."""
    return int(min(300_000, max(2_000, rng.lognormvariate(9.2, 0.9))))


# Items about the story. 10% is a stress case: thousands of general news feeds carry far
# fewer, and every such item is classified and grouped (bench/poll.py --relevant-share).
RELEVANT_SHARE = 0.1
NEW_PER_CHANGE = 3  # a changed feed gains a few items at the top, as real feeds do


def make_item(
    feed_no: int, k: int, per_item: int, seed: int, now: datetime, share: float = RELEVANT_SHARE
) -> dict:
    rng = random.Random(seed * 1_000_003 + feed_no * 100_003 + k)
    relevant = rng.random() < share
    title = rng.choice(RELEVANT_TITLES if relevant else OTHER_TITLES)
    summary: list[str] = []
    while sum(len(s) for s in summary) < per_item:
        summary.append(_sentence(rng, rng.randint(8, 20)))
    return {
        "title": f"{title} ({feed_no}-{k})",
        "link": f"https://news{feed_no % 500}.example/{feed_no}/{k}",
        "id": f"urn:bench:{feed_no}:{k}",
        "summary": " ".join(summary),
        "date": now - timedelta(minutes=10 * (10_000 - k) % 2800),
    }


def make_items(
    feed_no: int, n: int, size: int, version: int, seed: int, share: float = RELEVANT_SHARE
) -> list[dict]:
    # Small feeds carry fewer items: 30 items cannot fit in 2 KB.
    n = max(5, min(n, size // 330))
    per_item = max(30, size // n - 290)
    now = datetime.now(UTC).replace(microsecond=0)
    newest = version * NEW_PER_CHANGE + n
    return [
        make_item(feed_no, k, per_item, seed, now, share)
        for k in range(newest - 1, newest - n - 1, -1)
    ]


def rss2(items: list[dict], feed_no: int) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>Bench feed {feed_no}</title><link>https://feed{feed_no}.example/</link>",
        "<description>synthetic</description>",
    ]
    for it in items:
        out.append(
            f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link>"
            f"<guid>{it['id']}</guid><pubDate>{format_datetime(it['date'], usegmt=True)}</pubDate>"
            f"<description>{escape('<p>' + it['summary'] + '</p>')}</description></item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out)


def atom(items: list[dict], feed_no: int) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>Bench feed {feed_no}</title><id>urn:bench:feed:{feed_no}</id>",
        f"<updated>{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}</updated>",
    ]
    for it in items:
        out.append(
            f'<entry><title>{escape(it["title"])}</title><link href="{it["link"]}"/>'
            f"<id>{it['id']}</id><updated>{it['date']:%Y-%m-%dT%H:%M:%SZ}</updated>"
            f'<summary type="html">{escape("<p>" + it["summary"] + "</p>")}</summary></entry>'
        )
    out.append("</feed>")
    return "\n".join(out)


def rdf(items: list[dict], feed_no: int) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f'<channel rdf:about="https://feed{feed_no}.example/"><title>Bench feed {feed_no}</title>'
        f"<link>https://feed{feed_no}.example/</link><description>synthetic</description>"
        "</channel>",
    ]
    for it in items:
        out.append(
            f'<item rdf:about="{it["link"]}"><title>{escape(it["title"])}</title>'
            f"<link>{it['link']}</link><dc:date>{it['date']:%Y-%m-%dT%H:%M:%SZ}</dc:date>"
            f"<description>{escape(it['summary'])}</description></item>"
        )
    out.append("</rdf:RDF>")
    return "\n".join(out)


def make_feed(
    feed_no: int, n_items: int, version: int, seed: int, share: float = RELEVANT_SHARE
) -> bytes:
    rng = random.Random(seed * 1_000_003 + feed_no)
    size = feed_size(rng)
    kind = rng.random()
    items = make_items(feed_no, n_items, size, version, seed, share)
    if kind < 0.6:
        text = rss2(items, feed_no)
    elif kind < 0.85:
        text = atom(items, feed_no)
    else:
        text = rdf(items, feed_no)
    return text.encode("utf-8")
