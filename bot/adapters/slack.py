"""The Slack adapter: `/tiktok …` and feedback buttons in, Block Kit messages out.

It only translates. Commands go to the CommandRouter unchanged; answers are rendered by
slack_blocks. Socket Mode when SLACK_APP_TOKEN is set (no public URL needed), otherwise an
aiohttp server for POST /slack/events in this event loop, with Bolt checking every request's
signature and refusing timestamps older than five minutes.

Digests are posted with chat.postMessage, one message per part, paced per channel, tagged with
message metadata {run_key, part, parts, stories} so already_posted() can find them after a
crash and a retried run never posts a part twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import PostError
from bot.adapters.slack_blocks import (
    ACTION_PATTERN,
    SlackMessage,
    digest_messages,
    escape,
    mark_feedback,
    response_messages,
)
from bot.commands import parse
from bot.models import Caller, Digest, Response
from bot.services.feedback import FeedbackError

if TYPE_CHECKING:
    from bot.commands import CommandRouter

log = logging.getLogger(__name__)

METADATA_EVENT = "tiktok_digest"
# A response_url accepts five answers; a longer digest ends with a note saying what was left.
RESPONSE_URL_USES = 5
# Messages older than the run can't belong to it; the margin absorbs clock skew with Slack.
HISTORY_MARGIN = timedelta(minutes=2)

# Errors that no retry will cure: the subscription records them and /tiktok status shows them.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "the channel was not found (deleted, or private and the bot not invited)",
    "not_in_channel": "the bot is not in the channel; invite it with /invite",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "account_inactive": "the bot's Slack account is inactive (app uninstalled?)",
    "invalid_auth": "the Slack bot token is invalid",
    "not_authed": "no Slack bot token was sent",
    "token_revoked": "the Slack bot token was revoked",
    "token_expired": "the Slack bot token expired",
    "missing_scope": "the Slack app lacks a permission; reinstall it from slack/manifest.yaml",
    "restricted_action": "the workspace does not let the bot post in this channel",
    "team_access_not_granted": "the bot has no access to this workspace",
    "ekm_access_denied": "the workspace's key management denied access",
}
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable"}
ADMIN_SUBCOMMANDS = {"subscribe", "unsubscribe"}
ADMIN_FEED_ACTIONS = {"add", "remove"}


@dataclass(slots=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str | None = None
    host: str = "0.0.0.0"
    port: int = 3000
    post_interval: float = 1.0  # seconds between messages to one channel (Slack: ~1/s)
    rate_limit_retries: int = 3
    max_retry_after: float = 120.0
    admin_cache_seconds: float = 300.0
    request_timeout: int = 30

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        api_url = env.get("SLACK_API_URL", "").strip() or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"  # AsyncWebClient joins method names onto it
        return cls(
            bot_token=token,
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            api_url=api_url,
            port=int(env.get("PORT", "") or 3000),
        )


def from_env(env: Mapping[str, str], router: CommandRouter) -> SlackAdapter | None:
    settings = SlackSettings.from_env(env)
    return SlackAdapter(settings, router) if settings is not None else None


def needs_admin(text: str) -> bool:
    """Whether the command is admin-only, so users.info is asked only when it matters."""
    parsed = parse(text)
    if parsed.name in ADMIN_SUBCOMMANDS:
        return True
    action = parsed.args[0].lower() if parsed.args else ""
    return parsed.name == "feeds" and action in ADMIN_FEED_ACTIONS


def post_error(exc: Exception, channel: str) -> PostError:
    """A Slack failure as a PostError the delivery service can record and show."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if code in PERMANENT_ERRORS:
            return PostError(f"Slack cannot post to {channel}: {PERMANENT_ERRORS[code]} [{code}]")
        transient = code in TRANSIENT_ERRORS or exc.response.status_code >= 500
        return PostError(f"Slack refused the message to {channel}: {code}", not transient)
    return PostError(f"Slack could not be reached ({type(exc).__name__})", permanent=False)


