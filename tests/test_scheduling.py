"""The scheduler's jobs follow the subscriptions: one cron job each, rebuilt live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import Caller
from bot.scheduling import POLL_JOB, build_scheduler, schedule_digests, schedule_poll
from bot.services.delivery import DigestDelivery
from bot.services.subscriptions import SubscriptionRequest, SubscriptionService
from bot.store.db import Store


class Adapter:
    platform = "slack"


async def test_one_job_per_subscription_updated_when_they_change(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    service = SubscriptionService(store)
    scheduler = build_scheduler()
    scheduler.start(paused=True)  # jobs are registered as in production, none runs
    delivery = DigestDelivery(store, {"slack": Adapter()})  # type: ignore[dict-item]
    service.listeners.append(lambda: schedule_digests(scheduler, store.subscriptions(), delivery))

    async def poll() -> None: ...

    schedule_poll(scheduler, timedelta(minutes=15), poll)
    paris = Caller("slack", "U1", "C-PARIS", True)
    service.subscribe(paris, SubscriptionRequest("08:30", "Europe/Paris"))
    service.subscribe(
        Caller("slack", "U1", "C-NY", True),
        SubscriptionRequest("09:00", "America/New_York", schedule="weekdays"),
    )
    service.subscribe(Caller("discord", "U2", "D1", True), SubscriptionRequest("07:00", "UTC"))
    ids = sorted(job.id for job in scheduler.get_jobs())
    # No Discord adapter is running, so its subscription has no job (status shows it).
    assert ids == ["digest:slack:C-NY", "digest:slack:C-PARIS", POLL_JOB]
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)  # a Saturday; Paris moves to summer time Sunday
    trigger = scheduler.get_job("digest:slack:C-PARIS").trigger
    first = trigger.get_next_fire_time(None, start)
    assert first.astimezone(UTC).strftime("%a %H:%M") == "Sun 06:30"
    ny = scheduler.get_job("digest:slack:C-NY").trigger.get_next_fire_time(None, start)
    assert ny.astimezone(UTC).strftime("%a %H:%M") == "Mon 13:00"  # weekdays only

    service.subscribe(paris, SubscriptionRequest("18:00", "Europe/Paris"))  # replaces it
    moved = scheduler.get_job("digest:slack:C-PARIS").trigger.get_next_fire_time(None, start)
    assert moved.astimezone(UTC).strftime("%a %H:%M") == "Sat 17:00"
    service.unsubscribe(paris)
    assert scheduler.get_job("digest:slack:C-PARIS") is None
    scheduler.shutdown(wait=False)
    store.close()
