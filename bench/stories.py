"""Story grouping cost: adding 100,000 items, per-item cost at 10k vs 100k, rebuild at start.

Synthetic but realistic items: RSS-length titles and summaries over a 6,000-word vocabulary,
1,500 names, figures and dates; about 10% copies (syndicated, spun, summarised, translated,
tracking-URL variants) published hours after their original; 100k items over 180 days (about
23 relevant items an hour, several times what the TikTok story ever produced).

Beside it, in the same run, a naive baseline: each new item compared with every stored item
(measured on 1,000 items against 10k stored, then scaled linearly). And a dense worst case
where all items fall inside one time window, so nothing is ever evicted.

Usage: python bench/stories.py [--items 100000] [--dense 30000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasketch import LeanMinHash, MinHashLSH

from bot.config import StoriesSettings
from bot.ingest.normalize import canonical_url
from bot.store.db import Store
from bot.stories.features import NUM_PERM, compute
from bot.stories.grouper import StoryGrouper, StoryItem, group_items
from bot.stories.index import LSH_THRESHOLD
from bot.stories.lsh import BandedLSH
from bot.stories.score import compare
from bot.timeutil import to_iso

START = datetime(2025, 1, 1, tzinfo=UTC)
CONSONANTS = "bcdfghjklmnprstvwz"
VOWELS = "aeiou"
MONTHS = "January February March April May June July August September October".split()


class Generator:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        words = {self._word(2, 4) for _ in range(9000)}
        self.words = sorted(words)[:6000]
        self.names = sorted({self._word(2, 3).capitalize() for _ in range(3000)})[:1500]
        # A spinner's thesaurus and a "foreign language": word -> other word.
        self.synonym = {w: self.rng.choice(self.words) for w in self.words}
        self.foreign = {w: self._word(2, 4) + "e" for w in self.words}

    def _word(self, low: int, high: int) -> str:
        # Random syllables over the whole alphabet: character n-grams as varied as a real
        # vocabulary's (a handful of fixed syllables would make every text look alike).
        return "".join(
            self.rng.choice(CONSONANTS) + self.rng.choice(VOWELS) + self.rng.choice("  nrst")
            for _ in range(self.rng.randint(low, high))
        ).replace(" ", "")

    def _sentence(self, names: list[str], n: int) -> list[str]:
        out = [self.rng.choice(self.words) for _ in range(n)]
        for name in names:
            out.insert(self.rng.randrange(len(out) + 1), name)
        return out

    def original(self, i: int, at: datetime) -> StoryItem:
        rng = self.rng
        names = rng.sample(self.names, rng.randint(2, 4))
        title = self._sentence(names[:2], rng.randint(6, 9))
        body = self._sentence(names, rng.randint(30, 55))
        if rng.random() < 0.5:
            body += [str(rng.randint(10, 999)), rng.choice(["days", "billion", "users"])]
        if rng.random() < 0.3:
            body += [rng.choice(MONTHS), str(rng.randint(1, 28))]
        if rng.random() < 0.1:
            body += [f"{rng.randint(200, 400)}-{rng.randint(10, 120)}"]
        return StoryItem(
            id=f"o{i}",
            title=" ".join(title).capitalize(),
            summary=" ".join(body).capitalize() + ".",
            lang="en",
            published=at,
            category=rng.choice(["legislation", "courts", "divestiture", "executive"]),
            canonical_url=f"https://outlet{rng.randint(1, 300)}.example/news/{i}",
            feed_url="https://feed.example/rss",
        )

    def copy(self, i: int, source: StoryItem) -> StoryItem:
        rng = self.rng
        kind = rng.choice(["syndicated", "spun", "summary", "translated", "url"])
        title, summary, lang = source.title, source.summary, "en"
        url = f"https://copy{rng.randint(1, 300)}.example/a/{i}"
        if kind == "syndicated":
            title = " ".join(self._sentence([], 7)).capitalize()
        elif kind == "spun":
            swap = lambda t: " ".join(  # noqa: E731
                self.synonym.get(w, w) if rng.random() < 0.3 else w for w in t.split()
            )
            title, summary = swap(title), swap(summary)
        elif kind == "summary":
            summary = " ".join(summary.split()[:14])
        elif kind == "translated":
            tr = lambda t: " ".join(self.foreign.get(w.lower(), w) for w in t.split())  # noqa: E731
            title, summary, lang = tr(title), tr(summary), "fr"
        else:
            url = source.canonical_url + "?utm_source=newsletter&ref=x"
        delay = timedelta(minutes=rng.randint(5, 600))
        return StoryItem(
            id=f"c{i}",
            title=title,
            summary=summary,
            lang=lang,
            published=source.published + delay,
            category=source.category,
            canonical_url=canonical_url(url),
            feed_url="https://feed.example/rss",
        )

    def items(self, n: int, span: timedelta) -> list[StoryItem]:
        out: list[StoryItem] = []
        originals: list[StoryItem] = []
        step = span / n
        for i in range(n):
            if originals and self.rng.random() < 0.1:
                out.append(self.copy(i, self.rng.choice(originals[-50:])))
            else:
                item = self.original(i, START + step * i)
                originals.append(item)
                out.append(item)
        out.sort(key=lambda it: it.published)
        return out


def timed_adds(
    items: list[StoryItem], marks: list[int], settings: StoriesSettings | None = None
) -> tuple[float, dict[int, float]]:
    """Total seconds, and the per-item cost (µs) around each mark: the median CPU time of the
    1,000-item blocks in the 4,000 items ending at the mark (CPU time and medians, because
    this machine is shared and wall-clock blocks are noisy)."""
    grouper = StoryGrouper(settings or StoriesSettings())
    blocks: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(items), 1000):
        t0 = time.process_time()
        group_items(grouper, items[start : start + 1000])
        blocks.append((time.process_time() - t0) / 1000 * 1e6)
    total = time.perf_counter() - started
    per_mark = {m: statistics.median(blocks[max(0, m // 1000 - 4) : m // 1000]) for m in marks}
    return total, per_mark


def lsh_comparison(items: list[StoryItem], n: int = 3000) -> tuple[float, float]:
    """µs per insert+query: datasketch's MinHashLSH vs BandedLSH, same signatures and bands."""
    signatures = [compute(i.title, i.summary, i.lang).minhash for i in items[:n]]
    reference = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    lean = [LeanMinHash(seed=1, hashvalues=s, scheme="affine32") for s in signatures]
    t0 = time.process_time()
    for i, m in enumerate(lean):
        reference.query(m)
        reference.insert(i, m, check_duplication=False)
    theirs = (time.process_time() - t0) / n * 1e6
    ours_lsh = BandedLSH(LSH_THRESHOLD, NUM_PERM)
    t0 = time.process_time()
    for i, s in enumerate(signatures):
        ours_lsh.query(s)
        ours_lsh.insert(i, s)
    ours = (time.process_time() - t0) / n * 1e6
    return theirs, ours


