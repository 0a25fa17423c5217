"""A local HTTP server with the misbehaviours real feed servers have, for tests."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{title}</title><link>https://feed.example/</link><description>t</description>",
    ]
    for item in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "description", "pubDate"):
            if key in item:
                parts.append(f"<{key}>{item[key]}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    conditional: bool = True  # honour If-None-Match / If-Modified-Since
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    hits: int = 0
    not_modified: int = 0


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._runner: web.AppRunner | None = None
        self.base = ""

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def add(self, path: str, **kwargs: object) -> str:
        self.routes[path.lstrip("/")] = Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.match_info["path"])
        if route is None:
            return web.Response(status=404, text="not found")
        route.hits += 1
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.status != 200:
            return web.Response(status=route.status, headers=route.headers, text="error")
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:12] + '"'
        modified = "Mon, 02 Mar 2026 10:00:00 GMT"
        headers = {"ETag": etag, "Last-Modified": modified, **route.headers}
        if route.conditional and (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == modified
        ):
            route.not_modified += 1
            return web.Response(status=304, headers=headers)
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        return web.Response(body=body, headers=headers)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
