"""The tiktok-monitor command: parses arguments, calls the core, prints. Nothing more."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.adapters.console import render_digest, render_feed_summary, render_response, render_status
from bot.config import DEFAULT_CONFIG, ConfigError, parse_duration
from bot.models import Caller
from bot.serialize import to_plain
from bot.services.monitor import Monitor
from bot.services.poll import PollReport

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiktok-monitor",
        description="Follow the US TikTok ban story across news feeds; post one clean digest.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="feeds.yaml to use (default: ./feeds.yaml or $TIKTOK_MONITOR_CONFIG)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file (default: storage/monitor.db or $TIKTOK_MONITOR_DB)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="the bot: scheduler plus every adapter whose tokens are set")
    sub.add_parser("demo", help="offline showcase: serve sample feeds locally, poll, print")
    poll = sub.add_parser("poll", help="poll the feeds once now")
    poll.add_argument("--force", action="store_true", help="ignore back-off, poll every feed")
    poll.add_argument("--format", choices=("text", "json"), default="text")

    digest = sub.add_parser("digest", help="print the digest of a period")
    digest.add_argument("--since", default="24h", help="period, e.g. 24h or 7d (default 24h)")
    digest.add_argument("--format", choices=("text", "json"), default="text")
    digest.add_argument(
        "--post",
        action="store_true",
        help="post the digests that are due to their subscribed channels now",
    )

    status = sub.add_parser("status", help="where the story stands")
    status.add_argument("--format", choices=("text", "json"), default="text")

    search = sub.add_parser("search", help="search stored stories")
    search.add_argument("query", nargs="+")
    search.add_argument("--format", choices=("text", "json"), default="text")

    feeds = sub.add_parser("feeds", help="list, add, remove or check feeds")
    feeds_sub = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    feeds_sub.add_parser("list", help="feeds and their health, worst first")
    add = feeds_sub.add_parser("add", help="add a feed (validated and test-fetched)")
    add.add_argument("url")
    add.add_argument("--name", default=None)
    remove = feeds_sub.add_parser("remove", help="remove a feed")
    remove.add_argument("url")
    feeds_sub.add_parser("check", help="fetch every feed once and report, storing nothing")

    classify = sub.add_parser("classify", help="classify JSON lines {id,title,summary,lang?}")
    classify.add_argument("--input", type=Path, default=None, help="file (default: stdin)")
    classify.add_argument("--explain", action="store_true", help="show the top features")
    sub.add_parser("train", help="retrain the relevance model (corpus plus users' feedback)")
    evaluate = sub.add_parser("eval", help="evaluate on the held-out split")
    evaluate.add_argument("--stories", action="store_true", help="evaluate story grouping")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    cluster = sub.add_parser("cluster", help="group JSON lines {id,title,summary,...} into stories")
    cluster.add_argument("--input", type=Path, default=None, help="file (default: stdin)")
    return parser


def config_path(args: argparse.Namespace) -> Path:
    return args.config or Path(os.environ.get("TIKTOK_MONITOR_CONFIG", DEFAULT_CONFIG))


def db_path(args: argparse.Namespace) -> Path | None:
    if args.db:
        return args.db
    env = os.environ.get("TIKTOK_MONITOR_DB")
    return Path(env) if env else None


def open_monitor(args: argparse.Namespace) -> Monitor:
    return Monitor.open(config_path(args), db_path(args))


def emit(data: object, out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(to_plain(data), ensure_ascii=False, indent=2) + "\n")


def poll_with_progress(monitor: Monitor, force: bool) -> PollReport:
    if not sys.stderr.isatty():
        return asyncio.run(monitor.poll(force=force))
    from rich.progress import Progress

    async def go() -> PollReport:
        with Progress(transient=True) as bar:
            task = bar.add_task("Polling feeds", total=None)
            return await monitor.poll(
                force=force,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    return asyncio.run(go())


def cmd_poll(args: argparse.Namespace) -> int:
    monitor = open_monitor(args)
    try:
        report = poll_with_progress(monitor, args.force)
    finally:
        monitor.close()
    if args.format == "json":
        emit(report)
        return 0
    print(report.summary())
    for url, error in report.failures[:20]:
        print(f"  failed: {url}: {error}")
    if len(report.failures) > 20:
        print(f"  … and {len(report.failures) - 20} more (tiktok-monitor feeds list)")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    if args.post:
        from bot.app import post_due_digests

        return asyncio.run(post_due_digests(config_path(args), db_path(args)))
    period = parse_duration(args.since)
    monitor = open_monitor(args)
    try:
        digest = monitor.digest(period)
    finally:
        monitor.close()
    if args.format == "json":
        emit(digest)
    else:
        sys.stdout.write(render_digest(digest))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    monitor = open_monitor(args)
    try:
        status = monitor.status()
    finally:
        monitor.close()
    if args.format == "json":
        emit(status)
    else:
        sys.stdout.write(render_status(status))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    monitor = open_monitor(args)
    try:
        stories = monitor.search(" ".join(args.query))
    finally:
        monitor.close()
    if args.format == "json":
        emit(stories)
        return 0
    from bot.models import Response, ResponseKind

    query = " ".join(args.query)
    text = "" if stories else f"No stories match “{query}”."
    sys.stdout.write(
        render_response(
            Response(kind=ResponseKind.SEARCH, title=f"Search: {query}", stories=stories, text=text)
        )
    )
    return 0


CLI_CALLER = Caller(
    platform="cli", user_id=os.environ.get("USER", "cli"), channel_id="cli", is_platform_admin=True
)


def cmd_feeds(args: argparse.Namespace) -> int:
    from bot.services.feeds import FeedAdminError

    monitor = open_monitor(args)
    try:
        if args.action == "list":
            store = monitor.store
            print(
                render_feed_summary(
                    store.health_summary(), store.feed_health(worst_first=True, limit=50)
                )
            )
        elif args.action == "add":
            print(asyncio.run(monitor.feeds.add(args.url, args.name, CLI_CALLER)))
        elif args.action == "remove":
            print(monitor.feeds.remove(args.url, CLI_CALLER))
        else:
            checks = asyncio.run(monitor.feeds.check_all())
            for check in checks:
                print(
                    f"{'ok  ' if check.ok else 'FAIL'} {check.name} · {check.detail} · {check.url}"
                )
            return 0 if all(c.ok for c in checks) else 1
    except FeedAdminError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    finally:
        monitor.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.server import DemoFeedServer, demo_config

    async def go(workdir: Path) -> int:
        server = DemoFeedServer()
        await server.start()
        try:
            config = workdir / "feeds.yaml"
            config.write_text(demo_config(server), encoding="utf-8")
            # The model cache outlives the throw-away database, so a second demo starts fast.
            models = Path(os.environ.get("TIKTOK_MONITOR_MODELS", "storage"))
            monitor = Monitor.open(config, workdir / "demo.db", models)
            try:
                print(f"Serving {len(server.feeds)} sample feeds on {server.base_url} …")
                first = await monitor.poll()
                print(first.summary())
                second = await monitor.poll(force=True)
                print(
                    f"Second poll (conditional GET): {second.not_modified} of "
                    f"{second.feeds} feeds answered 304 Not Modified.\n"
                )
                sys.stdout.write(render_digest(monitor.digest(timedelta(hours=24))))
                print()
                sys.stdout.write(render_status(monitor.status()))
            finally:
                monitor.close()
        finally:
            await server.stop()
        return 0

    with tempfile.TemporaryDirectory(prefix="tiktok-demo-") as tmp:
        return asyncio.run(go(Path(tmp)))


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    return asyncio.run(run_bot(config_path(args), db_path(args)))


# A poll allocates millions of short-lived objects (feedparser's dicts, item text), nearly all
# freed by reference counting; CPython's default first-generation threshold (700) still runs a
# cyclic collection every few hundred of them: ~2% of a cold cycle's CPU, measured, against
# ~0.4% at 10,000 (memory unchanged: few of these objects are in cycles).
GC_THRESHOLD = (10_000, 10, 10)


def main(argv: list[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLD)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bot import ml_commands

    handlers = {
        "poll": cmd_poll,
        "digest": cmd_digest,
        "status": cmd_status,
        "search": cmd_search,
        "feeds": cmd_feeds,
        "demo": cmd_demo,
        "run": cmd_run,
        "classify": ml_commands.cmd_classify,
        "train": ml_commands.cmd_train,
        "eval": ml_commands.cmd_eval,
        "cluster": ml_commands.cmd_cluster,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
