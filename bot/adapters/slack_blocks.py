"""Block Kit rendering for Slack: every core Response becomes one or more valid messages.

Two rules run through this module:

* Feed text is hostile until escaped. Titles, summaries and feed names go through `escape()`
  (& < > only, which is exactly what Slack's mrkdwn decodes), so `<!channel>` in a headline
  shows as text and pings nobody; mrkdwn text objects are also `verbatim`, so a bare
  `@here` or `#general` is not auto-parsed either.
* Slack's limits (50 blocks a message, 3,000 characters a section, 150 a header) are met by
  splitting into numbered messages, never by cutting silently. Only a story's summary line is
  shortened, and always with a visible "…".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

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

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT = 2000
# Slack documents no total size for a message, but very large payloads are refused; staying
# well under it costs only an extra message now and then.
MAX_MESSAGE_CHARS = 12_000
SUMMARY_CHARS = 280
FALLBACK_CHARS = 3000
ELLIPSIS = "…"

ACTION_RELEVANT = "tiktok_feedback_relevant"
ACTION_IRRELEVANT = "tiktok_feedback_irrelevant"
ACTION_PATTERN = re.compile(r"^tiktok_feedback_(relevant|irrelevant)$")
FEEDBACK_BLOCK_PREFIX = "fb:"


@dataclass(slots=True)
class SlackMessage:
    """One message ready for chat.postMessage or a response_url: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]
    story_ids: list[int] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """Which stories this part carries; stable while a digest run is retried."""
        joined = ",".join(str(i) for i in self.story_ids)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


# ------------------------------------------------------------------ escaping and text
def escape(text: str | None) -> str:
    """Escape the three characters Slack's mrkdwn gives meaning to (& first, on purpose)."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def shorten(raw: str, limit: int) -> str:
    """Escaped `raw`, cut on a word boundary with a visible "…" if it exceeds `limit`.

    The cut happens on the raw text, so an entity such as &amp; is never split.
    """
    escaped = escape(raw)
    if len(escaped) <= limit:
        return escaped
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    lo, hi = 0, len(raw)
    while lo < hi:  # longest raw prefix whose escaped form fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if len(escape(raw[:mid])) + len(ELLIPSIS) <= limit:
            lo = mid
        else:
            hi = mid - 1
    prefix = raw[:lo]
    if " " in prefix.strip():
        prefix = prefix.rstrip().rsplit(" ", 1)[0]
    return escape(prefix.rstrip()) + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>`: nothing in it can close the link or start a label."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    for char, code in ((" ", "%20"), ("|", "%7C"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    url = "".join(c for c in url if c.isprintable() and not c.isspace())
    return url.replace("&", "&amp;")


def link(url: str | None, label_raw: str, label_limit: int = MAX_SECTION) -> str:
    label = shorten(label_raw, label_limit) if label_raw.strip() else "(untitled)"
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not auto-link `#channel` or parse a bare `@here` in feed text.
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text), block_id=block_id)


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)], block_id=block_id)


def header(text: str) -> HeaderBlock:
    if len(text) > MAX_HEADER:
        text = text[: MAX_HEADER - 1].rstrip() + ELLIPSIS
    return HeaderBlock(text=text)


def fit_lines(lines: Sequence[str], limit: int = MAX_SECTION) -> list[str]:
    """Group whole lines into texts of at most `limit` characters (a line is never split,
    except a single line longer than the limit, which is shortened with "…")."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            line = line[: limit - 1] + ELLIPSIS  # only our own (already escaped) lines
            line = re.sub(r"&[a-z]{0,3}…$", ELLIPSIS, line)  # never leave half an entity
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


# ------------------------------------------------------------------ stories
def _category(story: Story) -> str:
    return CATEGORY_LABELS.get(story.category or "", "Uncategorised")


