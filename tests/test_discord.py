"""The Discord adapter, run for real (discord.py's client, REST and gateway) against a local
mock of Discord on 127.0.0.1: what users see, who may change things, what digests look like."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot.adapters.base import PostError
from bot.adapters.discord import DiscordAdapter, command_text, from_env
from bot.adapters.discord_embeds import (
    EMBED_TOTAL_MAX,
    embed_units,
    escape,
    feedback_view,
    pack_lines,
    render_digest,
    render_status,
)
from bot.commands import CommandRouter, parse
from bot.models import CATEGORIES, Caller, Digest, Story, StorySource
from bot.services.delivery import DigestDelivery
from bot.services.monitor import Monitor
from bot.services.subscriptions import SubscriptionRequest
from bot.timeutil import to_iso, utcnow
from tests.conftest import seed_stories
from tests.mocks.discord_api import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    TOKEN,
    DiscordMock,
    InteractionLog,
    Recorded,
    check_message,
)

HOSTILE = "@everyone TikTok **ban** <@123> <@&456>"
ADMIN_ID = "111"  # listed as "discord:111" under admins: in the test config


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _restore_discord_globals() -> Iterator[None]:
    # The adapter points discord.py's class-level REST base and gateway at the mock.
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
async def mock() -> AsyncIterator[DiscordMock]:
    server = DiscordMock()
    await server.start()
    yield server
    await server.stop()
    # Whatever the test did, nothing sent could ping anyone or break Discord's limits.
    for req in message_requests(server):
        assert req.message_body.get("allowed_mentions") == {"parse": []}, req.path
    assert server.violations == []


def make_adapter(mock: DiscordMock, monitor: Monitor, guild: bool = True) -> DiscordAdapter:
    env = {"DISCORD_BOT_TOKEN": TOKEN, "DISCORD_API_URL": mock.api_url}
    if guild:
        env["DISCORD_GUILD_ID"] = str(GUILD_ID)
    adapter = from_env(env, CommandRouter(monitor))
    assert adapter is not None
    return adapter


@dataclass
class Bot:
    mock: DiscordMock
    adapter: DiscordAdapter
    monitor: Monitor


@pytest.fixture
async def bot(mock: DiscordMock, monitor: Monitor) -> AsyncIterator[Bot]:
    adapter = make_adapter(mock, monitor)
    task = asyncio.create_task(adapter.start())
    await asyncio.wait_for(mock.identified.wait(), 5)
    yield Bot(mock, adapter, monitor)
    await adapter.stop()
    await asyncio.wait_for(task, 5)


@pytest.fixture
async def poster(mock: DiscordMock, monitor: Monitor) -> AsyncIterator[DiscordAdapter]:
    """Post-only mode, as `tiktok-monitor digest --post` uses it: never started."""
    adapter = make_adapter(mock, monitor)
    yield adapter
    await adapter.stop()


# ----------------------------------------------------------------------------- helpers
async def command(
    bot: Bot, name: str, options: dict[str, Any] | None = None, **kw: Any
) -> InteractionLog:
    """Send `/tiktok name …` through the gateway; return what the user was shown."""
    payload = bot.mock.slash(name, options, **kw)
    done = bot.adapter.client.wait_for(
        "app_command_completion", check=lambda i, _c: i.id == int(payload["id"]), timeout=5
    )
    await bot.mock.dispatch("INTERACTION_CREATE", payload)
    await done
    return bot.mock.interactions[payload["token"]]


async def click(bot: Bot, message: dict[str, Any], custom_id: str, **kw: Any) -> InteractionLog:
    payload = bot.mock.click(message, custom_id, **kw)
    token = payload["token"]
    await bot.mock.dispatch("INTERACTION_CREATE", payload)
    await bot.mock.wait_for(lambda r: r.path == f"/webhooks/{BOT_ID}/{token}" and r.status > 0)
    return bot.mock.interactions[token]


def visible(message: dict[str, Any]) -> str:
    """Everything a user reads in a message."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for f in embed.get("fields") or []:
            parts += [f["name"], f["value"]]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


def shown(log: InteractionLog) -> str:
    return "\n".join(visible(m) for m in log.messages)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("components") or [] for b in row["components"]]


