"""Poll-cycle benchmark: N synthetic feeds on 127.0.0.1, the real `tiktok-monitor poll`.

Three cycles (cold; warm with nothing changed; warm with 10% changed), each a separate
`tiktok-monitor poll` process pinned to one core, beside two references measured in the
same run: the parse floor (feedparser over the same bytes, in one process on that core, just
before and just after the cold cycle) and a naive loop (sequential feedparser.parse(url), no
conditional GET) over a random sample, scaled.

Usage: python bench/poll.py [--feeds 10000] [--items 30] [--naive-sample 1000]
                            [--relevant-share 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import feedgen

IGNORES_CONDITIONAL_EVERY = 20  # 5% of servers always answer 200 with the same body
POLL_CORE = 0


# --------------------------------------------------------------------------- server process
def serve(
    n_feeds: int,
    n_items: int,
    seed: int,
    port_queue: multiprocessing.Queue,  # type: ignore[type-arg]
    share: float,
) -> None:
    import hashlib

    from aiohttp import web

    versions = [0] * n_feeds
    cache: dict[tuple[int, int], tuple[bytes, str]] = {}
    stamp = "Mon, 02 Mar 2026 10:00:00 GMT"

    def body(i: int) -> tuple[bytes, str]:
        key = (i, versions[i])
        if key not in cache:
            data = feedgen.make_feed(i, n_items, versions[i], seed, share)
            cache.pop((i, versions[i] - 1), None)
            cache[key] = (data, '"' + hashlib.md5(data).hexdigest()[:16] + '"')
        return cache[key]

    async def feed(request: web.Request) -> web.Response:
        i = int(request.match_info["n"])
        data, etag = body(i)
        modified = f"{stamp}-{versions[i]}"
        if i % IGNORES_CONDITIONAL_EVERY != 0 and (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == modified
        ):
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": modified})
        ctype = "application/rss+xml" if b"<rss" in data[:200] else "application/xml"
        headers = {"Content-Type": ctype}
        if i % IGNORES_CONDITIONAL_EVERY != 0:
            headers.update({"ETag": etag, "Last-Modified": modified})
        return web.Response(body=data, headers=headers)

    async def change(request: web.Request) -> web.Response:
        fraction = float(request.query["fraction"])
        rng = random.Random(int(request.query.get("seed", "1")))
        chosen = rng.sample(range(n_feeds), int(n_feeds * fraction))
        for i in chosen:
            versions[i] += 1
        return web.json_response({"changed": len(chosen)})

    async def main() -> None:
        for i in range(n_feeds):  # pre-render so the server is not the bottleneck
            body(i)
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_post("/_change", change)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


# --------------------------------------------------------------------------- measurements
@dataclass
class Cycle:
    name: str
    wall: float
    cpu: float
    peak_rss_mb: float
    report: dict


def measured_poll(name: str, root: Path, config: Path, db: Path, env: dict[str, str]) -> Cycle:
    """One `tiktok-monitor poll` process; its own CPU and peak RSS from wait4()."""
    exe = Path(sys.executable).parent / "tiktok-monitor"
    cmd = [str(exe), "--config", str(config), "--db", str(db), "poll", "--format", "json"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(POLL_CORE), *cmd]  # taskset execs it: same pid
    errors = root / "poll.err"
    start = time.perf_counter()
    with errors.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=root)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"poll failed: {errors.read_text()[-2000:]}")
    return Cycle(
        name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, json.loads(out)
    )


def floor_worker(conn: Connection, n_feeds: int, n_items: int, seed: int, share: float) -> None:
    """A process on the poll's core holding the same bytes the server sends (in this process,
    150 MB would be counted in the poll processes' peak RSS: a fork's child starts with its
    parent's pages). Answers "floor" and "defaults" with CPU seconds, "stop" ends it."""
    import feedparser

    if hasattr(os, "sched_setaffinity"):
        # The machine's two cores need not run at the same speed: the floor is the poll's
        # yardstick, so it is timed on the poll's core.
        os.sched_setaffinity(0, {POLL_CORE})
    bodies = [feedgen.make_feed(i, n_items, 0, seed, share) for i in range(n_feeds)]
    conn.send(sum(map(len, bodies)))
    while (request := conn.recv()) != "stop":
        # With the options production uses; or feedparser's defaults (sanitiser, URI
        # rewriting) over a tenth of the feeds, scaled, for reference.
        lean = request == "floor"
        sample = bodies if lean else bodies[: max(1, len(bodies) // 10)]
        options = {"sanitize_html": False, "resolve_relative_uris": False} if lean else {}
        start = time.process_time()
        for body in sample:
            feedparser.parse(body, **options)
        conn.send((time.process_time() - start) * len(bodies) / len(sample))


def naive(base: str, n_feeds: int, sample: int, seed: int) -> tuple[float, float]:
    """Sequential feedparser.parse(url): no conditional GET, no concurrency. Scaled up."""
    import feedparser

    chosen = random.Random(seed).sample(range(n_feeds), min(sample, n_feeds))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in chosen:
        feedparser.parse(f"{base}/feed/{i}")
    scale = n_feeds / len(chosen)
    return (time.process_time() - cpu0) * scale, (time.perf_counter() - wall0) * scale


def write_config(path: Path, base: str, n_feeds: int) -> None:
    lines = [
        "poll_every: 15m",
        "network:",
        "  allow_private_addresses: true  # the benchmark server is on loopback",
        "  concurrency: 64",
        "  per_host: 64  # one local server stands in for thousands of hosts",
        "feeds:",
    ]
    for i in range(n_feeds):
        lines.append(f"  - url: {base}/feed/{i}")
        lines.append(f"    name: bench {i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--naive-sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--relevant-share",
        type=float,
        default=feedgen.RELEVANT_SHARE,
        help="share of items about the story (classified and grouped); default %(default)s",
    )
    args = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(
        target=serve,
        args=(args.feeds, args.items, args.seed, ports, args.relevant_share),
        daemon=True,
    )
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=600)}"
    root = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    try:
        config, db = root / "feeds.yaml", root / "bench.db"
        write_config(config, base, args.feeds)
        env = {**os.environ, "TIKTOK_MONITOR_MODELS": str(root / "models")}
        subprocess.run(
            [
                str(Path(sys.executable).parent / "tiktok-monitor"),
                "--config",
                str(config),
                "--db",
                str(root / "train.db"),
                "train",
            ],
            check=True,
            env=env,
            cwd=root,
            capture_output=True,
        )
        parent, child = multiprocessing.Pipe()
        worker = multiprocessing.Process(
            target=floor_worker,
            args=(child, args.feeds, args.items, args.seed, args.relevant_share),
            daemon=True,
        )
        worker.start()
        floor_bytes = parent.recv()
        # The floor is timed just before and just after the cold cycle: this machine's speed
        # drifts within minutes, and the cycle is compared with the mean of the two.
        parent.send("floor")
        floors = [parent.recv()]
        cycles = [measured_poll("cold", root, config, db, env)]
        parent.send("floor")
        floors.append(parent.recv())
        parent.send("defaults")
        default_cpu = parent.recv()
        parent.send("stop")
        worker.join()
        floor_cpu = sum(floors) / 2
        cycles.append(measured_poll("warm, unchanged", root, config, db, env))
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{base}/_change?fraction=0.1&seed={args.seed}", method="POST")
        ).read()
        cycles.append(measured_poll("warm, 10% changed", root, config, db, env))
        naive_cpu, naive_wall = naive(base, args.feeds, args.naive_sample, args.seed)
    finally:
        server.terminate()
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"\n{args.feeds} feeds × up to {args.items} items, {args.relevant_share:.0%} about the "
        "story; poll process pinned to one core"
    )
    header = (
        f"{'cycle':<20}{'wall s':>8}{'CPU s':>8}{'RSS MB':>8}{'requests':>10}{'304s':>7}"
        f"{'MB down':>9}{'MB parsed':>10}{'stored':>8}{'×floor':>8}{'×naive':>8}"
    )
    print(header)
    cold_cpu = cycles[0].cpu
    for c in cycles:
        r = c.report
        requests = r["feeds"] - r["skipped"]
        print(
            f"{c.name:<20}{c.wall:8.1f}{c.cpu:8.1f}{c.peak_rss_mb:8.0f}{requests:10d}"
            f"{r['not_modified']:7d}{r['bytes_downloaded'] / 1e6:9.1f}"
            f"{r['bytes_parsed'] / 1e6:10.1f}{r['new_items']:8d}"
            f"{c.cpu / floor_cpu:8.2f}{c.cpu / naive_cpu:8.2f}"
        )
    print(
        f"{'parse floor':<20}{'':8}{floor_cpu:8.1f}{'':8}{'':10}{'':7}{'':9}"
        f"{floor_bytes / 1e6:10.1f}   (feedparser, production options, mean of "
        f"{floors[0]:.1f} s before and {floors[1]:.1f} s after the cold cycle; defaults: "
        f"{default_cpu:.1f} s)"
    )
    print(
        f"{'naive (scaled)':<20}{naive_wall:8.1f}{naive_cpu:8.1f}   "
        f"(sequential feedparser.parse(url) over {args.naive_sample} feeds, ×"
        f"{args.feeds / min(args.naive_sample, args.feeds):.0f})"
    )
    print(
        "\ntargets: cold ≤ 2.5× floor; warm unchanged ≤ 5% of cold CPU and ≤ 60 s wall; "
        "10% changed ≤ 15% of cold; peak RSS ≤ 250 MB"
    )
    print(
        f"measured: cold {cycles[0].cpu / floor_cpu:.2f}× floor; warm unchanged "
        f"{cycles[1].cpu / cold_cpu:.1%} of cold, {cycles[1].wall:.0f} s wall; 10% changed "
        f"{cycles[2].cpu / cold_cpu:.1%} of cold; peak RSS "
        f"{max(c.peak_rss_mb for c in cycles):.0f} MB"
    )


if __name__ == "__main__":
    main()