def _meta_line(story: Story, now: datetime) -> str:
    parts = [f"_{_category(story)}_", humanize_age(story.first_seen, now)]
    if story.extra_sources:
        noun = "source" if story.extra_sources == 1 else "sources"
        parts.append(f"+{story.extra_sources} {noun}")
    if len(story.languages) > 1 or any(lang != "en" for lang in story.languages):
        parts.append("seen in " + escape(", ".join(story.languages)))
    lead = "🔄 *Update* · " if story.is_update else ""
    return lead + " · ".join(parts)


def _title_line(story: Story, budget: int) -> str:
    line = f"*{link(story.url, one_line(story.title))}*"
    if len(line) <= budget:
        return line
    # Pathological length: keep the link whole and shorten only its label.
    target = safe_url(story.url)
    if target and len(target) < budget // 2:
        return f"*{link(story.url, one_line(story.title), budget - len(target) - 6)}*"
    return f"*{shorten(one_line(story.title), budget - 30)}* (link too long to show)"


def story_section_text(story: Story, now: datetime) -> str:
    meta = _meta_line(story, now)
    title = _title_line(story, MAX_SECTION - len(meta) - 1)
    text = f"{title}\n{meta}"
    room = MAX_SECTION - len(text) - 1
    summary = one_line(story.summary)
    if summary and room > 20:
        text += "\n" + shorten(summary, min(SUMMARY_CHARS, room))
    return text


def _outlets(story: Story, limit: int = 3) -> list[str]:
    names = [s.outlet or s.feed_name for s in story.sources if s.outlet or s.feed_name]
    return list(dict.fromkeys(names))[:limit]


def story_blocks(story: Story, now: datetime, feedback: bool = True) -> list[Block]:
    item = story.item_id
    blocks: list[Block] = [section(story_section_text(story, now), block_id=f"story:{item}")]
    note = f"Item `{short_id(item)}`"
    outlets = _outlets(story)
    if outlets:
        note += " · via " + shorten(", ".join(outlets), 300)
    blocks.append(context(note, block_id=f"code:{item}"))
    if feedback:
        blocks.append(
            ActionsBlock(
                block_id=f"{FEEDBACK_BLOCK_PREFIX}{item}",
                elements=[
                    ButtonElement(text="Relevant", action_id=ACTION_RELEVANT, value=item),
                    ButtonElement(text="Not relevant", action_id=ACTION_IRRELEVANT, value=item),
                ],
            )
        )
    return blocks


def _text_len(obj: object) -> int:
    text = getattr(obj, "text", None)
    if isinstance(text, str):
        return len(text)
    return _text_len(text) if text is not None else 0


def _chars(blocks: Iterable[Block]) -> int:
    """Characters of visible text in the blocks (sections, context, button labels)."""
    total = 0
    for block in blocks:
        total += _text_len(block)
        total += sum(_text_len(e) for e in getattr(block, "elements", None) or [])
    return total


def paginate(
    groups: Sequence[tuple[int, list[Block]]], reserved_first: int, reserved_rest: int
) -> list[list[tuple[int, list[Block]]]]:
    """Pack story block groups into pages that fit one message each, in order."""
    pages: list[list[tuple[int, list[Block]]]] = [[]]
    blocks, chars = reserved_first, 0
    for group in groups:
        size, weight = len(group[1]), _chars(group[1])
        if pages[-1] and (blocks + size > MAX_BLOCKS or chars + weight > MAX_MESSAGE_CHARS):
            pages.append([])
            blocks, chars = reserved_rest, 0
        pages[-1].append(group)
        blocks, chars = blocks + size, chars + weight
    return pages


def _numbered(title: str, index: int, total: int) -> str:
    return f"{title} ({index}/{total})" if total > 1 else title


def _fallback(text: str) -> str:
    return text if len(text) <= FALLBACK_CHARS else text[: FALLBACK_CHARS - 1] + ELLIPSIS


