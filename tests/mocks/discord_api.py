"""A local stand-in for Discord on an ephemeral 127.0.0.1 port: REST API and gateway.

REST: what discord.py calls to log in, register commands, answer interactions (callback,
follow-ups, @original edits) and post or read channel messages. Every request is recorded.
Message bodies are checked against Discord's limits; a violation is answered 400 like
Discord (code 50035) and kept in `violations`. Channels can be made missing (404 Unknown
Channel) or forbidden (403 Missing Access), and any route can be told to fail or answer 429.

Gateway: HELLO, READY on IDENTIFY, heartbeat ACKs, then whatever `dispatch()` sends, e.g.
INTERACTION_CREATE payloads built by `slash()` and `click()` shaped as Discord sends them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "mock-discord-token-not-real"
BOT_ID = 900000000000000001  # Discord gives the bot user its application's id
GUILD_ID = 700000000000000007
CHANNEL_ID = 800000000000000008
DISCORD_EPOCH_MS = 1420070400000
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view, send, use commands
EPHEMERAL = 1 << 6
BODY = web.RequestKey("body", object)  # the parsed body, read once by the recorder

# Discord's message limits, checked on every message body received.
LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "total": 6000,
    "rows": 5,
    "row_items": 5,
    "custom_id": 100,
    "label": 80,
}


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_message(body: dict[str, Any]) -> list[str]:
    """Why Discord would refuse this message body ([] when it is fine)."""
    problems = []
    if units(body.get("content") or "") > LIMITS["content"]:
        problems.append("content longer than 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append(f"{len(embeds)} embeds")
    total = 0
    for n, embed in enumerate(embeds):
        parts = {
            "title": embed.get("title") or "",
            "description": embed.get("description") or "",
            "footer": (embed.get("footer") or {}).get("text") or "",
            "author": (embed.get("author") or {}).get("name") or "",
        }
        for key, text in parts.items():
            if units(text) > LIMITS[key]:
                problems.append(f"embed {n} {key} is {units(text)} long")
            total += units(text)
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            problems.append(f"embed {n} has {len(fields)} fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append(f"embed {n} has an empty field")
            if units(f.get("name") or "") > LIMITS["field_name"]:
                problems.append(f"embed {n} field name too long")
            if units(f.get("value") or "") > LIMITS["field_value"]:
                problems.append(f"embed {n} field value too long")
            total += units(f.get("name") or "") + units(f.get("value") or "")
        url = embed.get("url")
        if url is not None and not re.match(r"^https?://\S+$", url):
            problems.append(f"embed {n} url {url!r} is not a valid URL")
    if total > LIMITS["total"]:
        problems.append(f"embeds total {total} characters")
    rows = body.get("components") or []
    if len(rows) > LIMITS["rows"]:
        problems.append(f"{len(rows)} action rows")
    for row in rows:
        items = row.get("components") or []
        if len(items) > LIMITS["row_items"]:
            problems.append(f"{len(items)} components in a row")
        for item in items:
            if len(item.get("custom_id") or "") > LIMITS["custom_id"]:
                problems.append("custom_id too long")
            if len(item.get("label") or "") > LIMITS["label"]:
                problems.append("button label too long")
    return problems


@dataclass(slots=True)
class Recorded:
    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    body: Any  # parsed JSON (payload_json for multipart), or None
    authorization: str
    status: int = 0

    @property
    def is_message(self) -> bool:
        """Whether this request carries message content Discord would show."""
        data = self.body if isinstance(self.body, dict) else {}
        if self.path.endswith("/callback"):
            data = data.get("data") or {}
        return any(k in data for k in ("content", "embeds", "components"))

    @property
    def message_body(self) -> dict[str, Any]:
        data = self.body if isinstance(self.body, dict) else {}
        return (data.get("data") or {}) if self.path.endswith("/callback") else data


@dataclass(slots=True)
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass(slots=True)
class InteractionLog:
    """What one interaction made the user see, in order."""

    id: str
    token: str
    channel_id: str
    source_message_id: str | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    deferred_ephemeral: bool | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # original first


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only under this exact header (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


class DiscordMock:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or a guild id
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.missing_channels: set[str] = set()
        self.forbidden_channels: set[str] = set()
        self.interactions: dict[str, InteractionLog] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.identifies: list[dict[str, Any]] = []
        self.identified = asyncio.Event()
        self._failures: list[Failure] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._last_id = 0
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ control
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        api = "/api/v10"
        r = app.router
        r.add_get(f"{api}/users/@me", self._me)
        r.add_get(f"{api}/oauth2/applications/@me", self._application)
        r.add_get(f"{api}/gateway/bot", self._gateway_bot)
        r.add_get(f"{api}/gateway", self._gateway_bot)
        r.add_put(f"{api}/applications/{{app}}/commands", self._put_commands)
        r.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands)
        r.add_post(f"{api}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        r.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._edit_webhook)
        r.add_post(f"{api}/channels/{{cid}}/messages", self._post_message)
        r.add_get(f"{api}/channels/{{cid}}/messages", self._history)
        r.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        code: int = 0,
        message: str = "",
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with an
        error (429 with `retry_after`, as Discord rate-limits)."""
        body: dict[str, Any] = {"message": message or f"{status} error", "code": code}
        headers: dict[str, str] = {}
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": retry_after or 0.05}
            body["global"] = False
            # discord.py treats a 429 without Via as a Cloudflare ban.
            headers = {"Via": "1.1 google", "Retry-After": str(retry_after or 0.05)}
        self._failures.append(Failure(method, re.compile(path), status, body, headers, times))

    def sent(self, predicate: Callable[[Recorded], bool] | None = None) -> list[Recorded]:
        return [r for r in self.requests if predicate is None or predicate(r)]

    async def wait_for(
        self, predicate: Callable[[Recorded], bool], timeout: float = 5.0
    ) -> Recorded:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for req in self.requests:
                if predicate(req):
                    return req
            await asyncio.sleep(0.01)
        seen = [f"{r.method} {r.path}" for r in self.requests[-10:]]
        raise TimeoutError(f"no matching request; last ones: {seen}")

    # ------------------------------------------------------------------ gateway
    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        for ws in self._sockets:
            if not ws.closed:
                await ws.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame.get("op") == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
            elif frame.get("op") == 2:  # identify
                self.identifies.append(frame["d"])
                self._seq += 1
                ready = {
                    "v": 10,
                    "user": self.bot_user(),
                    "application": {"id": str(BOT_ID), "flags": 0},
                    "session_id": "mock-session",
                    "resume_gateway_url": self.gateway_url,
                    "guilds": [],
                }
                await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
                self.identified.set()
        return ws

    # ------------------------------------------------------------------ interactions
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": str(BOT_ID),
            "username": "tiktok-monitor",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        }

    def _interaction_base(
        self, user_id: str, permissions: int, channel_id: str, guild_id: str | None
    ) -> dict[str, Any]:
        iid = str(self._snowflake())
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": str(BOT_ID),
            "token": f"itoken-{iid}",
            "version": 1,
            "locale": "en-US",
            "attachment_size_limit": 8388608,
            "app_permissions": str(MEMBER_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or user_id)},
            "context": 0 if guild_id else 1,
            "channel_id": channel_id,
        }
        user = {
            "id": user_id,
            "username": f"user{user_id[-4:]}",
            "discriminator": "0",
            "global_name": f"User {user_id[-4:]}",
            "avatar": None,
        }
        if guild_id is not None:
            payload["guild_id"] = guild_id
            payload["guild_locale"] = "en-US"
            payload["channel"] = {
                "id": channel_id,
                "type": 0,
                "guild_id": guild_id,
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
            payload["member"] = {
                "user": user,
                "roles": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "permissions": str(permissions),
            }
        else:
            payload["channel"] = {"id": channel_id, "type": 1, "recipients": [user], "flags": 0}
            payload["user"] = user
        self.interactions[payload["token"]] = InteractionLog(iid, payload["token"], channel_id)
        return payload

    def slash(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user_id: str = "222222222222222222",
        permissions: int = MEMBER_PERMISSIONS,
        channel_id: str = str(CHANNEL_ID),
        guild_id: str | None = str(GUILD_ID),
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for `/tiktok <command> …`; "feeds add" nests a subgroup."""
        payload = self._interaction_base(user_id, permissions, channel_id, guild_id)
        typed = [
            {"name": k, "type": _option_type(v), "value": v}
            for k, v in (options or {}).items()
            if v is not None
        ]
        words = command.split()
        option: dict[str, Any] = {"name": words[-1], "type": 1, "options": typed}
        if len(words) == 2:
            option = {"name": words[0], "type": 2, "options": [option]}
        data: dict[str, Any] = {
            "id": str(self._command_id()),
            "name": "tiktok",
            "type": 1,
            "options": [option],
        }
        if guild_id is not None and guild_id in self.commands:
            data["guild_id"] = guild_id  # set by Discord for commands registered on a server
        payload.update(type=2, data=data)
        return payload

    def click(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        user_id: str = "222222222222222222",
        permissions: int = MEMBER_PERMISSIONS,
        guild_id: str | None = str(GUILD_ID),
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for a button click on `message`."""
        payload = self._interaction_base(user_id, permissions, message["channel_id"], guild_id)
        payload.update(
            type=3,
            data={"custom_id": custom_id, "component_type": 2},
            message=message,
        )
        self.interactions[payload["token"]].source_message_id = message["id"]
        return payload

    def _command_id(self) -> int:
        for scope in self.commands.values():
            for command in scope:
                return int(command["id"])
        return 1

    # ------------------------------------------------------------------ REST
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        body = await _read_body(request)
        path = request.path.removeprefix("/api/v10")
        rec = Recorded(
            request.method,
            path,
            dict(request.query),
            body,
            request.headers.get("Authorization", ""),
        )
        self.requests.append(rec)
        request[BODY] = body
        response = self._injected(request.method, path) or self._unauthorised(rec)
        if response is None and rec.is_message:
            problems = check_message(rec.message_body)
            if problems:
                self.violations.extend(problems)
                response = _json(
                    {"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400
                )
        if response is None:
            response = await handler(request)
        rec.status = response.status
        return response

    def _injected(self, method: str, path: str) -> web.Response | None:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.path.search(path):
                failure.times -= 1
                return _json(failure.body, failure.status, failure.headers)
        return None

    def _unauthorised(self, rec: Recorded) -> web.Response | None:
        # Interaction callbacks and webhooks authenticate by their token in the URL.
        if rec.path.startswith(("/interactions/", "/webhooks/")):
            return None
        if rec.authorization != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        return None

    async def _me(self, request: web.Request) -> web.Response:
        return _json({**self.bot_user(), "flags": 0, "mfa_enabled": False, "verified": True})

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(BOT_ID),
                "name": "TikTok ban monitor",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**self.bot_user(), "id": "111111111111111111", "bot": False},
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        )

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = request.match_info.get("guild", "global")
        registered = []
        for n, command in enumerate(request[BODY] or []):
            registered.append(
                {
                    **command,
                    "id": str(5000 + n),
                    "application_id": str(BOT_ID),
                    "version": "1",
                    **({"guild_id": scope} if scope != "global" else {}),
                }
            )
        self.commands[scope] = registered
        return _json(registered)

    async def _callback(self, request: web.Request) -> web.Response:
        log = self.interactions.get(request.match_info["token"])
        if log is None or log.id != request.match_info["iid"] or log.callbacks:
            return _error(404 if log is None else 400, 10062, "Unknown interaction")
        body = request[BODY] or {}
        log.callbacks.append(body)
        kind, data = body.get("type"), body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        message_id = None
        if kind == 5:  # deferred: the first follow-up will fill the "thinking…" message
            log.deferred_ephemeral = bool(data.get("flags", 0) & EPHEMERAL)
        elif kind == 4:
            message = self._new_message(log.channel_id, data, webhook=True)
            log.messages.append(message)
            resource["message"], message_id = message, message["id"]
        elif kind == 7 and log.source_message_id in self.messages:
            message = self.messages[log.source_message_id]
            message.update({k: data[k] for k in ("content", "embeds", "components") if k in data})
            resource["message"], message_id = message, message["id"]
        result = {
            "interaction": {
                "id": log.id,
                "type": 2,
                "response_message_id": message_id,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL),
            },
            "resource": resource,
        }
        return _json(result)

    async def _followup(self, request: web.Request) -> web.Response:
        log = self.interactions.get(request.match_info["token"])
        if log is None:
            return _error(404, 10015, "Unknown Webhook")
        data = dict(request[BODY] or {})
        if log.deferred_ephemeral and not log.messages:
            data["flags"] = data.get("flags", 0) | EPHEMERAL  # the deferral decided
        message = self._new_message(log.channel_id, data, webhook=True)
        log.messages.append(message)
        return _json(message)

    async def _edit_webhook(self, request: web.Request) -> web.Response:
        log = self.interactions.get(request.match_info["token"])
        if log is None or not log.messages:
            return _error(404, 10008, "Unknown Message")
        message = log.messages[0]
        data = request[BODY] or {}
        message.update({k: data[k] for k in ("content", "embeds", "components") if k in data})
        return _json(message)

    def _channel_error(self, cid: str) -> web.Response | None:
        if cid in self.missing_channels:
            return _error(404, 10003, "Unknown Channel")
        if cid in self.forbidden_channels:
            return _error(403, 50001, "Missing Access")
        return None

    async def _post_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        error = self._channel_error(cid)
        if error is not None:
            return error
        message = self._new_message(cid, request[BODY] or {})
        self.channels.setdefault(cid, []).append(message)
        return _json(message)

    async def _history(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        error = self._channel_error(cid)
        if error is not None:
            return error
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "50"))
        newer = [m for m in self.channels.get(cid, []) if int(m["id"]) > after]
        # Discord answers the `limit` messages right after `after`, newest first.
        return _json(list(reversed(newer[:limit])))

    # ------------------------------------------------------------------ messages
    def _snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_id = max(self._last_id + 1, ms << 22)
        return self._last_id

    def _new_message(
        self, channel_id: str, data: dict[str, Any], webhook: bool = False
    ) -> dict[str, Any]:
        components = data.get("components") or []
        for row in components:  # Discord numbers components in what it returns
            row.setdefault("id", next(self._counter))
            for item in row.get("components", []):
                item.setdefault("id", next(self._counter))
        message = {
            "id": str(self._snowflake()),
            "channel_id": channel_id,
            "author": self.bot_user(),
            "content": data.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": data.get("embeds") or [],
            "components": components,
            "pinned": False,
            "type": 20 if webhook else 0,
            "flags": data.get("flags", 0),
        }
        if webhook:
            message["webhook_id"] = str(BOT_ID)
            message["application_id"] = str(BOT_ID)
        self.messages[message["id"]] = message
        return message


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    return 3


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        return json.loads(str(raw)) if raw is not None else None
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