def seed(monitor: Monitor, count: int, title: str = "TikTok ban development {n}") -> list[int]:
    ids = seed_stories(monitor.store, count, now=utcnow() - timedelta(minutes=5), title=title)
    # Stories became relevant "now"; a digest up to now excludes that very second.
    monitor.store.db.execute(
        "UPDATE stories SET relevant_at = ?", [to_iso(utcnow() - timedelta(minutes=5))]
    )
    return ids


def story(n: int, title: str = "", summary: str = "", lang: str = "en") -> Story:
    now = datetime(2025, 1, 17, 12, tzinfo=UTC)
    item_id = hashlib.blake2b(str(n).encode(), digest_size=12).hexdigest()
    return Story(
        id=n,
        title=title or f"Supreme Court upholds TikTok divest-or-ban law, part {n} " + "x" * 150,
        url=f"https://news.example/tiktok/{n}?a=(b)",
        summary=summary or "The justices ruled unanimously. " * 20,
        category=CATEGORIES[n % len(CATEGORIES)],
        first_seen=now - timedelta(hours=n),
        last_seen=now,
        item_id=item_id,
        sources=[StorySource(item_id, "t", "u", "feed", "outlet", lang, now)],
        languages=["en", "fr"] if n % 3 == 0 else [lang],
        source_count=1 + n % 4,
    )


def big_digest(count: int = 120) -> Digest:
    now = datetime(2025, 1, 17, 12, tzinfo=UTC)
    stories = [story(n) for n in range(1, count + 1)]
    if count > 5:  # emoji count twice in Discord's limits
        stories[5].title = "Über-long 🎉 headline " * 30
    return Digest(since=now - timedelta(days=1), until=now, stories=stories, generated_at=now)


def message_payload(message: Any) -> dict[str, Any]:
    view = feedback_view(message.feedback)
    return {
        "content": message.content,
        "embeds": [e.to_dict() for e in message.embeds],
        "components": view.to_components() if view else [],
    }


def message_requests(mock: DiscordMock) -> list[Recorded]:
    return [r for r in mock.requests if r.is_message]