def story_messages(
    title: str,
    lead: list[Block],
    stories: Sequence[Story],
    now: datetime,
    lead_text: str,
    max_messages: int | None = None,
    more_hint: str = "",
) -> list[SlackMessage]:
    """Header + lead blocks, then the stories, split across as many messages as needed.

    With `max_messages` (a response_url takes five answers at most) the stories that do not
    fit are counted in a closing note instead, so nothing disappears without a word.
    """
    groups = [(s.id, story_blocks(s, now)) for s in stories]
    pages = paginate(groups, reserved_first=1 + len(lead), reserved_rest=1)
    omitted = 0
    if max_messages is not None and len(pages) > max_messages:
        pages = pages[:max_messages]
        reserved = 1 + (len(lead) if len(pages) == 1 else 0)
        while pages[-1] and reserved + sum(len(g[1]) for g in pages[-1]) + 1 > MAX_BLOCKS:
            pages[-1].pop()
        omitted = len(stories) - sum(len(page) for page in pages)
    messages = []
    total = len(pages)
    position = 0
    for index, page in enumerate(pages, 1):
        numbered = _numbered(title, index, total)
        blocks: list[Block] = [header(numbered)]
        if index == 1:
            blocks.extend(lead)
        for _sid, group in page:
            blocks.extend(group)
        if omitted and index == total:
            blocks.append(context(f"…and {omitted} more not shown here. {more_hint}".strip()))
        if index == 1:
            text = f"{numbered}: {lead_text}"
        else:
            text = f"{numbered}: stories {position + 1}–{position + len(page)}"
        position += len(page)
        messages.append(
            SlackMessage(
                text=_fallback(text),
                blocks=[b.to_dict() for b in blocks],
                story_ids=[sid for sid, _ in page],
            )
        )
    return messages


# ------------------------------------------------------------------ responses
def digest_title(digest: Digest) -> str:
    return f"TikTok ban digest · {digest.since:%b %d %H:%M} → {digest.until:%b %d %H:%M} UTC"


def digest_messages(digest: Digest, max_messages: int | None = None) -> list[SlackMessage]:
    headline = escape(digest.headline)
    lead: list[Block] = [section(f"*{headline}*")]
    if digest.stories:
        lead.append(DividerBlock())
    return story_messages(
        digest_title(digest),
        lead,
        digest.stories,
        digest.generated_at,
        headline,
        max_messages,
        more_hint="Ask for a shorter period, or subscribe the channel to get every story.",
    )


def _latest_line(category: str, story: Story | None) -> str:
    label = CATEGORY_LABELS.get(category, category)
    if story is None:
        return f"• *{label}* — nothing yet"
    return f"• *{label}* — {story.first_seen:%b %d}: {link(story.url, one_line(story.title), 200)}"


def _feed_line(feed: FeedHealth) -> str:
    if not feed.enabled:
        state = "disabled"
    elif feed.consecutive_failures:
        error = shorten(one_line(feed.last_error), 200)
        state = f":warning: failing ×{feed.consecutive_failures}: {error}"
    elif feed.last_success is None:
        state = "not polled yet"
    else:
        state = f"ok, last success {humanize_age(feed.last_success, utcnow())}"
    name = shorten(one_line(feed.name), 120)
    return f"• {link(feed.url, name)} · {feed.items} items · {state}"


def _feed_summary_line(summary: HealthSummary) -> str:
    return (
        f"*Feeds:* {summary.enabled} enabled of {summary.total} · {summary.healthy} healthy · "
        f"{summary.failing} failing · {summary.never_polled} not polled yet"
    )


