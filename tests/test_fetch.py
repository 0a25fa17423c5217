"""The fetcher against a real local server: what an admin sees for each kind of bad feed."""

from __future__ import annotations

import pytest

from bot.config import NetworkSettings
from bot.ingest.fetch import Fetcher, FetchError, backoff_until, parse_retry_after
from bot.timeutil import utcnow
from tests.feed_server import FeedServer, rss

NET = NetworkSettings(
    allow_private_addresses=True,
    connect_timeout=1,
    read_timeout=1,
    total_timeout=2,
    max_bytes=50_000,
    max_redirects=2,
)
BODY = rss([{"title": "TikTok ban vote", "link": "https://a.example/1", "guid": "1"}])


async def test_conditional_get_costs_a_304(feed_server: FeedServer) -> None:
    url = feed_server.add("feed.xml", body=BODY)
    async with Fetcher(NET) as fetcher:
        first = await fetcher.fetch(url)
        second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and first.body == BODY and first.etag
    assert second.not_modified and second.body == b""
    assert feed_server.routes["feed.xml"].not_modified == 1


async def test_slow_server_times_out(feed_server: FeedServer) -> None:
    url = feed_server.add("slow.xml", body=BODY, delay=3)
    async with Fetcher(NET) as fetcher:
        with pytest.raises(FetchError, match="timed out"):
            await fetcher.fetch(url)


async def test_too_large_declared_and_decompressed(feed_server: FeedServer) -> None:
    big = b"<rss>" + b"x" * 60_000 + b"</rss>"
    plain = feed_server.add("big.xml", body=big)
    bomb = feed_server.add("bomb.xml", body=big, gzip=True)  # small on the wire
    async with Fetcher(NET) as fetcher:
        with pytest.raises(FetchError, match="too large"):
            await fetcher.fetch(plain)
        with pytest.raises(FetchError, match="too large"):
            await fetcher.fetch(bomb)


async def test_http_errors_are_reported_with_retry_after(feed_server: FeedServer) -> None:
    missing = feed_server.url("nope.xml")
    limited = feed_server.add("busy.xml", status=429, headers={"Retry-After": "120"})
    async with Fetcher(NET) as fetcher:
        with pytest.raises(FetchError, match="HTTP 404"):
            await fetcher.fetch(missing)
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(limited)
    assert info.value.retry_after == 120


async def test_redirect_limit_and_private_redirects(feed_server: FeedServer) -> None:
    loop_url = feed_server.add("loop.xml", status=302, headers={"Location": "/loop.xml"})
    async with Fetcher(NET) as fetcher:
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.fetch(loop_url)
    strict = NetworkSettings(allow_private_addresses=False)
    async with Fetcher(strict) as fetcher:
        with pytest.raises(FetchError, match="refused"):
            await fetcher.fetch(feed_server.url("feed.xml"))


def test_backoff_grows_and_respects_retry_after() -> None:
    from datetime import timedelta

    interval = timedelta(minutes=15)
    now = utcnow()
    one = backoff_until(1, interval, None) - now
    three = backoff_until(3, interval, None) - now
    capped = backoff_until(20, interval, None) - now
    assert timedelta(minutes=14) < one <= timedelta(minutes=16)
    assert timedelta(minutes=59) < three <= timedelta(minutes=61)
    assert capped <= timedelta(hours=6, minutes=1)
    assert backoff_until(1, interval, 7200) - now >= timedelta(hours=1, minutes=59)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("not a date") is None
