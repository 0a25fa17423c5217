"""Discord rendering: core Responses become messages of embeds (and feedback buttons)
within Discord's limits.

Everything that came from a feed (titles, summaries, feed names, errors) is escaped so it
renders as text and pings nobody; our own text (help, usage) keeps its markdown. Long answers
are split across messages numbered "(1/3)"; nothing is cut silently (a shortened headline
or summary ends with "…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import discord

from bot.models import (
    CATEGORY_LABELS,
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

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000  # across all embeds of one message
EMBEDS_PER_MESSAGE = 10
# Two feedback buttons per story, two stories per action row, five rows: ten stories, which
# is also the embed limit, so every story of a message gets its buttons.
STORIES_PER_MESSAGE = 10
# Room kept in each message for the footer that carries the run key and "(i/n)".
FOOTER_RESERVE = 120
SUMMARY_MAX = 300

COLOURS: dict[str, int] = {
    "legislation": 0x3B82F6,
    "courts": 0x8B5CF6,
    "executive": 0xEF4444,
    "divestiture": 0xF59E0B,
    "device-bans": 0x10B981,
    "data-security": 0x06B6D4,
    "international": 0x6366F1,
    "lobbying": 0x84CC16,
}
NEUTRAL = 0x64748B
ERROR = 0xDC2626
FOOTER_RE = re.compile(r"^(?P<key>\S+) · (?P<part>\d+)/(?P<parts>\d+)$")
# `<@123>`, `<@!123>`, `<@&456>`, `<#789>`: escape_mentions only catches 17-20 digit ids.
_MENTION_RE = re.compile(r"<(?=[@#])")


# ----------------------------------------------------------------------------- text safety
def units(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """`text` shortened to `limit` UTF-16 units, visibly (ending with "…")."""
    if units(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    while units(cut) > limit - 1:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def neutralise(text: str) -> str:
    """Our own text, which may quote user or feed words: keep markdown, disarm mentions."""
    return _MENTION_RE.sub("<\u200b", discord.utils.escape_mentions(text))


def escape(text: str) -> str:
    """Feed text: rendered literally, pinging nobody."""
    return neutralise(discord.utils.escape_markdown(text))


def one_line(text: str, limit: int = SUMMARY_MAX) -> str:
    return fit(" ".join(text.split()), limit)


def safe_url(url: str) -> str | None:
    """Discord rejects a whole message over one bad embed URL: only clean http(s) ones pass."""
    url = (url or "").strip()
    if not re.match(r"^https?://[^\s<>]+$", url, re.IGNORECASE) or len(url) > 2000:
        return None
    return url


def link(text: str, url: str) -> str:
    """A markdown link around already-escaped text, or the text alone for a doubtful URL."""
    clean = safe_url(url)
    if clean is None:
        return text
    label = text.replace("]", r"\]")
    return f"[{label}]({quote(clean, safe=':/?#[]@!$&*+,;=%~')})"


def embed_units(embed: discord.Embed) -> int:
    """The characters Discord counts towards the 6,000 per message."""
    total = units(embed.title or "") + units(embed.description or "")
    total += units(embed.footer.text or "") + units(embed.author.name or "")
    for f in embed.fields:
        total += units(f.name or "") + units(f.value or "")
    return total


def lines_value(lines: list[str], limit: int) -> str:
    """Join lines up to `limit`, saying how many did not fit rather than dropping them."""
    shown: list[str] = []
    for n, line in enumerate(lines):
        line = fit(line, limit - 30)
        remaining = len(lines) - n  # this line included
        candidate = "\n".join([*shown, line])
        tail = units(f"\n… and {remaining - 1} more") if remaining > 1 else 0
        if units(candidate) + tail > limit:
            return "\n".join([*shown, f"… and {remaining} more"])
        shown.append(line)
    return "\n".join(shown) or "—"


# ----------------------------------------------------------------------------- messages
@dataclass(frozen=True, slots=True)
class FeedbackTarget:
    number: int  # the story's number in the answer, shown on its buttons
    item_id: str


@dataclass(slots=True)
class Outgoing:
    """One Discord message to send."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    feedback: list[FeedbackTarget] = field(default_factory=list)


