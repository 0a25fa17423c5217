"""Wires the core, the scheduler and the adapters whose tokens are set; runs until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.adapters.base import ChatAdapter
from bot.adapters.console import ConsoleAdapter
from bot.commands import CommandRouter
from bot.models import SubscriptionInfo
from bot.scheduling import build_scheduler, last_fire_before, schedule_digests, schedule_poll
from bot.services.delivery import DeliveryResult, DigestDelivery
from bot.services.monitor import Monitor
from bot.timeutil import from_iso, utcnow

log = logging.getLogger(__name__)

# One line per platform: a module with `from_env(env, router) -> adapter | None`.
PLATFORM_MODULES = ("bot.adapters.slack", "bot.adapters.discord")


def chat_adapters(env: Mapping[str, str], router: CommandRouter) -> dict[str, ChatAdapter]:
    adapters: dict[str, ChatAdapter] = {}
    for module_name in PLATFORM_MODULES:
        module = importlib.import_module(module_name)
        adapter = module.from_env(env, router)
        if adapter is not None:
            adapters[adapter.platform] = adapter
    return adapters


def is_due(covered_until: str | None, sub: SubscriptionInfo, now: datetime) -> bool:
    last = last_fire_before(sub, now)
    if last is None:
        return False
    covered = from_iso(covered_until)
    return covered is None or covered < last


async def catch_up(delivery: DigestDelivery, now: datetime) -> list[DeliveryResult]:
    """Runs missed while the bot was down are delivered once, coalesced up to now."""
    store = delivery.store
    results = []
    for sub in store.subscriptions():
        covered = store.scalar(
            "SELECT covered_until FROM subscriptions WHERE platform = ? AND channel = ?",
            [sub.platform, sub.channel],
        )
        pending = store.scalar(
            "SELECT COUNT(*) FROM digests WHERE platform = ? AND channel = ? AND state='pending'",
            [sub.platform, sub.channel],
        )
        if (pending or is_due(covered, sub, now)) and sub.platform in delivery.adapters:
            result = await delivery.deliver(sub, now)
            log.info("catch-up digest %s %s: %s", sub.platform, sub.channel, result.state)
            results.append(result)
    return results


async def run_bot(
    config_path: Path, db_path: Path | None, env: Mapping[str, str] | None = None
) -> int:
    env = env if env is not None else os.environ
    monitor = Monitor.open(config_path, db_path)
    router = CommandRouter(monitor)
    adapters = chat_adapters(env, router)
    console = None
    if not adapters:
        console = ConsoleAdapter(router.handle)
        adapters[console.platform] = console
        log.warning("no chat tokens set: running with the console adapter")
    delivery = DigestDelivery(monitor.store, adapters)
    scheduler = build_scheduler()

    async def poll() -> None:
        report = await monitor.poll()
        log.info(report.summary())

    def reschedule() -> None:
        schedule_digests(scheduler, monitor.store.subscriptions(), delivery)

    schedule_poll(scheduler, monitor.config.settings.poll_interval, poll)
    monitor.subscriptions.listeners.append(reschedule)
    reschedule()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler.start()

    def adapter_ended(task: asyncio.Task[None]) -> None:
        # A platform that cannot start (bad token, port taken) must not fail silently.
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped: %s", task.get_name(), task.exception())
            stop.set()

    tasks = []
    for adapter in adapters.values():
        if adapter is not console:
            task = asyncio.create_task(adapter.start(), name=f"{adapter.platform} adapter")
            task.add_done_callback(adapter_ended)
            tasks.append(task)
    if console is not None and sys.stdin.isatty():
        tasks.append(asyncio.create_task(console.serve()))
    try:
        await catch_up(delivery, utcnow())
        await stop.wait()
    finally:
        log.info("shutting down")
        scheduler.shutdown(wait=False)
        for adapter in adapters.values():
            await adapter.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        monitor.close()
    return 0


async def post_due_digests(
    config_path: Path, db_path: Path | None, env: Mapping[str, str] | None = None
) -> int:
    """`digest --post`: deliver every subscription's digest now, up to this moment."""
    env = env if env is not None else os.environ
    monitor = Monitor.open(config_path, db_path)
    router = CommandRouter(monitor)
    adapters = chat_adapters(env, router)
    adapters.setdefault("console", ConsoleAdapter(router.handle))
    delivery = DigestDelivery(monitor.store, adapters)
    failures = 0
    try:
        for sub in monitor.store.subscriptions():
            result = await delivery.deliver(sub, utcnow())
            print(
                f"{sub.platform} {sub.channel}: {result.state} ({result.stories} stories)"
                + (f" — {result.detail}" if result.detail else "")
            )
            failures += result.state == "failed"
    finally:
        for adapter in adapters.values():
            await adapter.stop()
        monitor.close()
    return 1 if failures else 0
