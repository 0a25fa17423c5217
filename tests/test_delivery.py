"""Scheduled digests with a controllable clock: on time, exactly once, nothing missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.base import PostError
from bot.app import catch_up
from bot.models import Caller, Digest, SubscriptionInfo
from bot.scheduling import fire_times
from bot.services.delivery import DigestDelivery
from bot.services.subscriptions import SubscriptionRequest, SubscriptionService
from bot.store.db import Store
from bot.timeutil import to_iso
from tests.conftest import seed_stories

ADMIN = Caller(platform="slack", user_id="UADMIN", channel_id="C1", is_platform_admin=True)
DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class RecordingAdapter:
    """A chat platform that remembers what reached each channel."""

    platform = "slack"

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, Digest]] = []
        self.crash_before = False
        self.crash_after = False
        self.error: PostError | None = None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def post_digest(self, channel: str, digest: Digest, run_key: str) -> None:
        if self.crash_before:
            raise Crash
        if self.error is not None:
            raise self.error
        self.posts.append((channel, run_key, digest))
        if self.crash_after:
            raise Crash

    async def already_posted(self, channel: str, run_key: str, since: datetime) -> bool:
        return any(key == run_key for _, key, _ in self.posts)

    def titles(self, index: int = -1) -> list[str]:
        return [s.title for s in self.posts[index][2].stories]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Store(tmp_path / "d.db")
    yield db
    db.close()


def add_story(store: Store, title: str, at: datetime, sources: int = 1) -> int:
    story_id = seed_stories(store, 1, now=at, title=title, sources=sources)[0]
    store.db.execute(
        "UPDATE stories SET relevant_at = ?, updated_at = ? WHERE id = ?",
        [to_iso(at), to_iso(at), story_id],
    )
    return story_id


def subscribe(store: Store, time: str = "09:00", tz: str = "UTC", **kw: object) -> SubscriptionInfo:
    return SubscriptionService(store).subscribe(ADMIN, SubscriptionRequest(time, tz, **kw))


async def test_no_repeats_and_no_holes_over_three_days(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    add_story(store, "Day one: House passes TikTok bill", DAY1 - timedelta(hours=3))
    for day in range(3):
        fire = DAY1 + timedelta(days=day)
        if day:
            add_story(store, f"Day {day + 1}: TikTok news", fire - timedelta(hours=5))
        # A restart between digests: a new delivery object each day.
        result = await DigestDelivery(store, {"slack": adapter}).deliver(sub, fire)
        assert result.state == "posted"
    assert [adapter.titles(i) for i in range(3)] == [
        ["Day one: House passes TikTok bill"],
        ["Day 2: TikTok news"],
        ["Day 3: TikTok news"],
    ]
    again = await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1 + timedelta(days=2))
    assert again.state == "nothing-due" and len(adapter.posts) == 3


async def test_new_subscriber_is_not_flooded(store: Store) -> None:
    for n in range(5):
        add_story(store, f"Old TikTok development {n}", DAY1 - timedelta(days=3, hours=n))
    add_story(store, "Fresh TikTok ruling", DAY1 - timedelta(hours=2))
    adapter = RecordingAdapter()
    sub = subscribe(store)
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    assert adapter.titles() == ["Fresh TikTok ruling"]


async def test_crash_before_posting_posts_once_later(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    add_story(store, "TikTok enforcement delayed 75 days", DAY1 - timedelta(hours=1))
    adapter.crash_before = True
    with pytest.raises(Crash):
        await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    assert adapter.posts == []
    adapter.crash_before = False
    # Restart: catch-up finds the pending run and delivers it, once.
    results = await catch_up(DigestDelivery(store, {"slack": adapter}), DAY1 + timedelta(hours=1))
    assert [r.state for r in results] == ["posted"]
    assert adapter.titles() == ["TikTok enforcement delayed 75 days"]
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1 + timedelta(days=1))
    assert len(adapter.posts) == 2 and adapter.titles() == []  # a quiet day, no repeat


async def test_crash_after_posting_is_not_posted_twice(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    add_story(store, "Supreme Court upholds TikTok law", DAY1 - timedelta(hours=1))
    adapter.crash_after = True
    with pytest.raises(Crash):
        await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    adapter.crash_after = False
    assert len(adapter.posts) == 1
    results = await catch_up(DigestDelivery(store, {"slack": adapter}), DAY1 + timedelta(hours=1))
    assert [r.state for r in results] == ["posted"] and results[0].detail == "recovered"
    assert len(adapter.posts) == 1
    add_story(store, "Next day's TikTok news", DAY1 + timedelta(hours=20))
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1 + timedelta(days=1))
    assert adapter.titles() == ["Next day's TikTok news"]


async def test_missed_runs_are_coalesced_into_one_digest(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    for day in (1, 2, 3):
        add_story(store, f"While down {day}: TikTok", DAY1 + timedelta(days=day, hours=-2))
    # Down for three scheduled runs; back at 15:00 on day four.
    results = await catch_up(
        DigestDelivery(store, {"slack": adapter}), DAY1 + timedelta(days=3, hours=6)
    )
    assert len(results) == 1 and len(adapter.posts) == 2
    assert sorted(adapter.titles()) == [f"While down {d}: TikTok" for d in (1, 2, 3)]


async def test_channel_errors_are_recorded_and_nothing_is_skipped(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    add_story(store, "TikTok joint venture approved", DAY1 - timedelta(hours=1))
    adapter.error = PostError("channel_not_found: the channel was deleted or the bot removed")
    result = await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    assert result.state == "failed"
    info = SubscriptionService(store).get("slack", "C1")
    assert info is not None and "channel_not_found" in (info.last_error or "")
    adapter.error = None
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1 + timedelta(days=1))
    assert adapter.titles() == ["TikTok joint venture approved"]
    assert SubscriptionService(store).get("slack", "C1").last_error is None  # type: ignore[union-attr]


async def test_quiet_days_post_a_line_or_nothing(store: Store) -> None:
    adapter = RecordingAdapter()
    line = subscribe(store)
    await DigestDelivery(store, {"slack": adapter}).deliver(line, DAY1)
    assert len(adapter.posts) == 1 and adapter.posts[0][2].headline == "No new developments."
    quiet = SubscriptionService(store).subscribe(
        Caller("slack", "UADMIN", "C2", True), SubscriptionRequest("09:00", "UTC", quiet="skip")
    )
    result = await DigestDelivery(store, {"slack": adapter}).deliver(quiet, DAY1)
    assert result.state == "skipped-quiet" and len(adapter.posts) == 1


async def test_updates_come_back_only_when_worth_saying(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store)
    story = add_story(store, "TikTok sale talks", DAY1 - timedelta(hours=2))
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    store.db.execute(
        "UPDATE stories SET source_count = 4, updated_at = ? WHERE id = ?",
        [to_iso(DAY1 + timedelta(hours=3)), story],
    )
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1 + timedelta(days=1))
    updated = adapter.posts[-1][2].stories
    assert [s.title for s in updated] == ["TikTok sale talks"] and updated[0].is_update


async def test_categories_filter_the_digest(store: Store) -> None:
    adapter = RecordingAdapter()
    add_story(store, "A TikTok story", DAY1 - timedelta(hours=1))  # seeded as legislation
    sub = subscribe(store, categories=["courts"])
    await DigestDelivery(store, {"slack": adapter}).deliver(sub, DAY1)
    assert adapter.titles() == []


def test_on_time_in_two_timezones_across_dst() -> None:
    new_york = SubscriptionInfo("slack", "C1", "09:00", "America/New_York", [], None, None)
    paris = SubscriptionInfo(
        "slack", "C2", "08:30", "Europe/Paris", [], None, None, schedule="weekdays"
    )
    ny = fire_times(new_york, datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    assert [t.strftime("%m-%d %H:%M") for t in ny] == [
        "03-06 14:00",
        "03-07 14:00",
        "03-08 13:00",
        "03-09 13:00",
    ]  # DST starts 8 March
    fr = fire_times(paris, datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert [t.strftime("%m-%d %H:%M") for t in fr] == [
        "03-26 07:30",
        "03-27 07:30",
        "03-30 06:30",
        "03-31 06:30",
    ]  # weekdays; DST 29 March


async def test_digests_fire_on_local_time_across_dst(store: Store) -> None:
    adapter = RecordingAdapter()
    sub = subscribe(store, "09:00", "America/New_York")
    times = fire_times(sub, datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    for fire in times:
        add_story(store, f"TikTok news before {fire:%m-%d}", fire - timedelta(hours=1))
        await DigestDelivery(store, {"slack": adapter}).deliver(sub, fire)
    assert [a.titles(i) for i, a in enumerate([adapter] * 4)] == [
        [f"TikTok news before {t:%m-%d}"] for t in times
    ]
    periods = [(p[2].since, p[2].until) for p in adapter.posts]
    assert all(periods[i][1] == periods[i + 1][0] for i in range(3))  # contiguous, no holes
