"""APScheduler jobs: the poll cycle (and, per subscription, the digest)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import parse_hhmm
from bot.models import SubscriptionInfo
from bot.services.delivery import DigestDelivery
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

POLL_JOB = "poll"


def build_scheduler() -> AsyncIOScheduler:
    # In-memory job store: jobs are rebuilt from feeds.yaml and the database at every start,
    # so there is nothing to persist and nothing stale to resurrect.
    return AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})


def schedule_poll(
    scheduler: AsyncIOScheduler, interval: timedelta, poll: Callable[[], Awaitable[object]]
) -> None:
    scheduler.add_job(
        poll,
        IntervalTrigger(seconds=int(interval.total_seconds()), timezone="UTC"),
        id=POLL_JOB,
        name="poll feeds",
        replace_existing=True,
        next_run_time=utcnow(),  # poll at start, then every interval
        misfire_grace_time=int(interval.total_seconds()),
    )


DIGEST_JOB_PREFIX = "digest:"
_DAYS = {"daily": "*", "weekdays": "mon-fri", "weekly": "mon"}


def trigger_for(sub: SubscriptionInfo) -> CronTrigger:
    """The subscription's local time in its IANA zone: DST shifts follow the zone's rules."""
    hour, minute = parse_hhmm(sub.time)
    return CronTrigger(
        hour=hour,
        minute=minute,
        day_of_week=_DAYS.get(sub.schedule, "*"),
        timezone=ZoneInfo(sub.timezone),
    )


def fire_times(sub: SubscriptionInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every scheduled fire time in (start, end], in UTC."""
    trigger = trigger_for(sub)
    times: list[datetime] = []
    previous = None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        if moment > start:
            times.append(moment.astimezone(UTC))
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(seconds=1))
    return times


def last_fire_before(sub: SubscriptionInfo, now: datetime) -> datetime | None:
    times = fire_times(sub, now - timedelta(days=8), now)
    return times[-1] if times else None


def schedule_digests(
    scheduler: AsyncIOScheduler, subscriptions: list[SubscriptionInfo], delivery: DigestDelivery
) -> None:
    """One cron job per subscription, rebuilt whenever subscriptions change."""
    wanted = {f"{DIGEST_JOB_PREFIX}{s.platform}:{s.channel}": s for s in subscriptions}
    for job in scheduler.get_jobs():
        if job.id.startswith(DIGEST_JOB_PREFIX) and job.id not in wanted:
            job.remove()
    for job_id, sub in wanted.items():
        if sub.platform not in delivery.adapters:
            continue

        async def fire(sub: SubscriptionInfo = sub) -> None:
            result = await delivery.deliver(sub, utcnow().replace(second=0))
            log.info("digest %s %s: %s", sub.platform, sub.channel, result.state)

        scheduler.add_job(
            fire,
            trigger_for(sub),
            id=job_id,
            name=f"digest {sub.platform} {sub.channel}",
            replace_existing=True,
            misfire_grace_time=3600,
        )
