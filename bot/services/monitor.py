"""The core, assembled: one object every adapter and the CLI talk to."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import ConfigFile
from bot.ingest.language import use_cache_dir
from bot.models import Digest, Status, Story
from bot.relevance.filter import RelevanceFilter
from bot.relevance.model import RelevanceModel
from bot.services.digest import build_digest
from bot.services.feedback import FeedbackService, feedback_rows
from bot.services.feeds import FeedService
from bot.services.poll import Poller, PollReport, Progress
from bot.services.search import search_stories
from bot.services.status import build_status
from bot.services.subscriptions import SubscriptionService
from bot.store.db import Store
from bot.stories.grouper import StoryGrouper
from bot.timeutil import utcnow

log = logging.getLogger(__name__)


def model_root(store: Store) -> Path:
    """Where trained models are cached: $TIKTOK_MONITOR_MODELS, else beside the database."""
    env = os.environ.get("TIKTOK_MONITOR_MODELS")
    if env:
        return Path(env)
    return store.path.parent if str(store.path) != ":memory:" else Path("storage")


def load_relevance_model(
    store: Store, name: str, root: Path | None = None
) -> RelevanceModel | None:
    """The trained model named in feeds.yaml (filter.model); "keywords" means gate only."""
    if name == "keywords":
        return None
    from bot.relevance.classifier import load_model

    return load_model(root or model_root(store), feedback=feedback_rows(store))


class Monitor:
    def __init__(self, config: ConfigFile, store: Store, model: RelevanceModel | None) -> None:
        self.config = config
        self.store = store
        settings = config.settings
        self.relevance = RelevanceFilter(model, settings.filter.threshold)
        self.grouper = StoryGrouper.from_store(store, settings.stories)
        self.feeds = FeedService(config, store)
        self.subscriptions = SubscriptionService(store)
        self.feedback = FeedbackService(store, self.grouper)
        self.poller = Poller(store, settings, self.relevance, self.grouper)
        self.feeds.sync()

    @classmethod
    def open(
        cls, config_path: Path, db_path: Path | None = None, models: Path | None = None
    ) -> Monitor:
        config = ConfigFile(config_path)
        store = Store(db_path)
        models = models or model_root(store)
        use_cache_dir(models / "models")  # py3langid's arrays, beside the trained models
        model = load_relevance_model(store, config.settings.filter.model, models)
        return cls(config, store, model)

    def close(self) -> None:
        self.poller.close()
        self.store.close()

    async def poll(self, force: bool = False, progress: Progress | None = None) -> PollReport:
        self.feeds.sync()
        self.poller.settings = self.config.settings  # an admin may have edited feeds.yaml
        return await self.poller.run(force=force, progress=progress)

    def digest(
        self, period: timedelta = timedelta(hours=24), now: datetime | None = None
    ) -> Digest:
        now = now or utcnow()
        # Periods are half-open; an ad-hoc digest includes what arrived this very second.
        until = now + timedelta(seconds=1)
        return build_digest(self.store, since=now - period, until=until, now=now)

    def status(self, now: datetime | None = None) -> Status:
        return build_status(self.store, now=now)

    def search(self, query: str, limit: int = 10) -> list[Story]:
        return search_stories(self.store, query, limit=limit)
