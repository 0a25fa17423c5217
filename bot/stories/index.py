"""The in-memory story index: exact keys for every item, rich features for recent items only.

Why a window: a development is reported within days; comparing a new item with last year's
coverage costs time and only risks merging a new event into an old story. Items older than
two windows behind the newest item seen are evicted, so adding an item costs the same at 10k
or 10M stored, and memory stays bounded however long the bot runs. Exact identities (URL,
feed+GUID) leave with their entry: an item whose link or GUID is already stored never reaches
the grouper (the poller drops it: its id is a hash of its canonical URL), so the index needs
them only for copies that arrive together.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from bot.stories.features import NUM_PERM, Features
from bot.stories.lsh import BandedLSH

# LSH recall threshold on character-shingle Jaccard: low, because it only proposes
# candidates; the scorer decides.
LSH_THRESHOLD = 0.3
# Inverted-index bounds: only the most recent postings of a key are read, and keys found in
# more than this share of the window (e.g. "2025" in a busy week) are skipped as uninformative.
MAX_POSTINGS = 16
MAX_WORD_POSTINGS = 8  # lede words are many and weak: fewer postings each
MAX_KEY_SHARE = 0.2
MAX_CANDIDATES = 8
MAX_QUERY_KEYS = 16
LSH_RANK = 1e6  # above any sum of key weights
KIND_WEIGHT = {"t:": 2.0, "m:": 2.0, "d:": 1.5, "u:": 1.5, "v:": 0.5, "c:": 0.5, "w:": 0.5}


@dataclass(slots=True)
class Entry:
    id: str
    story: int
    published: float  # epoch seconds
    features: Features


class StoryIndex:
    def __init__(self, window_seconds: float, capacity: int = 10_000) -> None:
        self.window = window_seconds
        self.capacity = capacity
        self.retain = 2 * window_seconds
        self.lsh = BandedLSH(LSH_THRESHOLD, NUM_PERM)
        self.entries: dict[str, Entry] = {}
        self.postings: dict[str, dict[str, None]] = {}  # insertion-ordered set per key
        self.df: Counter[str] = Counter()
        self.by_url: dict[str, int] = {}
        self.by_guid: dict[tuple[str, str], int] = {}
        self.identities: dict[str, tuple[str, tuple[str, str] | None, int]] = {}
        self.members: dict[int, dict[str, None]] = {}  # story -> indexed members
        # story -> heap of (published, order added, id) over its members, stale pairs
        # skipped when they surface: the earliest member is found without rescanning a hot
        # story's hundreds of members each time its earliest one leaves.
        self._seeds: dict[int, list[tuple[float, int, str]]] = {}
        self._added = 0
        # story -> the classifier's category for its first item, while the story has members
        self.categories: dict[int, str | None] = {}
        self.high_water = -math.inf
        self._expiry: list[tuple[float, str]] = []
        self._weights: dict[str, float] = {}  # valid until the next add or drop

    # ------------------------------------------------------------- exact identity
    def remember(
        self, item_id: str, story: int, url: str, guid_key: tuple[str, str] | None
    ) -> None:
        if url:
            self.by_url.setdefault(url, story)
        if guid_key:
            self.by_guid.setdefault(guid_key, story)
        self.identities[item_id] = (url, guid_key, story)

    def exact(self, url: str, guid_key: tuple[str, str] | None) -> tuple[int, str] | None:
        """(story, "url" or "guid") of a known item with the same link or feed+GUID."""
        if url and url in self.by_url:
            return self.by_url[url], "url"
        if guid_key and guid_key in self.by_guid:
            return self.by_guid[guid_key], "guid"
        return None

    def story_of(self, item_id: str) -> int | None:
        known = self.identities.get(item_id)
        return known[2] if known else None

    # ------------------------------------------------------------- near duplicates
    def add(self, entry: Entry) -> None:
        self._weights.clear()
        self.entries[entry.id] = entry
        self.lsh.insert(entry.id, entry.features.minhash)
        entry.features = entry.features.stored()  # 9.6 -> 7.1 KB an entry, measured
        for key in entry.features.index_keys:
            self.postings.setdefault(key, {})[entry.id] = None
            self.df[key] += 1
        self.members.setdefault(entry.story, {})[entry.id] = None
        self._added += 1
        heapq.heappush(
            self._seeds.setdefault(entry.story, []), (entry.published, self._added, entry.id)
        )
        heapq.heappush(self._expiry, (entry.published, entry.id))
        self.high_water = max(self.high_water, entry.published)
        self._evict()

    def _evict(self) -> None:
        """Drop entries older than two windows behind the newest, and the oldest ones beyond
        capacity. The heap may hold stale pairs (forgotten items): they are skipped."""
        horizon = self.high_water - self.retain
        while self._expiry and (self._expiry[0][0] < horizon or len(self.entries) > self.capacity):
            published, item_id = heapq.heappop(self._expiry)
            entry = self.entries.get(item_id)
            if entry is not None and entry.published == published:
                self._drop(entry)
                self._forget_identity(item_id)

    def _drop(self, entry: Entry) -> None:
        self._weights.clear()
        del self.entries[entry.id]
        self.lsh.remove(entry.id)
        for key in entry.features.index_keys:
            posting = self.postings.get(key)
            if posting is not None:
                posting.pop(entry.id, None)
                if not posting:
                    del self.postings[key]
            self.df[key] -= 1
            if self.df[key] <= 0:
                del self.df[key]
        members = self.members.get(entry.story, {})
        members.pop(entry.id, None)
        if not members:
            self.members.pop(entry.story, None)
            self._seeds.pop(entry.story, None)
            self.categories.pop(entry.story, None)

    def seed(self, story: int) -> Entry | None:
        """The story's earliest indexed member (the first one added, among equals)."""
        heap = self._seeds.get(story)
        while heap:
            published, _, item_id = heap[0]
            entry = self.entries.get(item_id)
            if entry is not None and entry.story == story and entry.published == published:
                return entry
            heapq.heappop(heap)  # dropped or forgotten since
        return None

    def forget(self, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            entry = self.entries.get(item_id)
            if entry is not None:
                self._drop(entry)
            self._forget_identity(item_id)

    def _forget_identity(self, item_id: str) -> None:
        known = self.identities.pop(item_id, None)
        if known is None:
            return
        url, guid_key, story = known
        if url and self.by_url.get(url) == story:
            del self.by_url[url]
        if guid_key and self.by_guid.get(guid_key) == story:
            del self.by_guid[guid_key]

    def weight(self, key: str) -> float:
        """Inverse document frequency within the window (smoothed for a young index), scaled
        by how specific the kind of key is: a vote tally or an amount identifies an event;
        an event type ("a vote", "a signature") is shared by many."""
        cached = self._weights.get(key)
        if cached is None:
            idf = math.log((len(self.entries) + 20) / (self.df.get(key, 0) + 1))
            cached = self._weights[key] = idf * KIND_WEIGHT.get(key[:2], 1.0)
        return cached

    def candidates(self, features: Features, published: float) -> list[Entry]:
        """Recent entries that share near-duplicate text (LSH) or rare keys (names, figures,
        lede words), within the time window: a bounded set whatever the index size. Only
        the item's rarest keys are looked up, and only their most recent postings."""
        # Text near-duplicates rank first, by the number of LSH bands they share.
        found: dict[str, float] = {
            item_id: LSH_RANK + bands for item_id, bands in self.lsh.query(features.minhash).items()
        }
        ceiling = MAX_KEY_SHARE * len(self.entries) + MAX_POSTINGS
        postings = self.postings
        # Ties broken by the key itself: `keys` is a set, and its order (salted by
        # PYTHONHASHSEED) must not decide which candidates a run considers.
        present = sorted((len(postings[k]), k) for k in features.index_keys if k in postings)
        for size, key in present[:MAX_QUERY_KEYS]:
            posting = postings[key]
            if size > ceiling:
                break  # sorted by size: every later key is as common
            w = self.weight(key)
            limit = MAX_WORD_POSTINGS if key.startswith("w:") else MAX_POSTINGS
            for item_id in islice(reversed(posting), limit):
                found[item_id] = found.get(item_id, 0.0) + w
        out = []
        # sorted(...)[:n] is what heapq.nlargest returns, ties included, and is faster on the
        # few hundred hits of a crowded index.
        for item_id in sorted(found, key=found.__getitem__, reverse=True)[:MAX_CANDIDATES]:
            entry = self.entries.get(item_id)
            if entry is not None and abs(entry.published - published) <= self.window:
                out.append(entry)
        return out
