"""Feed administration: add (validated and test-fetched), remove, list, check."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap

from bot.config import ConfigFile, feeds_sequence
from bot.ingest.fetch import Fetcher, FetchError
from bot.ingest.netguard import UnsafeURLError, check_resolves_public, check_url
from bot.ingest.normalize import canonical_url
from bot.ingest.parse import NotAFeedError, parse_feed
from bot.models import Caller
from bot.store.db import Store


class FeedAdminError(ValueError):
    """A feed change was refused; the message says why, for the admin."""


@dataclass(slots=True)
class FeedCheck:
    url: str
    name: str
    ok: bool
    detail: str


class FeedService:
    def __init__(self, config: ConfigFile, store: Store) -> None:
        self.config = config
        self.store = store

    def sync(self) -> None:
        self.store.sync_feeds(
            (f.url, f.name or f.url, f.enabled) for f in self.config.settings.feeds
        )

    async def probe(self, url: str) -> tuple[str, int]:
        """Fetch and parse a feed once; return its title and entry count or raise."""
        network = self.config.settings.network
        async with Fetcher(network) as fetcher:
            result = await fetcher.fetch(url)
        parsed = await asyncio.to_thread(parse_feed, result.body, result.content_type)
        return parsed.title, len(parsed.entries)

    async def add(self, url: str, name: str | None, caller: Caller) -> str:
        url = url.strip().strip("<>")
        network = self.config.settings.network
        try:
            host = check_url(url, network.allow_private_addresses)
            await check_resolves_public(host, urlsplit(url).port, network.allow_private_addresses)
        except UnsafeURLError as exc:
            raise FeedAdminError(f"Cannot add {url}: {exc}") from exc
        wanted = canonical_url(url)
        for feed in self.config.settings.feeds:
            if canonical_url(feed.url) == wanted:
                raise FeedAdminError(
                    f"{url} is already in the feed list as {feed.name or feed.url}."
                )
        try:
            title, entries = await self.probe(url)
        except FetchError as exc:
            raise FeedAdminError(f"Cannot add {url}: fetching it failed ({exc}).") from exc
        except NotAFeedError as exc:
            raise FeedAdminError(f"Cannot add {url}: {exc}.") from exc
        label = (name or title or urlsplit(url).hostname or url).strip()
        document = self.config.editable()
        entry = CommentedMap()
        entry["url"] = url
        entry["name"] = label
        feeds_sequence(document).append(entry)
        self.config.save(document)
        self.sync()
        self.store.audit(caller.platform, caller.user_id, "feeds.add", url)
        return f"Added {label} ({url}): {entries} items in it now; it joins the next poll."

    def remove(self, target: str, caller: Caller) -> str:
        target = target.strip().strip("<>")
        document = self.config.editable()
        feeds = feeds_sequence(document)
        wanted = canonical_url(target)
        for index, feed in enumerate(feeds):
            if canonical_url(str(feed.get("url", ""))) == wanted or feed.get("name") == target:
                label = feed.get("name") or feed.get("url")
                del feeds[index]
                self.config.save(document)
                self.sync()
                self.store.audit(caller.platform, caller.user_id, "feeds.remove", str(feed["url"]))
                return f"Removed {label}. Its stored items stay searchable."
        raise FeedAdminError(f"No feed matches {target!r}. `/tiktok feeds list` shows them.")

    async def check_all(self) -> list[FeedCheck]:
        async def one(url: str, name: str) -> FeedCheck:
            try:
                title, entries = await self.probe(url)
            except (FetchError, NotAFeedError) as exc:
                return FeedCheck(url, name, False, str(exc))
            return FeedCheck(url, name or title, True, f"{entries} items")

        feeds = [f for f in self.config.settings.feeds if f.enabled]
        return list(await asyncio.gather(*(one(f.url, f.name) for f in feeds)))