def footer_text(run_key: str, part: int, parts: int) -> str:
    return f"{run_key} · {part}/{parts}"


def parse_footer(text: str | None) -> tuple[str, int, int] | None:
    match = FOOTER_RE.match(text or "")
    if match is None:
        return None
    return match["key"], int(match["part"]), int(match["parts"])


# ----------------------------------------------------------------------------- buttons
FEEDBACK_TEMPLATE = r"tiktok:fb:(?P<verdict>relevant|irrelevant):(?P<item>[0-9a-f]{6,64})"
LABELS = {"relevant": "Relevant", "irrelevant": "Not relevant"}
CHOSEN = "✓ "


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=FEEDBACK_TEMPLATE
):
    """A feedback button under a digest story. The item id lives in the custom_id, so a
    click is understood after a restart without remembering any view."""

    def __init__(
        self,
        item_id: str,
        verdict: str,
        number: int,
        chosen: bool = False,
        row: int | None = None,
    ) -> None:
        style = discord.ButtonStyle.secondary
        if chosen:
            style = (
                discord.ButtonStyle.success if verdict == "relevant" else discord.ButtonStyle.danger
            )
        label = f"{CHOSEN if chosen else ''}{LABELS[verdict]} #{number}"
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"tiktok:fb:{verdict}:{item_id}"),
            row=row,
        )
        self.item_id = item_id
        self.verdict = verdict

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> FeedbackButton:
        label = getattr(item, "label", "") or ""
        return cls(match["item"], match["verdict"], _number(label), row=item.row)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.client.adapter.on_feedback(interaction, self.item_id, self.verdict)


def _number(label: str) -> int:
    match = re.search(r"#(\d+)$", label)
    return int(match.group(1)) if match else 0


