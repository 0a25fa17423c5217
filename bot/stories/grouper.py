"""Group relevant items into stories: one story per development, however often it is reported.

The poller and the CLI both go through `group_items`. Decisions, in order:
1. the same canonical URL or the same (feed, GUID) as a known item: that item's story;
2. otherwise the best-scoring recent candidate (near-duplicate text via MinHash LSH, or shared
   names/figures via an inverted index) whose facts do not clash with the candidate or with
   its story's first item, if the score reaches the configured threshold;
3. otherwise a new story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.config import StoriesSettings
from bot.stories.features import Features, compute
from bot.stories.index import Entry, StoryIndex
from bot.stories.score import compare, key_weight

if TYPE_CHECKING:
    from bot.store.db import Store


# A translation that agrees this strongly on names, figures and stems (the threshold is 0.6)
# vouches for an item even when the story's reports in the item's language do not match it
# by text: they may be a spinner's rewrite, and the item the original under a new headline.
# Without it the outcome depended on which feed a poll happened to store first.
STRONG_CROSS = 0.85


@dataclass(slots=True)
class StoryItem:
    id: str
    title: str
    summary: str
    lang: str
    published: datetime
    category: str | None
    canonical_url: str = ""
    guid: str = ""
    feed_url: str = ""


@dataclass(slots=True)
class _Best:
    score: float = 0.0
    item: str = ""

    def offer(self, score: float, item: str) -> None:
        if score > self.score:
            self.score, self.item = score, item


@dataclass(slots=True)
class Decision:
    story: int
    new: bool
    reason: str  # "url", "guid", "text", "cross-language", "new" or "same item"
    score: float = 0.0
    matched: str = ""


class StoryGrouper:
    def __init__(self, settings: StoriesSettings, next_story_id: int = 1) -> None:
        self.settings = settings
        self.next_story_id = next_story_id
        self._index = StoryIndex(settings.window_hours * 3600.0, settings.max_indexed)
        self._load: Callable[[], None] | None = None

    @property
    def index(self) -> StoryIndex:
        """The index, rebuilt from the store the first time something needs it: a poll that
        finds nothing new (most polls) never pays for the rebuild or holds its memory."""
        if self._load is not None:
            load, self._load = self._load, None
            load()
        return self._index

    def assign(self, item: StoryItem) -> tuple[int, bool]:
        """Return (story_id, is_new) and index the item at once (so later items in the same
        batch can join it)."""
        decision = self.decide(item)
        return decision.story, decision.new

    def decide(self, item: StoryItem) -> Decision:
        """`assign` with the reason, for evaluation and debugging."""
        known = self.index.story_of(item.id)
        if known is not None:  # the same item offered twice (a retried batch)
            return Decision(known, False, "same item")
        guid_key = (item.feed_url, item.guid) if item.guid else None
        published = _epoch(item.published)
        features = compute(item.title, item.summary, item.lang)
        exact = self.index.exact(item.canonical_url, guid_key)
        if exact is not None:
            decision = Decision(exact[0], False, exact[1])
        else:
            decision = self._near(features, published, item.category)
        if decision.new:
            self.index.categories[decision.story] = item.category
        self.index.remember(item.id, decision.story, item.canonical_url, guid_key)
        self.index.add(Entry(item.id, decision.story, published, features))
        return decision

    def _near(self, features: Features, published: float, category: str | None) -> Decision:
        best: Decision | None = None
        best_margin = 0.0
        for story, (same, cross) in self._story_scores(features, published, category).items():
            margin_same = same.score - self.settings.near_duplicate_threshold
            margin_cross = cross.score - self.settings.cross_language_threshold
            if margin_same >= 0:
                margin, match, reason = margin_same, same, "text"
            elif margin_cross >= 0 and (
                cross.score >= STRONG_CROSS or not self._has_language(story, features.lang)
            ):
                margin, match, reason = margin_cross, cross, "cross-language"
            else:
                continue
            # Ranked by the margin over the threshold, not the raw score: a same-language
            # match well above its threshold beats a cross-language one just above its own.
            if best is not None and margin <= best_margin:
                continue
            if self._clashes_with_story(features, story, match.item):
                continue
            best, best_margin = Decision(story, False, reason, match.score, match.item), margin
        if best is not None:
            return best
        story = self.next_story_id
        self.next_story_id += 1
        return Decision(story, True, "new")

    def _story_scores(
        self, features: Features, published: float, category: str | None
    ) -> dict[int, tuple[_Best, _Best]]:
        """Best same-language and best cross-language match per candidate story."""
        scores: dict[int, tuple[_Best, _Best]] = {}
        weight, window = self.index.weight, self.index.window
        categories = self.index.categories
        candidates = self.index.candidates(features, published)
        own = key_weight(features.keys, weight) if candidates else 0.0  # the same each time
        for candidate in candidates:
            proximity = max(0.0, 1.0 - abs(published - candidate.published) / window)
            pair = compare(features, candidate.features, weight, proximity, own)
            score = pair.score()
            if category and categories.get(candidate.story) == category:
                score += 0.05  # the classifier's category is weak but independent evidence
            same, cross = scores.setdefault(candidate.story, (_Best(), _Best()))
            (cross if pair.cross else same).offer(score, candidate.id)
        return scores

    def _has_language(self, story: int, lang: str) -> bool:
        """Does the story have an indexed member in this language? Then an item in that
        language must match it by text: a cross-language match stands alone only when there
        is no same-language report to compare with (an English item that reads unlike the
        story's English reports is another event, however many names it shares with the
        story's French translation)."""
        entries = self.index.entries
        return any(entries[m].features.lang == lang for m in self.index.members.get(story, {}))

    def _clashes_with_story(self, features: Features, story: int, matched: str) -> bool:
        # Guard against chaining: a copy of a copy must still agree with the story's original.
        seed = self.index.seed(story)
        if seed is None or seed.id == matched:
            return False
        return compare(features, seed.features, self.index.weight).veto is not None

    def forget(self, item_ids: Iterable[str]) -> None:
        """Remove items from the index (a rolled-back transaction, or a user marking an item
        irrelevant). Story ids are never reused, so a forgotten new story leaves only a gap."""
        ids = list(item_ids)
        if ids:  # nothing to forget must not load a lazily rebuilt index
            self.index.forget(ids)

    @classmethod
    def from_store(cls, store: Store, settings: StoriesSettings) -> StoryGrouper:
        """A grouper that continues the store's stories: next id = MAX(stories.id)+1 now, and
        the index (items with story_id NOT NULL) rebuilt on first use."""
        from bot.stories.storage import fill_index, next_story_id

        grouper = cls(settings, next_story_id=next_story_id(store))
        grouper._load = lambda: fill_index(grouper, store)
        return grouper


def group_items(grouper: StoryGrouper, items: list[StoryItem]) -> list[tuple[str, int, bool]]:
    """(item id, story id, new) for each item, earliest first: an original published before
    its copies starts the story even when a feed lists the copy first."""
    ordered = sorted(items, key=lambda i: (_epoch(i.published), i.id))
    return [(item.id, *grouper.assign(item)) for item in ordered]


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
