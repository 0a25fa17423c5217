"""The console adapter: plain-text rendering, and `/tiktok …` typed on stdin."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from bot.models import (
    CATEGORY_LABELS,
    Caller,
    Digest,
    FeedHealth,
    HealthSummary,
    Response,
    ResponseKind,
    Status,
    Story,
)
from bot.services.feedback import short_id
from bot.timeutil import humanize_age, utcnow

WIDTH = 100


def _category(story: Story) -> str:
    return CATEGORY_LABELS.get(story.category or "", "Uncategorised")


def _sources_note(story: Story) -> str:
    extra = story.extra_sources
    note = f" · +{extra} source{'s' if extra > 1 else ''}" if extra else ""
    other = [lang for lang in story.languages if lang != "en"]
    if len(story.languages) > 1 or other:
        note += f" · seen in {', '.join(story.languages)}"
    return note


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def render_story(story: Story, now: datetime, index: int | None = None) -> list[str]:
    lead = f"{index}. " if index is not None else "- "
    update = "Update: " if story.is_update else ""
    lines = [f"{lead}{update}{story.title}"]
    pad = " " * len(lead)
    lines.append(
        f"{pad}[{_category(story)}] {humanize_age(story.first_seen, now)}{_sources_note(story)}"
        f" · item {short_id(story.item_id)}"
    )
    if story.summary:
        lines.append(f"{pad}{_one_line(story.summary)}")
    if story.url:
        lines.append(f"{pad}{story.url}")
    return lines


def render_digest(digest: Digest) -> str:
    span = f"{digest.since:%Y-%m-%d %H:%M} → {digest.until:%Y-%m-%d %H:%M} UTC"
    lines = [f"TikTok ban digest · {span}", digest.headline, ""]
    for n, story in enumerate(digest.stories, 1):
        lines.extend(render_story(story, digest.generated_at, n))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_feed_summary(summary: HealthSummary, feeds: list[FeedHealth] | None = None) -> str:
    lines = [
        f"Feeds: {summary.enabled} enabled of {summary.total} · {summary.healthy} healthy · "
        f"{summary.failing} failing · {summary.never_polled} not polled yet"
    ]
    shown = feeds if feeds is not None else summary.worst
    for feed in shown:
        lines.append(f"  {_feed_line(feed)}")
    if feeds is not None and summary.total > len(feeds):
        lines.append(f"  … and {summary.total - len(feeds)} more (the worst are listed first)")
    return "\n".join(lines)


def _feed_line(feed: FeedHealth) -> str:
    if not feed.enabled:
        state = "disabled"
    elif feed.consecutive_failures:
        state = f"FAILING ×{feed.consecutive_failures}: {feed.last_error}"
    elif feed.last_success is None:
        state = "not polled yet"
    else:
        state = f"ok, last success {humanize_age(feed.last_success, utcnow())}"
    return f"{feed.name} · {feed.items} items · {state} · {feed.url}"


def render_status(status: Status) -> str:
    now = status.generated_at
    lines = ["TikTok ban story · status", ""]
    lines.append("Latest development per category:")
    for category, story in status.latest_by_category.items():
        label = CATEGORY_LABELS[category]
        if story is None:
            lines.append(f"  {label:<14} —")
        else:
            lines.append(f"  {label:<14} {story.first_seen:%Y-%m-%d} {_one_line(story.title, 80)}")
    lines.append("")
    lines.append(
        f"Activity: {status.last_7d} stories in the last 7 days vs {status.prev_30d} in the "
        f"30 days before ({status.trend})."
    )
    last_poll = humanize_age(status.last_poll, now) if status.last_poll else "never"
    lines.append(
        f"Last poll: {last_poll} · {status.items_total} items stored, "
        f"{status.relevant_total} stories"
    )
    lines.append(render_feed_summary(status.feeds))
    if status.subscriptions:
        lines.append("Subscriptions:")
        for sub in status.subscriptions:
            cats = ", ".join(sub.categories) or "all"
            error = f" · LAST POST FAILED: {sub.last_error}" if sub.last_error else ""
            lines.append(
                f"  {sub.platform} {sub.channel} · {sub.schedule} {sub.time} {sub.timezone} "
                f"· {cats}{error}"
            )
    return "\n".join(lines) + "\n"


def render_response(response: Response) -> str:
    if response.kind is ResponseKind.DIGEST and response.digest is not None:
        return render_digest(response.digest)
    if response.kind is ResponseKind.STATUS and response.status is not None:
        return render_status(response.status)
    if response.kind is ResponseKind.SEARCH:
        now = utcnow()
        lines = [response.title, ""] if response.title else []
        for n, story in enumerate(response.stories, 1):
            lines.extend(render_story(story, now, n))
        if response.text:
            lines.append(response.text)
        return "\n".join(lines).rstrip() + "\n"
    if response.kind is ResponseKind.FEEDS and response.feed_summary is not None:
        return render_feed_summary(response.feed_summary, response.feeds) + "\n"
    prefix = "Error: " if response.kind is ResponseKind.ERROR else ""
    title = f"{response.title}\n" if response.title else ""
    return f"{title}{prefix}{response.text}\n"


class ConsoleAdapter:
    """Reads `/tiktok …` lines from stdin and prints the answers; posts digests to stdout."""

    platform = "console"

    def __init__(
        self,
        handle: Callable[[str, Caller], object],
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self._handle = handle
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        # The person at the terminal runs the bot, so they are its admin.
        self.caller = Caller(
            platform="console",
            user_id="console",
            channel_id="console",
            is_platform_admin=True,
            display_name="operator",
        )

    def write(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()

    async def start(self) -> None:
        await self.serve()

    async def stop(self) -> None:
        """Nothing to close: the terminal stays the terminal."""

    async def post_digest(self, channel: str, digest: Digest, run_key: str) -> None:
        self.write(render_digest(digest))

    async def already_posted(self, channel: str, run_key: str, since: datetime) -> bool:
        # A terminal keeps no history to look in: after a crash the digest prints again.
        return False

    async def serve(self) -> None:
        self.write("Type /tiktok help for commands; Ctrl-D to leave the prompt.\n")
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self._stdin.readline)
            if not line:
                return
            line = line.strip()
            if not line:
                continue
            response = await self._handle(line, self.caller)  # type: ignore[misc]
            self.write(render_response(response))