class FeedbackView(discord.ui.View):
    """Feedback buttons. Clicks are routed by FeedbackButton's registered template, never by
    this object; saying it is not dispatchable keeps discord.py from storing it, because a
    stored view that stops (ephemeral ones time out after 15 minutes) unregisters the
    template for every message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


def feedback_view(targets: list[FeedbackTarget]) -> FeedbackView | None:
    if not targets:
        return None
    view = FeedbackView()
    for n, target in enumerate(targets):
        for verdict in ("relevant", "irrelevant"):
            view.add_item(FeedbackButton(target.item_id, verdict, target.number, row=n // 2))
    return view


def marked_view(message: discord.Message | None, item_id: str, verdict: str) -> FeedbackView:
    """The message's buttons again, with the choice just made shown on its story's pair."""
    view = FeedbackView()
    for row, component in enumerate(message.components if message else []):
        for child in getattr(component, "children", []):
            match = re.fullmatch(FEEDBACK_TEMPLATE, getattr(child, "custom_id", None) or "")
            if match is None:
                continue
            label = child.label or ""
            if match["item"] == item_id:
                chosen = match["verdict"] == verdict  # the new choice replaces the old one
            else:
                chosen = label.startswith(CHOSEN)  # other stories keep theirs
            view.add_item(
                FeedbackButton(
                    match["item"], match["verdict"], _number(label), chosen=chosen, row=row
                )
            )
    return view


# ----------------------------------------------------------------------------- stories
def _story_meta(story: Story, now: datetime) -> str:
    parts = [CATEGORY_LABELS.get(story.category or "", "Uncategorised")]
    if story.is_update:
        parts.insert(0, "Update")
    if story.extra_sources:
        noun = "source" if story.extra_sources == 1 else "sources"
        parts.append(f"+{story.extra_sources} {noun}")
    if len(story.languages) > 1 or any(lang != "en" for lang in story.languages):
        parts.append(f"seen in {', '.join(escape(lang) for lang in story.languages)}")
    parts.append(humanize_age(story.first_seen, now))
    parts.append(f"item `{short_id(story.item_id)}`")
    return " · ".join(parts)


def story_embed(story: Story, number: int, now: datetime) -> discord.Embed:
    title = fit(f"{number}. {escape(' '.join(story.title.split()) or '(untitled)')}", TITLE_MAX)
    description = _story_meta(story, now)
    if story.summary.strip():
        description += "\n" + escape(one_line(story.summary))
    return discord.Embed(
        title=title,
        url=safe_url(story.url),
        description=fit(description, DESCRIPTION_MAX),
        colour=COLOURS.get(story.category or "", NEUTRAL),
    )


def feedback_target(story: Story, number: int) -> FeedbackTarget | None:
    # Buttons carry the item id in their custom_id: only ids that fit the template get them.
    if re.fullmatch(r"[0-9a-f]{6,64}", story.item_id or ""):
        return FeedbackTarget(number, story.item_id)
    return None


def pack_stories(stories: list[Story], now: datetime) -> list[Outgoing]:
    """Story embeds grouped into messages within the per-message limits."""
    messages: list[Outgoing] = []
    current = Outgoing()
    used = FOOTER_RESERVE
    for number, story in enumerate(stories, 1):
        embed = story_embed(story, number, now)
        size = embed_units(embed)
        if current.embeds and (
            len(current.embeds) >= STORIES_PER_MESSAGE or used + size > EMBED_TOTAL_MAX
        ):
            messages.append(current)
            current, used = Outgoing(), FOOTER_RESERVE
        current.embeds.append(embed)
        used += size
        target = feedback_target(story, number)
        if target is not None:
            current.feedback.append(target)
    if current.embeds:
        messages.append(current)
    return messages


def _numbered(lead: str, part: int, parts: int) -> str:
    return f"{lead} ({part}/{parts})" if parts > 1 else lead


def render_digest(digest: Digest, run_key: str | None = None) -> list[Outgoing]:
    """The digest as messages: headline first, every story, each message marked (i/n)."""
    messages = pack_stories(digest.stories, digest.generated_at)
    if not messages:
        messages = [Outgoing(embeds=[discord.Embed(description=digest.headline, colour=NEUTRAL)])]
    span = f"{digest.since:%Y-%m-%d %H:%M} → {digest.until:%Y-%m-%d %H:%M} UTC"
    parts = len(messages)
    for part, message in enumerate(messages, 1):
        lead = _numbered("**TikTok ban digest**", part, parts)
        message.content = f"{lead} · {span}\n{digest.headline}" if part == 1 else lead
        if run_key is not None:
            # The run key lets already_posted() find this message after a crash.
            message.embeds[-1].set_footer(text=footer_text(run_key, part, parts))
    return messages


def render_search(response: Response) -> list[Outgoing]:
    title = escape(response.title) if response.title else "Search"
    messages = pack_stories(response.stories, utcnow())
    if not messages:
        return render_text(Response.message(response.text or "No stories match.", title))
    parts = len(messages)
    for part, message in enumerate(messages, 1):
        message.content = fit(_numbered(f"**{title}**", part, parts), CONTENT_MAX)
    return messages


# ----------------------------------------------------------------------------- status, feeds
def _latest_lines(status: Status) -> list[str]:
    lines = []
    for category, story in status.latest_by_category.items():
        label = f"**{CATEGORY_LABELS.get(category, category)}**"
        if story is None:
            lines.append(f"{label} · —")
            continue
        title = link(escape(one_line(story.title, 90)), story.url)
        lines.append(f"{label} · {story.first_seen:%Y-%m-%d} · {title}")
    return lines


def _feed_line(feed: FeedHealth) -> str:
    if not feed.enabled:
        state = "disabled"
    elif feed.consecutive_failures:
        error = escape(one_line(feed.last_error or "", 120))
        state = f"**failing ×{feed.consecutive_failures}**: {error}"
    elif feed.last_success is None:
        state = "not polled yet"
    else:
        state = f"ok, last success {humanize_age(feed.last_success, utcnow())}"
    name = link(escape(one_line(feed.name, 60)), feed.url)
    return f"{name} · {feed.items} items · {state}"


def _summary_line(summary: HealthSummary) -> str:
    return (
        f"{summary.enabled} enabled of {summary.total} · {summary.healthy} healthy · "
        f"{summary.failing} failing · {summary.never_polled} not polled yet"
    )


def render_status(status: Status) -> list[Outgoing]:
    now = status.generated_at
    embed = discord.Embed(
        title="TikTok ban story · status",
        description=fit(
            "**Latest development per category**\n" + "\n".join(_latest_lines(status)),
            DESCRIPTION_MAX,
        ),
        colour=NEUTRAL,
    )
    embed.add_field(
        name="Activity",
        value=f"{status.last_7d} stories in the last 7 days vs {status.prev_30d} in the 30 days "
        f"before ({status.trend})",
        inline=False,
    )
    last_poll = humanize_age(status.last_poll, now) if status.last_poll else "never"
    embed.add_field(
        name="Last poll",
        value=f"{last_poll} · {status.items_total} items stored, {status.relevant_total} stories",
        inline=False,
    )
    feed_lines = [_summary_line(status.feeds)]
    feed_lines += [_feed_line(f) for f in status.feeds.worst]
    embed.add_field(name="Feeds", value=lines_value(feed_lines, FIELD_VALUE_MAX), inline=False)
    if status.subscriptions:
        sub_lines = []
        for sub in status.subscriptions:
            cats = ", ".join(sub.categories) or "all"
            failed = f" · **last post failed:** {escape(sub.last_error)}" if sub.last_error else ""
            sub_lines.append(
                f"{sub.platform} {escape(sub.channel)} · {sub.schedule} {sub.time} "
                f"{sub.timezone} · {cats}{failed}"
            )
        embed.add_field(
            name="Subscriptions", value=lines_value(sub_lines, FIELD_VALUE_MAX), inline=False
        )
    return [Outgoing(embeds=[embed])]


def render_feeds(response: Response) -> list[Outgoing]:
    assert response.feed_summary is not None
    summary = response.feed_summary
    lines = [_summary_line(summary), ""] + [_feed_line(f) for f in response.feeds]
    if summary.total > len(response.feeds):
        lines.append(f"… and {summary.total - len(response.feeds)} more (the worst come first)")
    return pack_lines(response.title or "Feeds", lines, NEUTRAL)


# ----------------------------------------------------------------------------- plain text
def _split_long(line: str, limit: int) -> list[str]:
    """A line longer than `limit` split into pieces that fit (continued, never dropped)."""
    pieces = []
    while units(line) > limit:
        cut = line[:limit]
        while units(cut) > limit:
            cut = cut[:-1]
        pieces.append(cut)
        line = line[len(cut) :]
    return [*pieces, line]


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines grouped into blocks of at most `limit` units."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        for piece in _split_long(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if current and units(candidate) > limit:
                blocks.append(current)
                candidate = piece
            current = candidate
    if current.strip():
        blocks.append(current)
    return blocks or ["—"]


def pack_lines(title: str, lines: list[str], colour: int) -> list[Outgoing]:
    """Text as embeds (one description each), several messages if it is that long."""
    blocks = _chunks(lines, DESCRIPTION_MAX)
    messages: list[Outgoing] = []
    current, used = Outgoing(), 0
    for block in blocks:
        embed = discord.Embed(description=block, colour=colour)
        size = units(block) + units(title)
        if current.embeds and (
            len(current.embeds) >= EMBEDS_PER_MESSAGE or used + size > EMBED_TOTAL_MAX
        ):
            messages.append(current)
            current, used = Outgoing(), 0
        current.embeds.append(embed)
        used += size
    messages.append(current)
    parts = len(messages)
    for part, message in enumerate(messages, 1):
        if title:
            message.embeds[0].title = fit(_numbered(title, part, parts), TITLE_MAX)
    return messages


def render_text(response: Response) -> list[Outgoing]:
    colour = ERROR if response.kind is ResponseKind.ERROR else NEUTRAL
    return pack_lines(neutralise(response.title), neutralise(response.text).split("\n"), colour)


def render_response(response: Response) -> list[Outgoing]:
    if response.kind is ResponseKind.DIGEST and response.digest is not None:
        return render_digest(response.digest)
    if response.kind is ResponseKind.STATUS and response.status is not None:
        return render_status(response.status)
    if response.kind is ResponseKind.SEARCH:
        return render_search(response)
    if response.kind is ResponseKind.FEEDS and response.feed_summary is not None:
        return render_feeds(response)
    return render_text(response)
