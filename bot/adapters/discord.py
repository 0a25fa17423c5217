"""The Discord adapter: `/tiktok …` slash commands in, embeds out; digests over REST.

Thin by design: typed options become the same text a user would type (`search supreme court`),
the CommandRouter answers, discord_embeds renders. Environment:

- DISCORD_BOT_TOKEN (required; never logged)
- DISCORD_GUILD_ID (optional): register the commands on that server only, which is instant;
  otherwise they are registered globally.
- DISCORD_API_URL (optional): another REST base, e.g. `http://127.0.0.1:8080/api/v10` (a bare
  host gets `/api/v10`); the gateway address is then asked of that server (GET /gateway/bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.adapters.base import PostError
from bot.adapters.discord_embeds import (
    FeedbackButton,
    Outgoing,
    feedback_view,
    marked_view,
    neutralise,
    parse_footer,
    render_digest,
    render_response,
)
from bot.commands import CommandRouter
from bot.models import Caller, Digest, Response
from bot.services.feedback import FeedbackError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# already_posted() reads at most this many messages after the run started.
HISTORY_LIMIT = 500
# Clock skew between us and Discord when turning `since` into a snowflake.
SKEW = timedelta(minutes=2)
PUBLIC_HELP = "Show the answer to everyone in the channel (default: only you)"


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(repr=False)
    guild_id: int | None = None
    api_url: str | None = None


def from_env(env: Mapping[str, str], router: CommandRouter) -> DiscordAdapter | None:
    token = (env.get("DISCORD_BOT_TOKEN") or "").strip()
    if not token:
        return None
    guild = (env.get("DISCORD_GUILD_ID") or "").strip()
    if guild and not guild.isdigit():
        raise ValueError("DISCORD_GUILD_ID must be a server id (digits only)")
    api_url = (env.get("DISCORD_API_URL") or "").strip().rstrip("/") or None
    if api_url and not yarl.URL(api_url).path.strip("/"):
        api_url += "/api/v10"  # a bare host means the same API version discord.py speaks
    config = DiscordConfig(token=token, guild_id=int(guild) if guild else None, api_url=api_url)
    return DiscordAdapter(config, router)


# ----------------------------------------------------------------------------- commands
def command_text(name: str, args: Sequence[str | None] = (), public: bool = False) -> str:
    """The text a user would have typed; multi-word values are quoted so they stay one."""
    words = [name, *(shlex.quote(a) for a in args if a)]
    if public:
        words.append("public")
    return " ".join(words)


def caller_from(interaction: discord.Interaction[Any]) -> Caller:
    perms = interaction.permissions
    # Manage Server (or Administrator) in a server makes a Discord admin; DMs have no admins
    # except the ids listed under `admins:`.
    is_admin = interaction.guild_id is not None and (perms.manage_guild or perms.administrator)
    return Caller(
        platform="discord",
        user_id=str(interaction.user.id),
        channel_id=str(interaction.channel_id or ""),
        is_platform_admin=bool(is_admin),
        display_name=interaction.user.display_name,
    )


def _categories(text: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", (text or "").lower()) if w]


Period = app_commands.Choice[str]
PERIODS = [Period(name="last 24 hours", value="24h"), Period(name="last 7 days", value="7d")]
SCHEDULES = [
    Period(name="every day", value="daily"),
    Period(name="weekdays", value="weekdays"),
    Period(name="weekly (Mondays)", value="weekly"),
]
VERDICTS = [
    Period(name="relevant", value="relevant"),
    Period(name="not relevant", value="irrelevant"),
]


class TikTokCommands(app_commands.Group):
    """`/tiktok …`. No default_member_permissions here: it would hide status from members;
    the admin subcommands are checked at run time by the router."""

    feeds = app_commands.Group(name="feeds", description="The news feeds the bot follows")

    def __init__(self, adapter: DiscordAdapter) -> None:
        super().__init__(name="tiktok", description="Follow the US TikTok ban story")
        self.adapter = adapter

    @app_commands.command(description="Where the story stands: latest per category, feed health")
    @app_commands.describe(public=PUBLIC_HELP)
    async def status(self, interaction: discord.Interaction, public: bool = False) -> None:
        await self.adapter.run(interaction, "status", public=public)

    @app_commands.command(description="The developments of the last day or week, each story once")
    @app_commands.describe(period="How far back (default: last 24 hours)", public=PUBLIC_HELP)
    @app_commands.choices(period=PERIODS)
    async def digest(
        self, interaction: discord.Interaction, period: Period | None = None, public: bool = False
    ) -> None:
        await self.adapter.run(interaction, "digest", [period.value if period else None], public)

    @app_commands.command(description="Find stories, e.g. supreme court")
    @app_commands.describe(query="Words to look for", public=PUBLIC_HELP)
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        public: bool = False,
    ) -> None:
        await self.adapter.run(interaction, "search", [query], public)

    @app_commands.command(description="Daily digest in this channel (Manage Server or admins)")
    @app_commands.describe(
        time="HH:MM, 24-hour (default from feeds.yaml)",
        timezone="IANA time zone, e.g. Europe/Paris or America/New_York",
        schedule="How often (default: every day)",
        categories="Only these, space-separated, e.g. courts legislation (default: all)",
        quiet="Post nothing on days without news (default: a short line)",
        public=PUBLIC_HELP,
    )
    @app_commands.choices(schedule=SCHEDULES)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        time: app_commands.Range[str, 4, 5] | None = None,
        timezone: str | None = None,
        schedule: Period | None = None,
        categories: str | None = None,
        quiet: bool = False,
        public: bool = False,
    ) -> None:
        args = [time, timezone, schedule.value if schedule else None, *_categories(categories)]
        await self.adapter.run(
            interaction, "subscribe", [*args, "quiet" if quiet else None], public
        )

    @app_commands.command(description="Stop this channel's digest (Manage Server or admins)")
    @app_commands.describe(public=PUBLIC_HELP)
    async def unsubscribe(self, interaction: discord.Interaction, public: bool = False) -> None:
        await self.adapter.run(interaction, "unsubscribe", public=public)

    @app_commands.command(description="Correct the filter: item codes are shown in digests")
    @app_commands.describe(
        item="The item code, e.g. 3fa2b9c1", verdict="Your verdict", public=PUBLIC_HELP
    )
    @app_commands.choices(verdict=VERDICTS)
    async def feedback(
        self,
        interaction: discord.Interaction,
        item: app_commands.Range[str, 6, 64],
        verdict: Period,
        public: bool = False,
    ) -> None:
        await self.adapter.run(interaction, "feedback", [item, verdict.value], public)

    @app_commands.command(description="What the bot can do")
    @app_commands.describe(public=PUBLIC_HELP)
    async def help(self, interaction: discord.Interaction, public: bool = False) -> None:
        await self.adapter.run(interaction, "help", public=public)

    @feeds.command(name="list", description="The feeds and their health, worst first")
    @app_commands.describe(public=PUBLIC_HELP)
    async def feeds_list(self, interaction: discord.Interaction, public: bool = False) -> None:
        await self.adapter.run(interaction, "feeds", ["list"], public)

    @feeds.command(name="add", description="Follow a new feed (Manage Server or admins)")
    @app_commands.describe(
        url="The feed's address (RSS, Atom or RDF)", name="A short name", public=PUBLIC_HELP
    )
    async def feeds_add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000],
        name: app_commands.Range[str, 1, 100] | None = None,
        public: bool = False,
    ) -> None:
        await self.adapter.run(interaction, "feeds", ["add", url, name], public)

    @feeds.command(name="remove", description="Stop following a feed (Manage Server or admins)")
    @app_commands.describe(url="The feed's address, as `feeds list` shows it", public=PUBLIC_HELP)
    async def feeds_remove(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000],
        public: bool = False,
    ) -> None:
        await self.adapter.run(interaction, "feeds", ["remove", url], public)


# ----------------------------------------------------------------------------- adapter
class _Client(discord.Client):
    """A Client that knows its adapter, so persistent buttons can reach the router."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        # Slash commands and button clicks need no intent; `guilds` keeps discord.py's state
        # consistent (it warns without it) and costs one small event per server.
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        self.adapter = adapter

    async def setup_hook(self) -> None:
        self.add_dynamic_items(FeedbackButton)