# ----------------------------------------------------------------------------- configuration
def test_from_env_needs_a_token_and_keeps_it_out_of_repr(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    bare = from_env({"DISCORD_BOT_TOKEN": "t", "DISCORD_API_URL": "http://127.0.0.1:9/"}, router)
    assert bare is not None and bare.config.api_url == "http://127.0.0.1:9/api/v10"
    assert from_env({}, router) is None
    assert from_env({"DISCORD_BOT_TOKEN": "  "}, router) is None
    adapter = from_env({"DISCORD_BOT_TOKEN": "secret-token", "DISCORD_GUILD_ID": "42"}, router)
    assert adapter is not None and adapter.platform == "discord"
    assert adapter.config.guild_id == 42 and adapter.config.api_url is None
    assert "secret-token" not in repr(adapter.config)
    with pytest.raises(ValueError, match="DISCORD_GUILD_ID"):
        from_env({"DISCORD_BOT_TOKEN": "t", "DISCORD_GUILD_ID": "general"}, router)


def test_commands_follow_discord_rules(monitor: Monitor) -> None:
    adapter = from_env({"DISCORD_BOT_TOKEN": "t"}, CommandRouter(monitor))
    assert adapter is not None
    [group] = [c.to_dict(adapter.tree) for c in adapter.tree.get_commands()]
    assert group["name"] == "tiktok"
    # On the whole group it would hide /tiktok status from members.
    assert group.get("default_member_permissions") is None

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for option in node.get("options") or []:
            yield from walk(option)

    for node in walk(group):
        assert re.fullmatch(r"[a-z0-9_-]{1,32}", node["name"]), node["name"]
        assert 1 <= len(node["description"]) <= 100, node["name"]
        params = [o for o in node.get("options") or [] if o["type"] not in (1, 2)]
        required = [o.get("required", False) for o in params]
        assert required == sorted(required, reverse=True), f"{node['name']}: required first"
    subs = {o["name"]: o for o in group["options"]}
    assert set(subs) == {
        "status", "digest", "search", "subscribe", "unsubscribe", "feeds", "feedback", "help"
    }  # fmt: skip
    assert {o["name"] for o in subs["feeds"]["options"]} == {"list", "add", "remove"}
    period = next(o for o in subs["digest"]["options"] if o["name"] == "period")
    assert [c["value"] for c in period["choices"]] == ["24h", "7d"]
    verdict = next(o for o in subs["feedback"]["options"] if o["name"] == "verdict")
    assert [c["value"] for c in verdict["choices"]] == ["relevant", "irrelevant"]
    schedule = next(o for o in subs["subscribe"]["options"] if o["name"] == "schedule")
    assert [c["value"] for c in schedule["choices"]] == ["daily", "weekdays", "weekly"]


def test_typed_options_become_the_text_a_user_would_type() -> None:
    parsed = parse(command_text("search", ["supreme court"]))
    assert (parsed.name, parsed.args, parsed.public) == ("search", ["supreme court"], False)
    parsed = parse(command_text("feeds", ["add", "https://x.example/rss", "My feed"], True))
    assert parsed.args == ["add", "https://x.example/rss", "My feed"] and parsed.public
    # A query ending in "public" stays a query, not the flag.
    assert parse(command_text("search", ["ban public"])).args == ["ban public"]
    assert command_text("digest", [None]) == "digest"


# ----------------------------------------------------------------------------- rendering
def test_feed_text_is_escaped_and_pings_nobody() -> None:
    text = escape(HOSTILE + " <#789> @here")
    assert "@everyone" not in text and "@here" not in text
    assert not re.search(r"<[@#]", text)
    assert "\\*\\*ban\\*\\*" in text


def test_a_120_story_digest_is_split_into_valid_numbered_messages() -> None:
    digest = big_digest(120)
    messages = render_digest(digest, "tiktok-digest:7")
    assert len(messages) >= 12
    seen: list[int] = []
    for part, message in enumerate(messages, 1):
        payload = message_payload(message)
        assert check_message(payload) == [], part
        assert sum(embed_units(e) for e in message.embeds) <= EMBED_TOTAL_MAX
        assert f"({part}/{len(messages)})" in message.content
        assert message.embeds[-1].footer.text == f"tiktok-digest:7 · {part}/{len(messages)}"
        for embed in message.embeds:
            seen.append(int(embed.title.split(".")[0]))
        # Every story of the message has its two buttons.
        ids = [b["custom_id"] for row in payload["components"] for b in row["components"]]
        assert len(ids) == 2 * len(message.embeds)
    assert seen == list(range(1, 121)), "every story once, in order"
    first = messages[0].content
    assert digest.headline in first and first.startswith("**TikTok ban digest** (1/")
    text = "\n".join(e.description or "" for m in messages for e in m.embeds)
    assert "seen in en, fr" in text and "+3 sources" in text and "item `" in text
    long_title = messages[0].embeds[5].title or ""
    assert long_title.endswith("…"), "shortened visibly, never silently"


def test_empty_digest_still_says_so() -> None:
    now = datetime(2025, 1, 17, tzinfo=UTC)
    [message] = render_digest(Digest(now, now, [], now), "tiktok-digest:1")
    assert message.embeds[0].description == "No new developments."
    assert message.embeds[0].footer.text == "tiktok-digest:1 · 1/1"


def test_long_text_is_split_not_truncated() -> None:
    lines = [f"line {n} " + "y" * 200 for n in range(150)]
    messages = pack_lines("Feeds", lines, 0)
    assert len(messages) > 1
    text = "\n".join(e.description or "" for m in messages for e in m.embeds)
    assert all(line in text for line in lines)
    for part, message in enumerate(messages, 1):
        assert check_message(message_payload(message)) == []
        assert message.embeds[0].title == f"Feeds ({part}/{len(messages)})"


def test_status_shows_failures_within_field_limits(monitor: Monitor) -> None:
    for n in range(40):
        caller = Caller(platform="discord", user_id="1", channel_id=str(1000 + n))
        monitor.subscriptions.subscribe(caller, SubscriptionRequest(time="09:00", timezone="UTC"))
    monitor.store.db.execute("UPDATE subscriptions SET last_error = ?", ["x" * 300])
    [message] = render_status(monitor.status())
    assert check_message(message_payload(message)) == []
    subs = next(f for f in message.embeds[0].fields if f.name == "Subscriptions")
    assert "last post failed" in subs.value and re.search(r"… and \d+ more", subs.value)


# ----------------------------------------------------------------------------- end to end
async def test_login_registers_commands_on_the_guild_and_never_logs_the_token(
    mock: DiscordMock, monitor: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = make_adapter(mock, monitor)
    task = asyncio.create_task(adapter.start())
    await asyncio.wait_for(mock.identified.wait(), 5)
    await adapter.stop()
    await asyncio.wait_for(task, 5)  # start() returns once stopped
    assert [c["name"] for c in mock.commands[str(GUILD_ID)]] == ["tiktok"]
    assert "global" not in mock.commands
    assert mock.identifies[0]["token"] == TOKEN
    assert any(r.path == "/gateway/bot" for r in mock.requests)
    assert TOKEN not in caplog.text


async def test_without_a_guild_commands_are_registered_globally(
    mock: DiscordMock, monitor: Monitor
) -> None:
    adapter = make_adapter(mock, monitor, guild=False)
    task = asyncio.create_task(adapter.start())
    await asyncio.wait_for(mock.identified.wait(), 5)
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    assert [c["name"] for c in mock.commands["global"]] == ["tiktok"]


async def test_status_is_deferred_privately_then_shown(bot: Bot) -> None:
    log = await command(bot, "status")
    assert log.callbacks == [{"type": 5, "data": {"flags": 64}}]
    [message] = log.messages
    assert message["flags"] & 64, "only the caller sees it by default"
    assert "TikTok ban story · status" in visible(message)
    assert "Latest development per category" in visible(message)


async def test_public_option_shows_the_answer_to_the_channel(bot: Bot) -> None:
    log = await command(bot, "help", {"public": True})
    assert log.callbacks[0]["type"] == 5 and not log.callbacks[0].get("data", {}).get("flags")
    assert not log.messages[0]["flags"] & 64
    assert "/tiktok status" in shown(log)


async def test_search_finds_stories(bot: Bot) -> None:
    seed(bot.monitor, 3, title="Supreme Court hears TikTok case, day {n}")
    log = await command(bot, "search", {"query": "supreme court"})
    text = shown(log)
    assert "Search: supreme court" in text and "Supreme Court hears TikTok case, day 0" in text


async def test_members_are_refused_admin_commands_and_nothing_changes(bot: Bot) -> None:
    config_before = bot.monitor.config.path.read_bytes()
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("subscribe", {"time": "08:30"}),
        ("unsubscribe", {}),
        ("feeds add", {"url": "https://example.com/feed.xml", "name": "Example"}),
        ("feeds remove", {"url": "https://seed.example/feed.xml"}),
    ]
    for name, options in attempts:
        log = await command(bot, name, options)  # member permissions, id not under admins:
        assert "Only admins" in shown(log), name
    assert bot.monitor.config.path.read_bytes() == config_before
    assert bot.monitor.store.subscriptions() == []


async def test_manage_server_may_subscribe_with_typed_options(bot: Bot) -> None:
    options = {
        "time": "08:30",
        "timezone": "Europe/Paris",
        "schedule": "weekdays",
        "categories": "courts, legislation",
        "quiet": True,
    }
    log = await command(bot, "subscribe", options, permissions=MANAGE_GUILD)
    assert "on weekdays at 08:30 Europe/Paris (courts, legislation)" in shown(log)
    [sub] = bot.monitor.store.subscriptions()
    assert (sub.platform, sub.channel, sub.schedule, sub.quiet) == (
        "discord",
        str(CHANNEL_ID),
        "weekdays",
        "skip",
    )
    assert sub.categories == ["courts", "legislation"]


async def test_an_id_under_admins_may_use_admin_commands(bot: Bot) -> None:
    log = await command(bot, "unsubscribe", user_id=ADMIN_ID)
    assert "was not subscribed" in shown(log)


async def test_a_long_digest_arrives_as_several_valid_messages(bot: Bot) -> None:
    seed(bot.monitor, 120)
    log = await command(bot, "digest", {"period": "7d"})
    assert len(log.messages) > 1
    assert bot.mock.violations == []
    assert all(r.status == 200 for r in message_requests(bot.mock))
    parts = len(log.messages)
    for part, message in enumerate(log.messages, 1):
        assert f"({part}/{parts})" in message["content"]
        assert message["flags"] & 64
    assert log.messages[0]["content"].splitlines()[1].startswith("120 developments:")
    titles = [e["title"] for m in log.messages for e in m["embeds"]]
    assert len(titles) == 120 and len(set(titles)) == 120


async def test_a_hostile_headline_pings_nobody(bot: Bot, poster: DiscordAdapter) -> None:
    seed(bot.monitor, 1, title=HOSTILE)
    log = await command(bot, "digest", {"public": True})
    await poster.post_digest(str(CHANNEL_ID), bot.monitor.digest(), "tiktok-digest:1")
    requests = message_requests(bot.mock)
    assert len(requests) >= 2
    for req in requests:
        assert req.message_body.get("allowed_mentions") == {"parse": []}, req.path
        body = str(req.message_body)
        assert "@everyone" not in body and "<@123>" not in body and "<@&456>" not in body
    title = log.messages[0]["embeds"][0]["title"]
    assert "@\u200beveryone" in title and "\\*\\*ban\\*\\*" in title
    assert "<\u200b@123>" in title and "<\u200b@&456>" in title


async def test_feedback_button_records_and_marks_the_choice(
    bot: Bot, poster: DiscordAdapter
) -> None:
    seed(bot.monitor, 2)
    # Posted by another client instance: the click is understood with no view in memory,
    # as after a restart.
    await poster.post_digest(str(CHANNEL_ID), bot.monitor.digest(), "tiktok-digest:3")
    [message] = bot.mock.channels[str(CHANNEL_ID)]
    target = next(b for b in buttons(message) if b["label"] == "Not relevant #1")
    item_id = target["custom_id"].rsplit(":", 1)[1]

    log = await click(bot, message, target["custom_id"])

    [row] = bot.monitor.store.query("SELECT * FROM feedback WHERE item_id = ?", [item_id])
    assert (row["verdict"], row["platform"]) == ("irrelevant", "discord")
    assert log.callbacks[0]["type"] == 7, "the message itself is updated"
    updated = {b["custom_id"]: b for b in buttons(bot.mock.messages[message["id"]])}
    assert updated[target["custom_id"]]["label"] == "✓ Not relevant #1"
    assert updated[target["custom_id"]]["style"] == discord.ButtonStyle.danger.value
    assert len(updated) == 4, "every other button is still there"
    assert "Thanks" in visible(log.messages[-1]) and log.messages[-1]["flags"] & 64

    # Changing one's mind moves the mark.
    relevant = target["custom_id"].replace(":irrelevant:", ":relevant:")
    await click(bot, bot.mock.messages[message["id"]], relevant)
    updated = {b["custom_id"]: b for b in buttons(bot.mock.messages[message["id"]])}
    assert updated[relevant]["label"] == "✓ Relevant #1"
    assert updated[target["custom_id"]]["label"] == "Not relevant #1"


async def test_feedback_on_an_unknown_item_is_explained(bot: Bot) -> None:
    custom_id = "tiktok:fb:relevant:abcdef123456"
    button = {"type": 2, "style": 2, "label": "Relevant #1", "custom_id": custom_id}
    message = bot.mock._new_message(
        str(CHANNEL_ID), {"components": [{"type": 1, "components": [button]}]}
    )
    payload = bot.mock.click(message, custom_id)
    await bot.mock.dispatch("INTERACTION_CREATE", payload)
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    await bot.mock.wait_for(lambda r: r.path == path and r.status > 0)
    log = bot.mock.interactions[payload["token"]]
    assert log.callbacks[0]["type"] == 4 and "no item with id" in visible(log.messages[0])


async def test_missing_channel_is_a_permanent_failure_shown_in_status(bot: Bot) -> None:
    gone = "123456789012345678"
    bot.mock.missing_channels.add(gone)
    caller = Caller(platform="discord", user_id="1", channel_id=gone, is_platform_admin=True)
    bot.monitor.subscriptions.subscribe(caller, SubscriptionRequest(time="09:00", timezone="UTC"))
    [sub] = bot.monitor.store.subscriptions()
    delivery = DigestDelivery(bot.monitor.store, {"discord": bot.adapter})

    result = await delivery.deliver(sub, utcnow())

    assert result.state == "failed" and "Unknown Channel" in result.detail
    assert bot.monitor.store.scalar("SELECT state FROM digests") == "failed"
    [sub] = bot.monitor.store.subscriptions()
    assert sub.last_error and "not found" in sub.last_error
    text = shown(await command(bot, "status"))
    assert "last post failed" in text and "Unknown Channel" in text


async def test_a_digest_posted_before_a_crash_is_not_posted_twice(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(bot.monitor, 3)
    caller = Caller(platform="discord", user_id="1", channel_id=str(CHANNEL_ID))
    bot.monitor.subscriptions.subscribe(caller, SubscriptionRequest(time="09:00", timezone="UTC"))
    [sub] = bot.monitor.store.subscriptions()
    delivery = DigestDelivery(bot.monitor.store, {"discord": bot.adapter})

    def crash(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("killed between posting and recording")

    with monkeypatch.context() as patch:
        patch.setattr(DigestDelivery, "_mark_posted", crash)
        with pytest.raises(RuntimeError):
            await delivery.deliver(sub, utcnow())
    assert bot.monitor.store.scalar("SELECT state FROM digests") == "pending"

    result = await delivery.deliver(sub, utcnow())

    assert (result.state, result.detail) == ("posted", "recovered")
    assert len(bot.mock.channels[str(CHANNEL_ID)]) == 1, "the channel saw it once"


@pytest.mark.parametrize(
    ("status", "code", "message", "permanent"),
    [
        (403, 50001, "Missing Access", True),
        (403, 50013, "Missing Permissions", True),
        (400, 50035, "Invalid Form Body", False),
        (503, 0, "Service Unavailable", False),
    ],
)
async def test_post_errors(
    poster: DiscordAdapter,
    mock: DiscordMock,
    status: int,
    code: int,
    message: str,
    permanent: bool,
) -> None:
    mock.fail("POST", rf"^/channels/{CHANNEL_ID}/messages$", status, code, message)
    with pytest.raises(PostError) as caught:
        await poster.post_digest(str(CHANNEL_ID), big_digest(2), "tiktok-digest:9")
    assert caught.value.permanent is permanent
    assert message in str(caught.value)


async def test_rate_limits_are_waited_out(poster: DiscordAdapter, mock: DiscordMock) -> None:
    mock.fail("POST", rf"^/channels/{CHANNEL_ID}/messages$", 429, retry_after=0.05)
    await poster.post_digest(str(CHANNEL_ID), big_digest(2), "tiktok-digest:9")
    posts = mock.sent(lambda r: r.method == "POST" and r.path.startswith("/channels/"))
    assert [r.status for r in posts] == [429, 200]


async def test_a_bad_token_is_not_blamed_on_the_channel(
    mock: DiscordMock, monitor: Monitor
) -> None:
    mock.token = "another-token"
    adapter = make_adapter(mock, monitor)
    try:
        with pytest.raises(PostError) as caught:
            await adapter.post_digest(str(CHANNEL_ID), big_digest(1), "tiktok-digest:1")
        assert caught.value.permanent is False and "DISCORD_BOT_TOKEN" in str(caught.value)
    finally:
        await adapter.stop()


async def test_post_only_mode_and_already_posted(poster: DiscordAdapter, mock: DiscordMock) -> None:
    since = utcnow() - timedelta(minutes=1)
    channel = str(CHANNEL_ID)
    await poster.post_digest(channel, big_digest(25), "tiktok-digest:5")
    assert len(mock.channels[channel]) > 1
    assert await poster.already_posted(channel, "tiktok-digest:5", since)
    assert not await poster.already_posted(channel, "tiktok-digest:6", since)
    assert not await poster.already_posted(channel, "tiktok-digest:50", since)
    [history, *_] = mock.sent(lambda r: r.method == "GET" and r.path.endswith("/messages"))
    after = int(history.query["after"])
    assert discord.utils.snowflake_time(after) <= since
    # REST only: no gateway, no command registration.
    assert mock.identifies == [] and mock.commands == {}


async def test_a_digest_cut_short_is_not_taken_as_posted(
    poster: DiscordAdapter, mock: DiscordMock
) -> None:
    since = utcnow() - timedelta(minutes=1)
    channel = str(CHANNEL_ID)
    await poster.post_digest(channel, big_digest(25), "tiktok-digest:8")
    assert len(mock.channels[channel]) > 1
    posted = len(mock.channels[channel])
    mock.channels[channel].pop()  # as if the bot crashed before the last part
    assert not await poster.already_posted(channel, "tiktok-digest:8", since)
    # Resumed: only the missing part goes out, so every part is in the channel exactly once.
    await poster.post_digest(channel, big_digest(25), "tiktok-digest:8")
    assert len(mock.channels[channel]) == posted
    assert await poster.already_posted(channel, "tiktok-digest:8", since)


async def test_stop_before_start_is_clean(mock: DiscordMock, monitor: Monitor) -> None:
    adapter = make_adapter(mock, monitor)
    await adapter.stop()
    await asyncio.wait_for(adapter.start(), 1)  # returns at once: it was stopped
    assert mock.requests == []
