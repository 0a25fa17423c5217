"""Channel subscriptions to the daily digest: one per channel; changing it replaces it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.config import check_timezone, parse_hhmm
from bot.models import CATEGORIES, Caller, SubscriptionInfo
from bot.store.db import Store
from bot.timeutil import to_iso, utcnow

SCHEDULES = ("daily", "weekdays", "weekly")
QUIET_MODES = ("line", "skip")


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured, worded for the user."""


@dataclass(slots=True)
class SubscriptionRequest:
    time: str
    timezone: str
    categories: list[str] = field(default_factory=list)
    schedule: str = "daily"
    quiet: str = "line"

    def validate(self) -> None:
        try:
            parse_hhmm(self.time)
            check_timezone(self.timezone)
        except ValueError as exc:
            raise SubscriptionError(str(exc)) from exc
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown:
            raise SubscriptionError(
                f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                f"choose from {', '.join(CATEGORIES)}"
            )
        if self.schedule not in SCHEDULES:
            raise SubscriptionError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.quiet not in QUIET_MODES:
            raise SubscriptionError(f"quiet must be one of {', '.join(QUIET_MODES)}")


class SubscriptionService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.listeners: list = []  # called after a change, so the scheduler can follow it

    def subscribe(self, caller: Caller, request: SubscriptionRequest) -> SubscriptionInfo:
        request.validate()
        existing = self.get(caller.platform, caller.channel_id)
        now = to_iso(utcnow())
        row = {
            "platform": caller.platform,
            "channel": caller.channel_id,
            "time": request.time,
            "timezone": request.timezone,
            "categories": json.dumps(request.categories),
            "schedule": request.schedule,
            "quiet": request.quiet,
            "created_by": caller.user_id,
            "created_at": now,
            "last_error": None,
            "last_error_at": None,
        }
        with self.store.transaction() as db:
            if existing is None:
                # The first digest covers at most the day before subscribing.
                row["covered_until"] = None
                db["subscriptions"].insert(row)
            else:
                db["subscriptions"].update((caller.platform, caller.channel_id), row)
            self.store.audit(
                caller.platform,
                caller.user_id,
                "subscribe",
                f"{caller.channel_id} {request.time} {request.timezone} {request.schedule} "
                f"{' '.join(request.categories)}".strip(),
            )
        self._changed()
        info = self.get(caller.platform, caller.channel_id)
        assert info is not None
        return info

    def unsubscribe(self, caller: Caller) -> bool:
        with self.store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM subscriptions WHERE platform = ? AND channel = ?",
                [caller.platform, caller.channel_id],
            )
            removed = cursor.rowcount > 0
            if removed:
                self.store.audit(caller.platform, caller.user_id, "unsubscribe", caller.channel_id)
        if removed:
            self._changed()
        return removed

    def get(self, platform: str, channel: str) -> SubscriptionInfo | None:
        for sub in self.store.subscriptions():
            if sub.platform == platform and sub.channel == channel:
                return sub
        return None

    def record_error(self, platform: str, channel: str, error: str | None) -> None:
        self.store.db.execute(
            "UPDATE subscriptions SET last_error = ?, last_error_at = ? "
            "WHERE platform = ? AND channel = ?",
            [error, to_iso(utcnow()) if error else None, platform, channel],
        )

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()