class DiscordAdapter:
    platform = "discord"

    def __init__(self, config: DiscordConfig, router: CommandRouter) -> None:
        self.config = config
        self.router = router
        self.client = _Client(self)
        self.tree = app_commands.CommandTree(self.client)
        self.tree.add_command(TikTokCommands(self))
        self._login_lock = asyncio.Lock()
        self._logged_in = False
        self._stopped = False
        self._parts_seen: dict[str, set[int]] = {}  # run key -> parts already in the channel

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Log in, register the commands, then serve the gateway until stop()."""
        if self._stopped:
            return
        try:
            await self._login()
            await self._point_gateway()
            await self._sync_commands()
            await self.client.connect(reconnect=True)
        except Exception:
            if self._stopped:
                return
            log.exception("Discord adapter stopped with an error")
            raise

    async def stop(self) -> None:
        self._stopped = True
        await self.client.close()

    async def _login(self) -> None:
        async with self._login_lock:
            if self._logged_in:
                return
            if self._stopped:
                raise PostError("the Discord adapter is stopped", permanent=False)
            if self.config.api_url:
                # Every REST call, callback and webhook is built on this class attribute.
                discord.http.Route.BASE = self.config.api_url
            await self.client.login(self.config.token)
            self._logged_in = True

    async def _point_gateway(self) -> None:
        if not self.config.api_url:
            return
        # A plain Client connects to Discord's public gateway without asking; another API
        # server must be asked where its gateway is. A class attribute, like Route.BASE: a
        # session the gateway invalidates reconnects there too.
        _shards, url, _limits = await self.client.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def _sync_commands(self) -> None:
        try:
            if self.config.guild_id is not None:
                guild = discord.Object(id=self.config.guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("Discord: /tiktok registered on server %s", self.config.guild_id)
            else:
                synced = await self.tree.sync()
                log.info("Discord: /tiktok registered globally (may take a while to appear)")
            log.debug("synced %d commands", len(synced))
        except discord.HTTPException as exc:
            # Commands registered by an earlier run keep working; say why, keep serving.
            log.error("Discord: could not register /tiktok: %s %s", exc.status, exc.text)

    # ------------------------------------------------------------- commands
    async def run(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        args: Sequence[str | None] = (),
        public: bool = False,
    ) -> None:
        """Answer a slash command: defer at once (Discord allows 3 s), then follow up."""
        ephemeral = not public
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        try:
            response = await self.router.handle(
                command_text(name, args, public), caller_from(interaction)
            )
            messages = render_response(response)
        except Exception:
            log.exception("/tiktok %s failed", name)
            messages = render_response(
                Response.error("Something went wrong on our side; the operator has the log.")
            )
        for message in messages:
            await interaction.followup.send(
                wait=True, ephemeral=ephemeral, **self._send_kwargs(message)
            )

    async def on_feedback(
        self, interaction: discord.Interaction[Any], item_id: str, verdict: str
    ) -> None:
        """A Relevant / Not relevant click: record it, then show the choice on the message."""
        try:
            text = self.router.monitor.feedback.record(item_id, verdict, caller_from(interaction))
        except FeedbackError as exc:
            await interaction.response.send_message(
                neutralise(f"Could not record that: {exc}"),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        except Exception:
            log.exception("feedback on %s failed", item_id)
            await interaction.response.send_message(
                "Something went wrong on our side; the operator has the log.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.edit_message(
            view=marked_view(interaction.message, item_id, verdict), allowed_mentions=NO_MENTIONS
        )
        await interaction.followup.send(
            neutralise(text), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @staticmethod
    def _send_kwargs(message: Outgoing) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"embeds": message.embeds, "allowed_mentions": NO_MENTIONS}
        if message.content:
            kwargs["content"] = message.content
        view = feedback_view(message.feedback)
        if view is not None:
            kwargs["view"] = view
        return kwargs

    # ------------------------------------------------------------- digests over REST
    async def post_digest(self, channel: str, digest: Digest, run_key: str) -> None:
        channel_id = _channel_id(channel)
        await self._rest_login()
        target = self.client.get_partial_messageable(channel_id)
        # Parts found by already_posted() after a crash mid-digest are not sent again.
        present = self._parts_seen.pop(run_key, set())
        for part, message in enumerate(render_digest(digest, run_key), 1):
            if part in present:
                continue
            async with _post_errors(channel_id):
                await target.send(**self._send_kwargs(message))

    async def already_posted(self, channel: str, run_key: str, since: datetime) -> bool:
        """Whether every part of the digest tagged `run_key` is in the channel. The parts that
        are there are remembered, so a resumed post_digest() sends only the missing ones."""
        channel_id = _channel_id(channel)
        await self._rest_login()
        target = self.client.get_partial_messageable(channel_id)
        after = discord.Object(id=discord.utils.time_snowflake(since - SKEW, high=False))
        me = self.client.user.id if self.client.user else None
        present: set[int] = set()
        total = 0
        async with _post_errors(channel_id):
            async for message in target.history(limit=HISTORY_LIMIT, after=after):
                if me is not None and message.author.id != me:
                    continue
                for embed in message.embeds:
                    tag = parse_footer(embed.footer.text)
                    if tag is not None and tag[0] == run_key:
                        present.add(tag[1])
                        total = tag[2]
        if total and present >= set(range(1, total + 1)):
            return True
        if present:
            log.warning("%s reached channel %s only in part; sending the rest", run_key, channel)
            self._parts_seen[run_key] = present
        return False

    async def _rest_login(self) -> None:
        """Digests may be posted without start() (`digest --post`): log in over REST only."""
        try:
            await self._login()
        except discord.LoginFailure as exc:
            raise PostError("Discord refused DISCORD_BOT_TOKEN (401)", permanent=False) from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise PostError(f"could not log in to Discord: {exc}", permanent=False) from exc


def _channel_id(channel: str) -> int:
    if not str(channel).isdigit():
        raise PostError(f"{channel!r} is not a Discord channel id", permanent=True)
    return int(channel)


@contextlib.asynccontextmanager
async def _post_errors(channel_id: int) -> AsyncIterator[None]:
    """Discord's answers as PostErrors: a gone channel or a missing permission is permanent
    (recorded against the subscription, shown in status); anything else is retried later."""
    try:
        yield
    except discord.NotFound as exc:
        raise PostError(
            f"Discord channel {channel_id} not found ({exc.status} "
            f"{exc.text or 'Unknown Channel'}): it was deleted or the id is wrong; subscribe "
            "again from an existing channel",
            permanent=True,
        ) from exc
    except discord.Forbidden as exc:
        raise PostError(
            f"the bot may not post in Discord channel {channel_id} ({exc.status} "
            f"{exc.text or 'Missing Access'}): invite it and allow View Channel, Send Messages, "
            "Embed Links and Read Message History there",
            permanent=True,
        ) from exc
    except discord.HTTPException as exc:
        raise PostError(
            f"Discord refused the message for channel {channel_id} ({exc.status} {exc.text})",
            permanent=False,
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise PostError(f"could not reach Discord: {exc!r}", permanent=False) from exc