def naive_baseline(items: list[StoryItem], stored: int, probes: int) -> float:
    """µs per new item when compared with all `stored` items (features precomputed)."""
    pool = [compute(i.title, i.summary, i.lang) for i in items[:stored]]
    grouper = StoryGrouper(StoriesSettings())
    weight = grouper.index.weight
    t0 = time.perf_counter()
    for item in items[stored : stored + probes]:
        features = compute(item.title, item.summary, item.lang)
        best = 0.0
        for other in pool:
            best = max(best, compare(features, other, weight).score())
    return (time.perf_counter() - t0) / probes * 1e6


def build_store(path: Path, items: list[StoryItem]) -> Store:
    """A database as the poller leaves it: relevant items, each with its story."""
    store = Store(path)
    grouper = StoryGrouper(StoriesSettings())
    decisions = group_items(grouper, items)
    by_id = {i.id: i for i in items}
    item_rows, story_rows = [], []
    for item_id, story, new in decisions:
        item = by_id[item_id]
        published = to_iso(item.published)
        item_rows.append(
            (item_id, item.feed_url, item.guid, item.canonical_url, item.canonical_url,
             item.title, item.summary, item.lang, published, published, item.category, story)
        )  # fmt: skip
        if new:
            story_rows.append((story, item.title, item.category, item_id, published, published))
    with store.transaction():
        store.db.conn.executemany(
            "INSERT OR IGNORE INTO items (id, feed_url, guid, url, canonical_url, title, "
            "summary, lang, published, fetched, relevant, category, story_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            item_rows,
        )
        store.db.conn.executemany(
            "INSERT INTO stories (id, title, category, item_id, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            story_rows,
        )
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dense", type=int, default=30_000, help="items in the dense run")
    args = parser.parse_args()
    n = args.items
    gen = Generator()
    items = gen.items(n, timedelta(days=180))
    copies = sum(1 for i in items if i.id.startswith("c"))
    print(f"{n} items over 180 days, {copies} copies ({copies / n:.0%})")

    total, marks = timed_adds(items, [10_000, n])
    at10, at_n = marks[10_000], marks[n]
    print(f"add {n} items: {total:.1f} s wall ({total / n * 1e6:.0f} µs/item)")
    print(f"  per item (CPU) at 10k stored: {at10:.0f} µs; at {n // 1000}k stored: {at_n:.0f} µs"
          f" (ratio {at_n / at10:.2f}, target <= 2)")  # fmt: skip

    naive = naive_baseline(items, 10_000, 200)
    naive_total = naive / 10_000 * (n * n / 2) / 1e6
    print(f"naive baseline (compare with every stored item): {naive:.0f} µs/item at 10k "
          f"stored, ~{naive * n / 10_000 / 1e3:.0f} ms/item at {n // 1000}k; "
          f"~{naive_total / 3600:.1f} h to add {n} items")  # fmt: skip

    theirs, ours = lsh_comparison(items)
    print(f"LSH insert+query: datasketch MinHashLSH {theirs:.0f} µs, BandedLSH {ours:.0f} µs")

    dense = Generator(seed=11).items(args.dense, timedelta(hours=48))
    d_total, d_marks = timed_adds(dense, [10_000, args.dense])
    print(f"dense worst case ({args.dense} items inside one 72 h window): {d_total:.1f} s; "
          f"per item at 10k: {d_marks[10_000]:.0f} µs, at {args.dense // 1000}k: "
          f"{d_marks[args.dense]:.0f} µs (index capped at max_indexed)")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        for label, data in (("", items), (", dense worst case", dense)):
            store = build_store(Path(tmp) / f"bench{len(label)}.db", data)
            t0 = time.perf_counter()
            rebuilt = StoryGrouper.from_store(store, StoriesSettings())
            _ = rebuilt.index  # rebuilt on first use: force it inside the timing
            took = time.perf_counter() - t0
            print(f"rebuild from a store of {len(data)} grouped items{label}: {took:.2f} s "
                  f"({len(rebuilt.index.entries)} recent items re-indexed, "
                  f"{len(rebuilt.index.identities)} identities)")  # fmt: skip
            store.close()


if __name__ == "__main__":
    main()