def status_blocks(status: Status) -> list[Block]:
    now = status.generated_at
    latest = [_latest_line(c, s) for c, s in status.latest_by_category.items()]
    last_poll = humanize_age(status.last_poll, now) if status.last_poll else "never"
    activity = (
        f"*Activity:* {status.last_7d} stories in the last 7 days vs {status.prev_30d} in the "
        f"30 days before (trend: {status.trend})\n*Last poll:* {last_poll} · "
        f"{status.items_total} items stored, {status.relevant_total} stories"
    )
    feeds = [_feed_summary_line(status.feeds)] + [_feed_line(f) for f in status.feeds.worst]
    lines = ["*Latest development per category*", *latest]
    blocks: list[Block] = [header("TikTok ban story · status")]
    blocks += [section(t) for t in fit_lines(lines)]
    blocks.append(section(activity))
    blocks += [section(t) for t in fit_lines(feeds)]
    if status.subscriptions:
        subs = ["*Subscriptions*"]
        for sub in status.subscriptions:
            cats = ", ".join(sub.categories) or "all categories"
            error = ""
            if sub.last_error:
                error = f" · :warning: *last post failed:* {shorten(one_line(sub.last_error), 300)}"
            subs.append(
                f"• {escape(sub.platform)} `{escape(sub.channel)}` · {sub.schedule} {sub.time} "
                f"{escape(sub.timezone)} · {escape(cats)}{error}"
            )
        blocks += [section(t) for t in fit_lines(subs)]
    return blocks


def feeds_blocks(response: Response) -> list[Block]:
    summary = response.feed_summary
    assert summary is not None
    lines = [_feed_summary_line(summary)] + [_feed_line(f) for f in response.feeds]
    if summary.total > len(response.feeds):
        lines.append(
            f"…and {summary.total - len(response.feeds)} more (the worst are listed first)"
        )
    blocks: list[Block] = [header(response.title or "Feeds")]
    return blocks + [section(t) for t in fit_lines(lines)]


def text_blocks(response: Response) -> list[Block]:
    body = escape(response.text)
    if response.kind is ResponseKind.ERROR:
        body = f":warning: {body}"
    blocks: list[Block] = [header(response.title)] if response.title else []
    chunks = fit_lines(body.splitlines()) or ["(no text)"]
    return blocks + [section(t) for t in chunks]


def _single(blocks: list[Block], text: str) -> list[SlackMessage]:
    # A text answer is at most a few sections, but stay valid whatever its length.
    dicts = [b.to_dict() for b in blocks]
    chunks = [dicts[i : i + MAX_BLOCKS] for i in range(0, len(dicts), MAX_BLOCKS)] or [[]]
    return [SlackMessage(text=_fallback(text), blocks=chunk) for chunk in chunks]


def response_messages(response: Response, max_messages: int | None = None) -> list[SlackMessage]:
    """Every kind of core Response as Slack messages (usually one)."""
    if response.kind is ResponseKind.DIGEST and response.digest is not None:
        return digest_messages(response.digest, max_messages)
    if response.kind is ResponseKind.STATUS and response.status is not None:
        return _single(status_blocks(response.status), "TikTok ban story · status")
    if response.kind is ResponseKind.SEARCH and response.stories:
        title = response.title or "Search"
        count = len(response.stories)
        lead_text = f"{count} {'story' if count == 1 else 'stories'}"
        return story_messages(title, [], response.stories, utcnow(), escape(lead_text))
    if response.kind is ResponseKind.FEEDS and response.feed_summary is not None:
        return _single(feeds_blocks(response), _feed_summary_line(response.feed_summary))
    prefix = "Error: " if response.kind is ResponseKind.ERROR else ""
    return _single(text_blocks(response), prefix + escape(one_line(response.text)))


# ------------------------------------------------------------------ feedback clicks
def mark_feedback(
    blocks: list[dict[str, Any]], item_id: str, verdict: str, user_id: str
) -> list[dict[str, Any]] | None:
    """The message's blocks with that story's buttons replaced by who chose what;
    None when the message has no buttons for this item (already answered, or not ours)."""
    block_id = f"{FEEDBACK_BLOCK_PREFIX}{item_id}"
    label = "relevant" if verdict == "relevant" else "not relevant"
    user = re.sub(r"[^A-Za-z0-9]", "", user_id)
    changed = False
    result = []
    for block in blocks:
        if block.get("block_id") == block_id and block.get("type") == "actions":
            note = context(f"✓ marked {label} by <@{user}>", block_id=block_id)
            result.append(note.to_dict())
            changed = True
        else:
            result.append(block)
    return result if changed else None
