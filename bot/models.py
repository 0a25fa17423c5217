"""Data that crosses module boundaries. Adapters render these; the core produces them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

CATEGORIES: tuple[str, ...] = (
    "legislation",
    "courts",
    "executive",
    "divestiture",
    "device-bans",
    "data-security",
    "international",
    "lobbying",
)

CATEGORY_LABELS: dict[str, str] = {
    "legislation": "Legislation",
    "courts": "Courts",
    "executive": "Executive",
    "divestiture": "Divestiture",
    "device-bans": "Device bans",
    "data-security": "Data security",
    "international": "International",
    "lobbying": "Lobbying",
}


@dataclass(slots=True)
class Item:
    """One feed entry after normalisation."""

    id: str
    feed_url: str
    title: str
    summary: str
    url: str
    canonical_url: str
    guid: str
    lang: str
    published: datetime
    fetched: datetime
    feed_name: str = ""
    published_known: bool = True


@dataclass(slots=True)
class Verdict:
    """What the filter decided about one item."""

    relevant: bool
    score: float
    category: str | None
    stage: str  # "keyword" (dropped at the gate) or the model's name
    explanation: list[tuple[str, float]] = field(default_factory=list)


@dataclass(slots=True)
class StorySource:
    item_id: str
    title: str
    url: str
    feed_name: str
    outlet: str
    lang: str
    published: datetime


@dataclass(slots=True)
class Story:
    id: int
    title: str
    url: str
    summary: str
    category: str | None
    first_seen: datetime
    last_seen: datetime
    item_id: str
    sources: list[StorySource] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    source_count: int = 1
    is_update: bool = False

    @property
    def extra_sources(self) -> int:
        return max(0, self.source_count - 1)


@dataclass(slots=True)
class Digest:
    since: datetime
    until: datetime
    stories: list[Story]
    generated_at: datetime

    @property
    def counts_by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for story in self.stories:
            key = story.category or "uncategorised"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def headline(self) -> str:
        n = len(self.stories)
        if n == 0:
            return "No new developments."
        parts = ", ".join(f"{c} {cat}" for cat, c in self.counts_by_category.items())
        noun = "development" if n == 1 else "developments"
        return f"{n} {noun}: {parts}"


@dataclass(slots=True)
class FeedHealth:
    url: str
    name: str
    enabled: bool
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    next_attempt: datetime | None
    items: int

    @property
    def healthy(self) -> bool:
        return self.enabled and self.consecutive_failures == 0 and self.last_success is not None


@dataclass(slots=True)
class HealthSummary:
    total: int
    enabled: int
    healthy: int
    failing: int
    never_polled: int
    worst: list[FeedHealth]


@dataclass(slots=True)
class SubscriptionInfo:
    platform: str
    channel: str
    time: str
    timezone: str
    categories: list[str]
    last_error: str | None
    last_posted: datetime | None
    schedule: str = "daily"
    quiet: str = "line"


@dataclass(slots=True)
class Status:
    generated_at: datetime
    latest_by_category: dict[str, Story | None]
    last_7d: int
    prev_30d: int
    last_poll: datetime | None
    feeds: HealthSummary
    subscriptions: list[SubscriptionInfo]
    items_total: int
    relevant_total: int

    @property
    def trend(self) -> str:
        # Compare weekly rates: the 30 days before are scaled to one week.
        baseline = self.prev_30d * 7 / 30
        if self.last_7d == 0 and baseline == 0:
            return "quiet"
        if baseline == 0 or self.last_7d > baseline * 1.25:
            return "up"
        if self.last_7d < baseline * 0.75:
            return "down"
        return "steady"


class ResponseKind(StrEnum):
    TEXT = "text"
    ERROR = "error"
    DIGEST = "digest"
    STATUS = "status"
    SEARCH = "search"
    FEEDS = "feeds"


@dataclass(slots=True)
class Response:
    """A platform-neutral answer to a command; each adapter renders it its own way."""

    kind: ResponseKind
    text: str = ""
    title: str = ""
    digest: Digest | None = None
    status: Status | None = None
    stories: list[Story] = field(default_factory=list)
    feeds: list[FeedHealth] = field(default_factory=list)
    feed_summary: HealthSummary | None = None
    public: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def error(cls, text: str) -> Response:
        return cls(kind=ResponseKind.ERROR, text=text)

    @classmethod
    def message(cls, text: str, title: str = "") -> Response:
        return cls(kind=ResponseKind.TEXT, text=text, title=title)


@dataclass(slots=True)
class Caller:
    """Who sent a command, as the adapter knows them."""

    platform: str
    user_id: str
    channel_id: str
    is_platform_admin: bool = False
    display_name: str = ""
