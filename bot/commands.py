"""`/tiktok …`: text (or typed options) in, a platform-neutral Response out.

Every adapter sends what the user typed here; none of them knows what the subcommands do.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.config import ConfigError, parse_duration
from bot.models import CATEGORIES, Caller, Response, ResponseKind
from bot.services.feedback import FeedbackError
from bot.services.feeds import FeedAdminError
from bot.services.monitor import Monitor
from bot.services.subscriptions import (
    QUIET_MODES,
    SCHEDULES,
    SubscriptionError,
    SubscriptionRequest,
)

log = logging.getLogger(__name__)

HELP = """\
`/tiktok status` — where the story stands: latest per category, activity, feed health
`/tiktok digest [24h|7d]` — the developments of the last day (or week), each story once
`/tiktok search <words>` — find stories, e.g. `/tiktok search supreme court`
`/tiktok feedback <item> relevant|irrelevant` — correct the filter (item codes are shown in digests)
`/tiktok subscribe [HH:MM] [timezone] [weekdays|weekly] [quiet] [categories…]` — \
daily digest in this channel (admins)
`/tiktok unsubscribe` — stop this channel's digest (admins)
`/tiktok feeds list` — the feeds and their health
`/tiktok feeds add <url> [name]` / `/tiktok feeds remove <url>` — \
edit the feed list (admins)
`/tiktok help` — this message
Add `public` at the end of any command to share the answer with the channel."""

MAX_PERIOD = timedelta(days=31)


class UsageError(ValueError):
    """Malformed input; the message shows the right usage."""


@dataclass(slots=True)
class Parsed:
    name: str
    args: list[str]
    public: bool


def parse(text: str) -> Parsed:
    text = (text or "").strip()
    if text.startswith("/tiktok"):
        text = text[len("/tiktok") :]
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    public = bool(words) and words[-1].lower() == "public"
    if public:
        words = words[:-1]
    if not words:
        return Parsed("help", [], public)
    return Parsed(words[0].lower(), words[1:], public)


Handler = Callable[["CommandRouter", list[str], Caller], Awaitable[Response]]


class CommandRouter:
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self._handlers: dict[str, tuple[Handler, bool]] = {
            "help": (CommandRouter._help, False),
            "status": (CommandRouter._status, False),
            "digest": (CommandRouter._digest, False),
            "search": (CommandRouter._search, False),
            "feedback": (CommandRouter._feedback, False),
            "subscribe": (CommandRouter._subscribe, True),
            "unsubscribe": (CommandRouter._unsubscribe, True),
            "feeds": (CommandRouter._feeds, False),
        }

    def is_admin(self, caller: Caller) -> bool:
        admins = set(self.monitor.config.settings.admins)
        return (
            caller.is_platform_admin
            or caller.user_id in admins
            or f"{caller.platform}:{caller.user_id}" in admins
        )

    async def handle(self, text: str, caller: Caller) -> Response:
        parsed = parse(text)
        entry = self._handlers.get(parsed.name)
        if entry is None:
            return Response.error(f"Unknown command `{parsed.name}`.\n\n{HELP}")
        handler, admin_only = entry
        if admin_only and not self.is_admin(caller):
            return refusal(parsed.name)
        try:
            response = await handler(self, parsed.args, caller)
        except UsageError as exc:
            return Response.error(str(exc))
        except (FeedAdminError, SubscriptionError, FeedbackError, ConfigError) as exc:
            return Response.error(str(exc))
        except Exception:
            # Never a traceback in chat: log it for the operator, tell the user plainly.
            log.exception("command %r failed", text)
            return Response.error("Something went wrong on our side; the operator has the log.")
        response.public = response.public or parsed.public
        return response

    async def _help(self, args: list[str], caller: Caller) -> Response:
        return Response(kind=ResponseKind.TEXT, title="TikTok ban monitor", text=HELP)

    async def _status(self, args: list[str], caller: Caller) -> Response:
        if args:
            raise UsageError("`/tiktok status` takes no arguments.")
        return Response(kind=ResponseKind.STATUS, status=self.monitor.status())

    async def _digest(self, args: list[str], caller: Caller) -> Response:
        if len(args) > 1:
            raise UsageError("Usage: `/tiktok digest [24h|7d]`")
        period = timedelta(hours=24)
        if args:
            try:
                period = parse_duration(args[0])
            except ValueError as exc:
                raise UsageError(f"{exc}. Usage: `/tiktok digest [24h|7d]`") from exc
            if period > MAX_PERIOD:
                raise UsageError(
                    "A digest covers at most 31d; use `/tiktok search` for older news."
                )
        return Response(kind=ResponseKind.DIGEST, digest=self.monitor.digest(period))

    async def _search(self, args: list[str], caller: Caller) -> Response:
        query = " ".join(args).strip()
        if not query:
            raise UsageError("Usage: `/tiktok search <words>`, e.g. `/tiktok search project texas`")
        stories = self.monitor.search(query)
        return Response(
            kind=ResponseKind.SEARCH,
            title=f"Search: {query}",
            stories=stories,
            text="" if stories else f"No stories match “{query}”.",
        )

    async def _feedback(self, args: list[str], caller: Caller) -> Response:
        if len(args) != 2:
            raise UsageError("Usage: `/tiktok feedback <item> relevant|irrelevant`")
        return Response.message(self.monitor.feedback.record(args[0], args[1], caller))

    async def _subscribe(self, args: list[str], caller: Caller) -> Response:
        defaults = self.monitor.config.settings.digest
        request = SubscriptionRequest(time=defaults.time, timezone=defaults.timezone)
        for word in args:
            lowered = word.lower()
            if ":" in word and word[0].isdigit():
                request.time = word
            elif "/" in word or word.upper() == "UTC":
                request.timezone = word if word.upper() != "UTC" else "UTC"
            elif lowered in SCHEDULES:
                request.schedule = lowered
            elif lowered in ("quiet", "silent"):
                request.quiet = "skip"
            elif lowered in QUIET_MODES:
                request.quiet = lowered
            elif lowered in CATEGORIES:
                request.categories.append(lowered)
            else:
                raise UsageError(
                    f"I don't understand `{word}`. Usage: `/tiktok subscribe [HH:MM] [timezone] "
                    f"[weekdays|weekly] [quiet] [categories…]`, e.g. "
                    "`/tiktok subscribe 08:30 Europe/Paris courts legislation`"
                )
        info = self.monitor.subscriptions.subscribe(caller, request)
        which = ", ".join(info.categories) if info.categories else "all categories"
        when = {"daily": "every day", "weekdays": "on weekdays", "weekly": "every Monday"}[
            info.schedule
        ]
        quiet = " Quiet days post nothing." if info.quiet == "skip" else ""
        return Response.message(
            f"This channel will get the digest {when} at {info.time} {info.timezone} "
            f"({which}).{quiet}"
        )

    async def _unsubscribe(self, args: list[str], caller: Caller) -> Response:
        if self.monitor.subscriptions.unsubscribe(caller):
            return Response.message("This channel will no longer get the digest.")
        return Response.message("This channel was not subscribed.")

    async def _feeds(self, args: list[str], caller: Caller) -> Response:
        usage = (
            "Usage: `/tiktok feeds list`, `/tiktok feeds add <url> [name]`, "
            "`/tiktok feeds remove <url>`"
        )
        if not args:
            raise UsageError(usage)
        action, rest = args[0].lower(), args[1:]
        if action == "list":
            store = self.monitor.store
            return Response(
                kind=ResponseKind.FEEDS,
                title="Feeds",
                feeds=store.feed_health(limit=25, worst_first=True),
                feed_summary=store.health_summary(),
            )
        if action not in ("add", "remove"):
            raise UsageError(usage)
        if not self.is_admin(caller):
            return refusal(f"feeds {action}")
        if not rest:
            raise UsageError(usage)
        if action == "add":
            name = " ".join(rest[1:]) or None
            return Response.message(await self.monitor.feeds.add(rest[0], name, caller))
        return Response.message(self.monitor.feeds.remove(" ".join(rest), caller))


def refusal(command: str) -> Response:
    return Response.error(
        f"Only admins can use `/tiktok {command}`: workspace or server admins, or the ids "
        "listed under `admins:` in feeds.yaml. Nothing was changed."
    )
