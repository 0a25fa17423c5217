"""Feed administration as an admin does it: refusals are clear and leave feeds.yaml untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.models import Caller
from bot.services.feeds import FeedAdminError
from bot.services.monitor import Monitor
from tests.conftest import write_config
from tests.feed_server import FeedServer, rss

ADMIN = Caller(platform="cli", user_id="alice", channel_id="cli", is_platform_admin=True)


@pytest.fixture
def strict_monitor(tmp_path: Path) -> Monitor:
    config = write_config(tmp_path / "feeds.yaml")
    text = config.read_text().replace(
        "allow_private_addresses: true", "allow_private_addresses: false"
    )
    config.write_text(text)
    monitor = Monitor.open(config, tmp_path / "m.db")
    yield monitor
    monitor.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/", "private, loopback or link-local"),
        ("http://127.0.0.1/", "private, loopback or link-local"),
        ("http://[::1]:8080/feed", "private, loopback or link-local"),
        ("http://localhost/feed", "not a public address"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://example.com/feed", "only http:// and https://"),
    ],
)
async def test_unsafe_urls_are_refused(strict_monitor: Monitor, url: str, message: str) -> None:
    before = strict_monitor.config.path.read_bytes()
    with pytest.raises(FeedAdminError, match=message):
        await strict_monitor.feeds.add(url, None, ADMIN)
    assert strict_monitor.config.path.read_bytes() == before


async def test_non_feed_page_and_dead_url_are_refused(
    monitor: Monitor, feed_server: FeedServer
) -> None:
    page = feed_server.add(
        "page", body=b"<html><body>Welcome</body></html>", content_type="text/html"
    )
    before = monitor.config.path.read_bytes()
    with pytest.raises(FeedAdminError, match="not a feed"):
        await monitor.feeds.add(page, None, ADMIN)
    with pytest.raises(FeedAdminError, match="HTTP 404"):
        await monitor.feeds.add(feed_server.url("gone.xml"), None, ADMIN)
    assert monitor.config.path.read_bytes() == before


async def test_add_then_duplicate_then_remove(monitor: Monitor, feed_server: FeedServer) -> None:
    url = feed_server.add(
        "feed.xml", body=rss([{"title": "TikTok ban", "guid": "1"}], title="Wire Service")
    )
    message = await monitor.feeds.add(url, None, ADMIN)
    assert "Added Wire Service" in message
    text = monitor.config.path.read_text()
    assert "# test configuration" in text and "# how often to poll" in text and url in text
    with pytest.raises(FeedAdminError, match="already in the feed list"):
        await monitor.feeds.add(url + "?utm_source=x", None, ADMIN)
    assert "Removed Wire Service" in monitor.feeds.remove(url, ADMIN)
    assert url not in monitor.config.path.read_text()
    audit = monitor.store.query("SELECT action, user_id, detail FROM audit ORDER BY id")
    assert [(a["action"], a["user_id"]) for a in audit] == [
        ("feeds.add", "alice"),
        ("feeds.remove", "alice"),
    ]
    with pytest.raises(FeedAdminError, match="No feed matches"):
        monitor.feeds.remove("https://nowhere.example/feed", ADMIN)
