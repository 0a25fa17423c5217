"""The Slack adapter as Slack drives it: the real Bolt app in HTTP mode, signed requests, and a
local mock of the Web API and of response_url that records what a user would see."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from ruamel.yaml import YAML
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.base import PostError
from bot.adapters.slack import SlackAdapter, SlackSettings, from_env, needs_admin, post_error
from bot.adapters.slack_blocks import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_SECTION,
    digest_messages,
    escape,
    response_messages,
    safe_url,
    story_section_text,
)
from bot.commands import CommandRouter
from bot.models import Digest, Response, ResponseKind, Story, StorySource
from bot.services.delivery import DigestDelivery
from bot.services.monitor import Monitor
from bot.timeutil import to_iso, utcnow
from tests.conftest import seed_stories
from tests.mocks.slack_api import BOT_TOKEN, MockSlackAPI

SECRET = "test-signing-secret"
HOSTILE = "<!channel> TikTok ban vote <@U024BE7LH> & <b>"


# ---------------------------------------------------------------------- harness
@dataclass
class Harness:
    api: MockSlackAPI
    adapter: SlackAdapter
    monitor: Monitor
    waits: list[float] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.bound_port}/slack/events"

    async def send(self, body: str, timestamp: int | None = None, secret: str = SECRET) -> int:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.events_url, data=body.encode(), headers=headers) as resp,
        ):
            return resp.status

    async def command(
        self, text: str, user: str = "UMEMBER", channel: str = "C1", **kwargs: Any
    ) -> dict[str, Any]:
        """Run `/tiktok text` as Slack would and return the (first) answer the user sees."""
        before = len(self.api.responses)
        status = await self.send(slash_body(text, user, channel, self.api.response_url()), **kwargs)
        assert status == 200
        await self.api.wait_for(lambda: len(self.api.responses) > before)
        return self.api.responses[before]


def slash_body(text: str, user: str, channel: str, response_url: str) -> str:
    # Form-encoded, field for field as Slack sends a slash command.
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0MOCK",
            "team_domain": "mock",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/tiktok",
            "text": text,
            "api_app_id": "A0MOCK",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "123.456.abc",
        }
    )


def settings_for(api: MockSlackAPI, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SECRET,
        "api_url": api.api_url,
        "host": "127.0.0.1",
        "port": 0,
        "post_interval": 0.0,
    }
    values.update(overrides)
    return SlackSettings(**values)


@pytest.fixture
async def api() -> AsyncIterator[MockSlackAPI]:
    mock = MockSlackAPI()
    await mock.start()
    yield mock
    await mock.stop()


@pytest.fixture
async def slack(api: MockSlackAPI, monitor: Monitor) -> AsyncIterator[Harness]:
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)  # the wait asked for, without spending it in the test

    adapter = SlackAdapter(settings_for(api), CommandRouter(monitor), sleep=record_sleep)
    await adapter.listen()
    yield Harness(api, adapter, monitor, waits)
    await adapter.stop()


def all_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def assert_valid(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert message["text"].strip(), "a plain text fallback is always there"
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER


def story(n: int, title: str = "Court hears TikTok case", **kwargs: Any) -> Story:
    now = utcnow()
    values: dict[str, Any] = {
        "id": n,
        "title": title,
        "url": f"https://news.example/{n}",
        "summary": "Judges heard arguments on the divest-or-ban law.",
        "category": "courts",
        "first_seen": now - timedelta(hours=2),
        "last_seen": now,
        "item_id": f"{n:024x}",
    }
    values.update(kwargs)
    return Story(**values)


def soon() -> datetime:
    # Stories seeded this second have relevant_at == now; a digest's end is exclusive.
    return utcnow() + timedelta(seconds=1)


def digest_of(*stories: Story) -> Digest:
    now = utcnow()
    return Digest(since=now - timedelta(days=1), until=now, stories=list(stories), generated_at=now)


# ---------------------------------------------------------------------- rendering
def test_feed_text_is_escaped_and_links_cannot_be_broken() -> None:
    assert escape(HOSTILE) == "&lt;!channel&gt; TikTok ban vote &lt;@U024BE7LH&gt; &amp; &lt;b&gt;"
    assert safe_url("https://x.example/a|b>c d?q=1&r=2") == (
        "https://x.example/a%7Cb%3Ec%20d?q=1&amp;r=2"
    )
    assert safe_url("javascript:alert(1)") is None
    hostile = story(1, title=HOSTILE, url="https://evil.example/x|<!here>", summary=HOSTILE)
    hostile.sources = [
        StorySource("a", "t", "u", "<!everyone> feed", "<@U1> outlet", "en", utcnow())
    ]
    payload = all_text({"m": [m.blocks for m in digest_messages(digest_of(hostile))]})
    for raw in ("<!channel>", "<@U024BE7LH>", "<!here>", "<!everyone>", "<@U1>", "<b>"):
        assert raw not in payload
    assert "&lt;!channel&gt;" in payload and "&lt;@U1&gt; outlet" in payload


def test_only_the_summary_is_shortened_and_visibly() -> None:
    long = story(1, title="Senate vote " * 30, summary="word " * 2000)
    text = story_section_text(long, utcnow())
    assert len(text) <= MAX_SECTION
    assert f"<https://news.example/1|{'Senate vote ' * 29}Senate vote>" in text
    assert text.endswith("…")
    languages = story(2, languages=["en", "fr"], source_count=3)
    assert "+2 sources" in story_section_text(languages, utcnow())
    assert "seen in en, fr" in story_section_text(languages, utcnow())


def test_long_digest_splits_into_numbered_valid_messages() -> None:
    stories = [story(n, summary="Long summary text. " * 40) for n in range(1, 121)]
    messages = digest_messages(digest_of(*stories))
    assert len(messages) > 1
    seen: list[int] = []
    for index, message in enumerate(messages, 1):
        assert_valid({"text": message.text, "blocks": message.blocks})
        assert f"({index}/{len(messages)})" in message.blocks[0]["text"]["text"]
        seen += message.story_ids
    assert seen == list(range(1, 121)), "every story once, in order, none dropped"


def test_a_response_url_answer_says_what_it_left_out() -> None:
    stories = [story(n) for n in range(1, 121)]
    response = Response(kind=ResponseKind.DIGEST, digest=digest_of(*stories))
    messages = response_messages(response, max_messages=5)
    assert len(messages) == 5
    shown = sum(len(m.story_ids) for m in messages)
    assert f"…and {120 - shown} more not shown here" in all_text(messages[-1].blocks)


def test_needs_admin_and_env() -> None:
    assert needs_admin("subscribe 08:00") and needs_admin("feeds add https://x public")
    assert needs_admin("Feeds ADD https://x") and needs_admin("UNSUBSCRIBE")
    assert not needs_admin("feeds list") and not needs_admin("status")
    assert from_env({}, None) is None  # type: ignore[arg-type]
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_API_URL": "http://127.0.0.1:9/api"}
    )
    assert settings is not None and settings.api_url == "http://127.0.0.1:9/api/"
    assert not settings.socket_mode and settings.port == 3000
    assert "xoxb-secret" not in repr(settings)


def api_error(error: str, status: int = 200) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError("failed", response)


def test_slack_errors_are_classified() -> None:
    for code in ("channel_not_found", "not_in_channel", "is_archived", "invalid_auth"):
        error = post_error(api_error(code), "C9")
        assert error.permanent and code in str(error)
    assert not post_error(api_error("ratelimited", 429), "C9").permanent
    assert not post_error(api_error("internal_error", 503), "C9").permanent
    assert not post_error(TimeoutError(), "C9").permanent


# ---------------------------------------------------------------------- HTTP and commands
async def test_bad_signature_and_stale_timestamp_get_401(slack: Harness) -> None:
    body = slash_body("status", "UMEMBER", "C1", slack.api.response_url())
    assert await slack.send(body, secret="wrong-secret") == 401
    assert await slack.send(body, timestamp=int(time.time()) - 6 * 60) == 401
    assert slack.api.responses == []


async def test_status_is_acked_first_then_answered_ephemerally(slack: Harness) -> None:
    answered_at_ack: list[int] = []
    real_handle = slack.adapter.router.handle

    async def slow_handle(text: str, caller: Any) -> Response:
        answered_at_ack.append(len(slack.api.responses))
        return await real_handle(text, caller)

    slack.adapter.router.handle = slow_handle  # type: ignore[method-assign]
    answer = await slack.command("status")
    assert answered_at_ack == [0]
    assert answer["response_type"] == "ephemeral"
    assert "status" in answer["text"] and answer["blocks"][0]["type"] == "header"
    assert slack.api.calls("users.info") == [], "no admin check for a read-only command"
    assert all(c.authorization == f"Bearer {BOT_TOKEN}" for c in slack.api.calls("auth.test"))
    public = await slack.command("help public")
    assert public["response_type"] == "in_channel"
    assert "/tiktok status" in all_text(public["blocks"])


async def test_non_admin_feeds_add_changes_nothing(slack: Harness) -> None:
    slack.api.add_user("UMEMBER", is_admin=False, is_owner=False)
    before = slack.monitor.config.path.read_bytes()
    answer = await slack.command("feeds add https://feeds.example/tiktok.xml")
    assert "Only admins" in all_text(answer)
    assert slack.monitor.config.path.read_bytes() == before
    assert [c.args["user"] for c in slack.api.calls("users.info")] == ["UMEMBER"]
    assert slack.api.calls("users.info")[0].http_method == "GET"


async def test_workspace_admin_can_subscribe_and_is_cached(slack: Harness) -> None:
    slack.api.add_user("UBOSS", is_admin=True)
    answer = await slack.command("subscribe 08:30 Europe/Paris courts", user="UBOSS", channel="C7")
    assert "08:30 Europe/Paris" in all_text(answer)
    assert [(s.platform, s.channel) for s in slack.monitor.store.subscriptions()] == [
        ("slack", "C7")
    ]
    await slack.command("unsubscribe", user="UBOSS", channel="C7")
    assert len(slack.api.calls("users.info")) == 1, "users.info is cached per user"
    await slack.command("subscribe", user="UADMIN", channel="C8")  # listed in feeds.yaml
    assert len(slack.api.calls("users.info")) == 1


async def test_search_and_feeds_list_render(slack: Harness) -> None:
    seed_stories(slack.monitor.store, 2, title="Court blocks Montana TikTok law, ruling {n}")
    found = await slack.command("search montana")
    assert "Montana" in all_text(found["blocks"])
    assert any(b["type"] == "actions" for b in found["blocks"])
    feeds = await slack.command("feeds list")
    assert "*Feeds:*" in all_text(feeds["blocks"]) and "Seed feed" in all_text(feeds["blocks"])


async def test_digest_command_shows_escaped_stories_with_buttons(slack: Harness) -> None:
    seed_stories(slack.monitor.store, 3, title=HOSTILE + " {n}")
    # Seeded this second; a digest's end is exclusive, so date them a minute back.
    minute_ago = to_iso(utcnow() - timedelta(minutes=1))
    slack.monitor.store.db.execute("UPDATE stories SET relevant_at = ?", [minute_ago])
    answer = await slack.command("digest public")
    assert answer["response_type"] == "in_channel"
    assert_valid(answer)
    sent = all_text({"text": answer["text"], "blocks": answer["blocks"]})
    assert "3 developments" in sent and sent.count("&lt;!channel&gt;") == 6  # title and summary
    assert "<!channel>" not in sent and "<@U024BE7LH>" not in sent
    assert sum(b["type"] == "actions" for b in answer["blocks"]) == 3


# ---------------------------------------------------------------------- posting digests
async def test_120_story_digest_arrives_as_several_valid_paced_messages(
    slack: Harness,
) -> None:
    seed_stories(slack.monitor.store, 120)
    digest = slack.monitor.digest(timedelta(hours=24), now=soon())
    assert len(digest.stories) == 120
    slack.adapter.settings.post_interval = 1.0  # Slack's ~1 message/s, via the recorded sleep
    await slack.adapter.post_digest("C1", digest, "tiktok-digest:1")
    posted = slack.api.posted("C1")
    assert len(posted) > 1
    story_blocks = 0
    for part, message in enumerate(posted, 1):
        assert_valid(message)
        assert message["metadata"]["event_payload"] == {
            "run_key": "tiktok-digest:1",
            "part": part,
            "parts": len(posted),
            "stories": message["metadata"]["event_payload"]["stories"],
        }
        args = message["args"]
        assert args["unfurl_links"] is False and args["unfurl_media"] is False
        assert "link_names" not in args
        story_blocks += sum(1 for b in message["blocks"] if b.get("block_id", "")[:6] == "story:")
    assert story_blocks == 120
    assert len(slack.waits) == len(posted) - 1 and all(0.5 < w <= 1.0 for w in slack.waits)


async def test_a_429_is_waited_out_and_the_post_arrives_once(slack: Harness) -> None:
    slack.api.rate_limit_once(retry_after=7)
    await slack.adapter.post_digest("C1", digest_of(story(1)), "tiktok-digest:2")
    assert len(slack.api.calls("chat.postMessage")) == 2
    assert len(slack.api.posted("C1")) == 1
    assert slack.waits == [7.0], "Retry-After is honoured"


async def test_hostile_headline_pings_nobody(slack: Harness) -> None:
    await slack.adapter.post_digest("C1", digest_of(story(1, title=HOSTILE)), "tiktok-digest:3")
    message = slack.api.posted("C1")[0]
    sent = all_text({"text": message["text"], "blocks": message["blocks"]})
    assert "&lt;!channel&gt;" in sent and "&lt;@U024BE7LH&gt;" in sent and "&amp;" in sent
    assert "&lt;b&gt;" in sent
    assert "<!channel>" not in sent and "<@U024BE7LH>" not in sent and "<b>" not in sent


async def test_channel_not_found_is_recorded_and_shown_in_status(slack: Harness) -> None:
    seed_stories(slack.monitor.store, 2)
    await slack.command("subscribe", user="UADMIN", channel="CGONE")
    slack.api.channel_errors["CGONE"] = "channel_not_found"
    with pytest.raises(PostError) as raised:
        await slack.adapter.post_digest("CGONE", digest_of(story(1)), "tiktok-digest:9")
    assert raised.value.permanent
    delivery = DigestDelivery(slack.monitor.store, {"slack": slack.adapter})
    (sub,) = slack.monitor.store.subscriptions()
    result = await delivery.deliver(sub, utcnow())
    assert result.state == "failed" and "channel_not_found" in result.detail
    status = await slack.command("status")
    assert "last post failed" in all_text(status["blocks"])
    assert "channel_not_found" in all_text(status["blocks"])


async def test_already_posted_finds_the_run_and_completes_a_partial_one(slack: Harness) -> None:
    digest = digest_of(*[story(n) for n in range(1, 41)])
    since = utcnow() - timedelta(minutes=1)
    await slack.adapter.post_digest("C1", digest, "tiktok-digest:5")
    parts = len(slack.api.posted("C1"))
    assert parts > 1
    assert await slack.adapter.already_posted("C1", "tiktok-digest:5", since)
    assert not await slack.adapter.already_posted("C1", "tiktok-digest:6", since)
    history = slack.api.calls("conversations.history")[-1].args
    assert history["include_all_metadata"] in ("1", "true") and float(history["oldest"]) > 0
    # A crash after the first part: the resumed run posts only the missing parts.
    fresh = SlackAdapter(settings_for(slack.api), slack.adapter.router)
    del slack.api.messages["C1"][1:]
    assert not await fresh.already_posted("C1", "tiktok-digest:5", since)
    await fresh.post_digest("C1", digest, "tiktok-digest:5")
    got = [m["metadata"]["event_payload"]["part"] for m in slack.api.posted("C1")]
    assert got == list(range(1, parts + 1))


async def test_post_only_mode_needs_no_start(api: MockSlackAPI, monitor: Monitor) -> None:
    adapter = from_env(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": api.api_url}, CommandRouter(monitor)
    )
    assert adapter is not None
    await adapter.post_digest("C2", digest_of(story(1)), "tiktok-digest:7")
    assert await adapter.already_posted("C2", "tiktok-digest:7", utcnow() - timedelta(hours=1))
    await adapter.stop()


# ---------------------------------------------------------------------- feedback buttons
async def test_feedback_button_updates_message_and_store(slack: Harness) -> None:
    seed_stories(slack.monitor.store, 1, title="TikTok ban hearing set {n}")
    digest = slack.monitor.digest(timedelta(hours=24), now=soon())
    item_id = digest.stories[0].item_id
    await slack.adapter.post_digest("C1", digest, "tiktok-digest:8")
    message = slack.api.posted("C1")[0]
    payload = {
        "type": "block_actions",
        "team": {"id": "T0MOCK"},
        "user": {"id": "UMEMBER", "name": "member"},
        "api_app_id": "A0MOCK",
        "token": "legacy-verification-token",
        "trigger_id": "123.456.abc",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": "C1",
            "is_ephemeral": False,
        },
        "channel": {"id": "C1", "name": "general"},
        "message": {k: message[k] for k in ("ts", "text", "blocks", "metadata")},
        "response_url": slack.api.response_url("fb"),
        "actions": [
            {
                "type": "button",
                "action_id": "tiktok_feedback_irrelevant",
                "block_id": f"fb:{item_id}",
                "value": item_id,
                "action_ts": "1.2",
            }
        ],
    }
    assert await slack.send(urlencode({"payload": json.dumps(payload)})) == 200
    await slack.api.wait_for(lambda: bool(slack.api.calls("chat.update")))
    updated = slack.api.posted("C1")[0]
    assert "✓ marked not relevant by <@UMEMBER>" in all_text(updated["blocks"])
    assert not any(b["type"] == "actions" for b in updated["blocks"])
    assert updated["metadata"]["event_payload"]["run_key"] == "tiktok-digest:8"
    row = slack.monitor.store.query("SELECT relevant, stage FROM items WHERE id = ?", [item_id])
    assert row == [{"relevant": 0, "stage": "feedback"}]


# ---------------------------------------------------------------------- wiring
def test_manifest_declares_what_the_adapter_uses() -> None:
    manifest = YAML(typ="safe").load(Path(__file__).parents[1] / "slack" / "manifest.yaml")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/tiktok"
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"chat:write", "commands", "users:read", "channels:history", "groups:history"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


async def test_socket_mode_when_an_app_token_is_set(
    monkeypatch: pytest.MonkeyPatch, monitor: Monitor
) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    calls: list[str] = []

    async def connect(self: Any) -> None:
        calls.append("connect")

    async def close(self: Any) -> None:
        calls.append("close")

    monkeypatch.setattr(AsyncSocketModeHandler, "connect_async", connect)
    monkeypatch.setattr(AsyncSocketModeHandler, "close_async", close)
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-test"}
    adapter = from_env(env, CommandRouter(monitor))
    assert adapter is not None and adapter.settings.socket_mode
    await adapter.listen()
    assert adapter.bound_port is None, "no HTTP server: Socket Mode needs no public URL"
    await adapter.stop()
    assert calls == ["connect", "close"]


async def test_http_mode_without_signing_secret_refuses_to_start(monitor: Monitor) -> None:
    adapter = from_env({"SLACK_BOT_TOKEN": BOT_TOKEN}, CommandRouter(monitor))
    assert adapter is not None
    with pytest.raises(RuntimeError, match="SLACK_SIGNING_SECRET"):
        await adapter.start()
