"""CPU per conditional GET, aiohttp vs httpx, against a local server that answers 304.

Why the fetcher uses aiohttp. The server runs in a separate process, so the figures are the
client's own CPU (process time). Usage: python bench/http_clients.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time

from aiohttp import web

ETAG = '"v1"'


def serve(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(body=b"<rss/>", headers={"ETag": ETAG})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{name}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


async def with_aiohttp(base: str, n: int, concurrency: int) -> None:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            async with sem, session.get(f"{base}/f{i}", headers={"If-None-Match": ETAG}) as r:
                assert r.status == 304

        await asyncio.gather(*(one(i) for i in range(n)))


async def with_httpx(base: str, n: int, concurrency: int) -> None:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(i: int) -> None:
            async with sem:
                r = await client.get(f"{base}/f{i}", headers={"If-None-Match": ETAG})
                assert r.status_code == 304

        await asyncio.gather(*(one(i) for i in range(n)))


def measure(name: str, fn, base: str, n: int, concurrency: int) -> float:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    asyncio.run(fn(base, n, concurrency))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    per = cpu / n * 1000
    print(f"{name:<8} {n} requests: {cpu:6.2f} s CPU, {wall:6.2f} s wall, {per:.3f} ms CPU/request")
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=10)}"
    try:
        a = measure("aiohttp", with_aiohttp, base, args.requests, args.concurrency)
        try:
            h = measure("httpx", with_httpx, base, args.requests, args.concurrency)
        except ImportError:
            print("httpx not installed (pip install -e '.[bench]') — no comparison")
            return
        print(f"httpx / aiohttp CPU per request: {h / a:.1f}x")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
