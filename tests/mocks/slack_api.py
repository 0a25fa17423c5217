"""A local stand-in for the Slack Web API and for response_url, on an ephemeral 127.0.0.1 port.

It implements what the adapter and Bolt call (auth.test, users.info, chat.postMessage,
chat.update, conversations.history), captures response_url POSTs, records every request, and
can be told to answer a 429 once or to fail a channel with a Slack error code.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "xoxb-test-not-a-real-token"


@dataclass(slots=True)
class Recorded:
    method: str  # Web API method, or "response_url"
    http_method: str
    args: dict[str, Any]  # query, form and JSON body merged
    authorization: str


@dataclass(slots=True)
class RateLimit:
    method: str
    retry_after: int
    remaining: int = 1


@dataclass
class MockSlackAPI:
    token: str = BOT_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    rate_limits: list[RateLimit] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _seq: int = 0
    _changed: asyncio.Condition | None = None

    # ------------------------------------------------------------------ control
    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def add_user(self, user_id: str, **flags: bool) -> None:
        self.users[user_id] = {"id": user_id, "name": user_id.lower(), **flags}

    def rate_limit_once(self, method: str = "chat.postMessage", retry_after: int = 1) -> None:
        self.rate_limits.append(RateLimit(method, retry_after))

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method]

    def posted(self, channel: str) -> list[dict[str, Any]]:
        return self.messages.get(channel, [])

    async def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until `check()` holds; the adapter answers slash commands after the HTTP ack."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), timeout)

    # ------------------------------------------------------------------ HTTP
    async def _record(self, request: web.Request, method: str) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(await request.post())
        auth = request.headers.get("Authorization", "")
        self.requests.append(Recorded(method, request.method, args, auth))
        return args

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _respond(self, request: web.Request) -> web.Response:
        args = await self._record(request, "response_url")
        self.responses.append({"name": request.match_info["name"], **args})
        await self._notify()
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._record(request, method)
        try:
            for limit in self.rate_limits:
                if limit.method == method and limit.remaining > 0:
                    limit.remaining -= 1
                    return web.json_response(
                        {"ok": False, "error": "ratelimited"},
                        status=429,
                        headers={"Retry-After": str(limit.retry_after)},
                    )
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return web.json_response({"ok": False, "error": "invalid_auth"})
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return web.json_response({"ok": False, "error": "unknown_method"})
            return web.json_response(handler(args))
        finally:
            await self._notify()

    # ------------------------------------------------------------------ methods
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://mock.slack.test/",
            "team": "Mock",
            "team_id": "T0MOCK",
            "user": "tiktok-bot",
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _channel_error(self, channel: str) -> dict[str, Any] | None:
        error = self.channel_errors.get(channel)
        return {"ok": False, "error": error} if error else None

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if error := self._channel_error(channel):
            return error
        self._seq += 1
        message = {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "ts": f"{int(time.time())}.{self._seq:06d}",
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
            "metadata": args.get("metadata"),
            "args": args,
        }
        self.messages.setdefault(channel, []).append(message)
        public = {k: v for k, v in message.items() if k != "args"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": public}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        for message in self.messages.get(channel, []):
            if message["ts"] == args.get("ts"):
                for key in ("text", "blocks", "metadata"):
                    if args.get(key) is not None:
                        message[key] = args[key]
                return {"ok": True, "channel": channel, "ts": message["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if error := self._channel_error(channel):
            return error
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.messages.get(channel, [])) if float(m["ts"]) >= oldest]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start : start + limit]
        messages = []
        for m in page:
            shown = {k: v for k, v in m.items() if k != "args"}
            if not with_metadata:
                shown.pop("metadata", None)
            messages.append(shown)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }
