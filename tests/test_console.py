"""The console adapter as someone at the terminal uses it."""

from __future__ import annotations

import io

from bot.adapters.console import ConsoleAdapter
from bot.commands import CommandRouter
from bot.services.monitor import Monitor
from tests.conftest import seed_stories


async def test_typed_commands_are_answered(monitor: Monitor) -> None:
    seed_stories(monitor.store, 2, title="Judge blocks Montana TikTok ban, ruling {n}", sources=3)
    stdin = io.StringIO("/tiktok help\n\n/tiktok digest\n/tiktok search montana\n/tiktok dance\n")
    stdout = io.StringIO()
    await ConsoleAdapter(CommandRouter(monitor).handle, stdin=stdin, stdout=stdout).serve()
    out = stdout.getvalue()
    assert "/tiktok status" in out  # help
    assert "2 developments:" in out and "+2 sources" in out
    assert "Search: montana" in out and "Judge blocks Montana TikTok ban, ruling 0" in out
    assert "Error: Unknown command `dance`" in out