def run_payload(message: dict[str, Any], run_key: str) -> dict[str, Any] | None:
    """The digest metadata of a channel message, if it is a part of this run."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") == METADATA_EVENT and payload.get("run_key") == run_key:
        return payload
    return None


def retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except ValueError:
                break
    return 1.0


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        settings: SlackSettings,
        router: CommandRouter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.router = router
        self._sleep = sleep  # tests swap it to see the waits without waiting
        # No automatic retries: a retried post after a lost answer would post twice. 429s are
        # retried in _post (safe: Slack did not take the message); the rest goes to delivery.
        kwargs: dict[str, Any] = {"base_url": settings.api_url} if settings.api_url else {}
        self.client = AsyncWebClient(
            token=settings.bot_token,
            retry_handlers=[],
            timeout=settings.request_timeout,
            **kwargs,
        )
        self.app = AsyncApp(client=self.client, signing_secret=settings.signing_secret)
        self.app.command("/tiktok")(self._on_command)
        self.app.action(ACTION_PATTERN)(self._on_feedback)
        self.bound_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self._stopped = asyncio.Event()
        self._admins: dict[str, tuple[float, bool]] = {}
        self._last_post: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._found_parts: dict[tuple[str, str], dict[int, str]] = {}

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._stopped.is_set():
            return  # stopped before it started: don't open a server nobody will close
        await self.listen()
        await self._stopped.wait()

    async def listen(self) -> None:
        """Connect (Socket Mode) or bind the HTTP server, then return."""
        if self._runner is not None or self._socket is not None:
            return
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode")
            return
        if not self.settings.signing_secret:
            raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN)")
        server = web.Application()
        server.router.add_post("/slack/events", self._http_events)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.bound_port = self._runner.addresses[0][1]
        log.info("Slack: serving POST /slack/events on port %s", self.bound_port)

    async def stop(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _http_events(self, request: web.Request) -> web.Response:
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    # ------------------------------------------------------------------ commands
    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()  # first, always: Slack gives up after three seconds
        text = command.get("text") or ""
        try:
            caller = await self._caller(command, text)
            response = await self.router.handle(text, caller)
        except Exception:
            log.exception("Slack command failed")
            response = Response.error("Something went wrong on our side; the operator has the log.")
        await self._answer(respond, response)

    async def _caller(self, command: dict[str, Any], text: str) -> Caller:
        caller = Caller(
            platform=self.platform,
            user_id=command.get("user_id", ""),
            channel_id=command.get("channel_id", ""),
            display_name=command.get("user_name", ""),
        )
        if needs_admin(text) and not self.router.is_admin(caller):
            caller.is_platform_admin = await self._is_workspace_admin(caller.user_id)
        return caller

    async def _is_workspace_admin(self, user_id: str) -> bool:
        now = time.monotonic()
        cached = self._admins.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Slack users.info failed (%s); treating the user as a member", exc)
            return False
        is_admin = any(bool(user.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))
        self._admins[user_id] = (now + self.settings.admin_cache_seconds, is_admin)
        return is_admin

    async def _answer(self, respond: AsyncRespond, response: Response) -> None:
        response_type = "in_channel" if response.public else "ephemeral"
        for message in response_messages(response, max_messages=RESPONSE_URL_USES):
            try:
                await respond(
                    text=message.text,
                    blocks=message.blocks,
                    response_type=response_type,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except Exception:
                log.exception("Slack: could not answer through the response_url")
                return

    # ------------------------------------------------------------------ feedback buttons
    async def _on_feedback(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        verdict = ACTION_PATTERN.match(action.get("action_id", ""))
        item_id = str(action.get("value") or "")
        user_id = (body.get("user") or {}).get("id", "")
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        if verdict is None:
            return
        caller = Caller(platform=self.platform, user_id=user_id, channel_id=channel)
        try:
            note = self.router.monitor.feedback.record(item_id, verdict.group(1), caller)
        except FeedbackError as exc:
            await respond(text=escape(str(exc)), response_type="ephemeral", replace_original=False)
            return
        message = body.get("message") or {}
        blocks = mark_feedback(message.get("blocks") or [], item_id, verdict.group(1), user_id)
        if blocks is None or not await self._update(body, message, blocks):
            await respond(text=escape(note), response_type="ephemeral", replace_original=False)

    async def _update(
        self, body: dict[str, Any], message: dict[str, Any], blocks: list[dict[str, Any]]
    ) -> bool:
        """Show the choice in place: chat.update for channel messages (keeping the metadata
        already_posted looks for), the response_url for ephemeral answers."""
        container = body.get("container") or {}
        text = message.get("text") or "TikTok ban digest"
        try:
            if container.get("is_ephemeral") or not container.get("message_ts"):
                respond = AsyncRespond(response_url=body.get("response_url"))
                await respond(text=text, blocks=blocks, replace_original=True)
            else:
                await self.client.chat_update(
                    channel=container.get("channel_id"),
                    ts=container["message_ts"],
                    text=text,
                    blocks=blocks,
                    metadata=message.get("metadata"),
                )
        except Exception as exc:
            log.warning("Slack: could not update the message after feedback: %s", exc)
            return False
        return True

    # ------------------------------------------------------------------ digests
    async def post_digest(self, channel: str, digest: Digest, run_key: str) -> None:
        messages = digest_messages(digest)
        # Parts already in the channel (found by already_posted, or posted by an earlier
        # attempt that failed half-way) are skipped, so a retried run posts each part once.
        done = self._found_parts.setdefault((channel, run_key), {})
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:  # one digest at a time per channel keeps the pacing honest
            for part, message in enumerate(messages, 1):
                if done.get(part) == message.fingerprint:
                    continue
                metadata = {
                    "event_type": METADATA_EVENT,
                    "event_payload": {
                        "run_key": run_key,
                        "part": part,
                        "parts": len(messages),
                        "stories": message.fingerprint,
                    },
                }
                await self._post(channel, message, metadata)
                done[part] = message.fingerprint
            self._found_parts.pop((channel, run_key), None)

    async def _post(self, channel: str, message: SlackMessage, metadata: dict[str, Any]) -> None:
        for attempt in range(self.settings.rate_limit_retries + 1):
            await self._pace(channel)
            try:
                await self.client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    metadata=metadata,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                return
            except SlackApiError as exc:
                limited = exc.response.status_code == 429
                if limited and attempt < self.settings.rate_limit_retries:
                    wait = min(retry_after(exc), self.settings.max_retry_after)
                    log.info("Slack rate limit on %s; retrying in %.0fs", channel, wait)
                    await self._sleep(wait)
                    continue
                raise post_error(exc, channel) from exc
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                raise post_error(exc, channel) from exc

    async def _pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None:
            wait = self.settings.post_interval - (time.monotonic() - last)
            if wait > 0:
                await self._sleep(wait)
        self._last_post[channel] = time.monotonic()

    async def already_posted(self, channel: str, run_key: str, since: datetime) -> bool:
        """True when every part of the run is in the channel; the parts found are remembered
        so that the post_digest that follows a partial post sends only the missing ones."""
        found: dict[int, str] = {}
        parts = 0
        oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        try:
            while True:
                page = await self.client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for msg in page.get("messages") or []:
                    payload = run_payload(msg, run_key)
                    if payload is not None:
                        found[int(payload.get("part", 1))] = str(payload.get("stories", ""))
                        parts = max(parts, int(payload.get("parts", 1)))
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise post_error(exc, channel) from exc
        if not found:
            return False
        self._found_parts[(channel, run_key)] = found
        return all(part in found for part in range(1, parts + 1))
