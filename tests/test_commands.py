"""The command layer as a user meets it: help, usage on bad input, admin checks, answers."""

from __future__ import annotations

from bot.commands import CommandRouter, parse
from bot.models import Caller, ResponseKind
from bot.services.monitor import Monitor
from tests.conftest import seed_stories

MEMBER = Caller(platform="slack", user_id="UMEMBER", channel_id="C1")
ADMIN = Caller(platform="slack", user_id="UADMIN", channel_id="C1")
SERVER_ADMIN = Caller(platform="discord", user_id="999", channel_id="42", is_platform_admin=True)


def test_parse_handles_public_and_quotes() -> None:
    parsed = parse('/tiktok search "supreme court" public')
    assert (parsed.name, parsed.args, parsed.public) == ("search", ["supreme court"], True)
    assert parse("").name == "help"
    assert parse("search 'unbalanced").args == ["'unbalanced"]


async def test_help_and_unknown(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    assert "/tiktok status" in (await router.handle("help", MEMBER)).text
    unknown = await router.handle("dance", MEMBER)
    assert unknown.kind is ResponseKind.ERROR and "Unknown command `dance`" in unknown.text


async def test_malformed_input_gets_usage_not_a_traceback(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    cases = {
        "digest banana": "not a duration",
        "digest 90d": "at most 31d",
        "search": "Usage: `/tiktok search",
        "feedback zz": "Usage: `/tiktok feedback",
        "feedback zzzzzzzz relevant": "not an item id",
        "feeds": "Usage: `/tiktok feeds list`",
        "feeds explode": "Usage",
        "status now": "takes no arguments",
    }
    for text, expected in cases.items():
        response = await router.handle(text, ADMIN)
        assert response.kind is ResponseKind.ERROR, text
        assert expected in response.text, (text, response.text)


async def test_admin_commands_refuse_members_and_change_nothing(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    before = monitor.config.path.read_bytes()
    for text in (
        "feeds add https://example.com/feed",
        "feeds remove x",
        "subscribe 08:00",
        "unsubscribe",
    ):
        response = await router.handle(text, MEMBER)
        assert response.kind is ResponseKind.ERROR and "Only admins" in response.text
    assert monitor.config.path.read_bytes() == before
    assert monitor.store.subscriptions() == []


async def test_subscribe_by_listed_admin_and_by_server_admin(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    answer = await router.handle("subscribe 08:30 Europe/Paris courts weekdays", ADMIN)
    assert "on weekdays at 08:30 Europe/Paris (courts)" in answer.text
    bad = await router.handle("subscribe 25:00", ADMIN)
    assert bad.kind is ResponseKind.ERROR and "HH:MM" in bad.text
    tz = await router.handle("subscribe 08:00 Mars/Base", ADMIN)
    assert "IANA timezone" in tz.text
    assert (await router.handle("subscribe", SERVER_ADMIN)).kind is ResponseKind.TEXT
    subs = {(s.platform, s.channel): s for s in monitor.store.subscriptions()}
    assert subs[("slack", "C1")].timezone == "Europe/Paris"
    assert subs[("discord", "42")].time == "09:00"
    assert "no longer" in (await router.handle("unsubscribe", ADMIN)).text


async def test_digest_search_status_and_feedback(monitor: Monitor) -> None:
    router = CommandRouter(monitor)
    seed_stories(monitor.store, 3, title="Court blocks Montana TikTok law, ruling {n}")
    digest = (await router.handle("digest", MEMBER)).digest
    assert digest is not None and len(digest.stories) == 3
    assert digest.headline.startswith("3 developments:")
    found = await router.handle("search montana", MEMBER)
    assert found.kind is ResponseKind.SEARCH and len(found.stories) == 3
    none = await router.handle("search nothingmatches", MEMBER)
    assert not none.stories and "No stories match" in none.text
    status = (await router.handle("status", MEMBER)).status
    assert status is not None and status.latest_by_category["legislation"] is not None
    item = digest.stories[0].item_id[:8]
    answer = await router.handle(f"feedback {item} irrelevant", MEMBER)
    assert "now dropped" in answer.text
    after = (await router.handle("digest", MEMBER)).digest
    assert after is not None and len(after.stories) == 2
