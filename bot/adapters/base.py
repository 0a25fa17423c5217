"""What every chat adapter offers the core. A new platform implements this in one file."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.models import Digest


class PostError(Exception):
    """Posting to a channel failed; `permanent` errors (channel gone, bot not invited) are
    recorded against the subscription instead of being retried forever."""

    def __init__(self, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


class ChatAdapter(Protocol):
    platform: str

    async def start(self) -> None:
        """Connect and serve commands until stop() is called."""

    async def stop(self) -> None: ...

    async def post_digest(self, channel: str, digest: Digest, run_key: str) -> None:
        """Post a digest; run_key marks the message so already_posted() can find it."""

    async def already_posted(self, channel: str, run_key: str, since: datetime) -> bool:
        """Whether a digest with this run_key reached the channel (crash recovery)."""
