"""The labelled corpus: loading, spun variants, and the train / held-out split by event group.

Every corpus line reports (or mimics) one news event. Spun copies keep their source's event;
translations were written in another file, often under another key for the same event
("scotus-upholds-2025-01" beside "scotus-upholds-law-2025-01"). So events are first joined into
groups (same date and category, or close dates and a distinctive word of the key in common),
and the split is decided by a hash of the group's key: no copy or translation of a held-out
event is seen in training.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

from bot.models import CATEGORIES
from bot.relevance.spinner import spin

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).with_name("corpus")
# Training-only lines written after the held-out split was fixed (see the datasheet): they never
# enter the held-out split and never move an original line from one side to the other.
SUPPLEMENT = "supplement"
KINDS = ("positive", "hard_negative", "easy_negative")
TEST_SHARE = 25  # percent of event groups held out
SPIN_SHARE = 50  # percent of English corpus items that also get a spun copy
SPLIT_SALT = "split-v1"  # changing it reshuffles the split: never do it to improve a score
SPIN_SALT = "spin-v1"
FEEDBACK_WEIGHT = 5.0  # sample weight of one user correction (see feedback_examples)


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    title: str
    summary: str
    lang: str
    relevant: bool
    label: str | None  # the category; None for negatives (and for uncategorised feedback)
    kind: str  # positive | hard_negative | easy_negative | feedback
    event: str  # the group key: copies of one event always land in the same split
    neg_type: str | None = None
    date: str | None = None
    spun: bool = False
    source: str = "corpus"  # corpus | spinner | feedback
    weight: float = 1.0
    group: str = ""  # the split unit: events that may be copies of one another (see groups())


@dataclass(frozen=True, slots=True)
class LoadIssue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(slots=True)
class Dataset:
    train: list[Example]
    test: list[Example]
    issues: list[LoadIssue] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # supplement ids too near held-out events

    @property
    def all(self) -> list[Example]:
        return self.train + self.test


def corpus_files(corpus_dir: Path | None = None) -> list[Path]:
    return sorted((corpus_dir or CORPUS_DIR).glob("*.jsonl"))


def supplement_files(corpus_dir: Path | None = None) -> list[Path]:
    return sorted(((corpus_dir or CORPUS_DIR) / SUPPLEMENT).glob("*.jsonl"))


def corpus_fingerprint(corpus_dir: Path | None = None) -> str:
    """A digest of the corpus files' names and bytes: any edit means a new model."""
    digest = hashlib.blake2b(digest_size=16)
    root = corpus_dir or CORPUS_DIR
    for path in corpus_files(corpus_dir) + supplement_files(corpus_dir):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _check_row(row: Any) -> str | None:
    """Why a parsed line cannot be used, or None when it can."""
    if not isinstance(row, dict):
        return "not a JSON object"
    for key in ("id", "title", "summary", "lang", "kind"):
        if not isinstance(row.get(key), str):
            return f"missing or non-string {key!r}"
    if not row["id"].strip():
        return "empty id"
    if not (row["title"].strip() or row["summary"].strip()):
        return "empty title and summary"
    if row["kind"] not in KINDS:
        return f"unknown kind {row['kind']!r}"
    label = row.get("label")
    if row["kind"] == "positive" and label not in CATEGORIES:
        return f"positive with unknown label {label!r}"
    if row["kind"] != "positive" and label is not None:
        return f"{row['kind']} with a label {label!r}"
    return None


def _example_from_row(row: Mapping[str, Any]) -> Example:
    event = str(row.get("event") or "").strip()
    return Example(
        id=row["id"].strip(),
        title=row["title"].strip(),
        summary=row["summary"].strip(),
        lang=row["lang"].strip().lower(),
        relevant=row["kind"] == "positive",
        label=row.get("label"),
        kind=row["kind"],
        # An item without an event is its own group.
        event=event or f"id:{row['id'].strip()}",
        neg_type=row.get("neg_type"),
        date=row.get("date"),
    )


def load_file(path: Path, issues: list[LoadIssue]) -> list[Example]:
    """Parse one JSON-lines file, skipping (and reporting) lines that are not usable."""
    examples = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(LoadIssue(path.name, number, f"invalid JSON ({exc.msg})"))
            continue
        reason = _check_row(row)
        if reason is not None:
            issues.append(LoadIssue(path.name, number, reason))
            continue
        examples.append(_example_from_row(row))
    return examples


def load_corpus(
    corpus_dir: Path | None = None, files: Sequence[Path] | None = None
) -> tuple[list[Example], list[LoadIssue]]:
    """All usable corpus lines, first occurrence of each id kept, with the problems found."""
    issues: list[LoadIssue] = []
    seen: set[str] = set()
    examples = []
    for path in corpus_files(corpus_dir) if files is None else files:
        for example in load_file(path, issues):
            if example.id in seen:
                issues.append(LoadIssue(path.name, 0, f"duplicate id {example.id!r} skipped"))
                continue
            seen.add(example.id)
            examples.append(example)
    for issue in issues:
        log.warning("corpus: %s", issue)
    return examples, issues


def _bucket(key: str, salt: str) -> int:
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def is_held_out(group: str) -> bool:
    return _bucket(group, SPLIT_SALT) < TEST_SHARE


# Words of event keys too common to say two keys name one event.
_GENERIC_KEY_WORDS = frozenset({"tiktok", "ban", "bans", "banned", "the", "and", "for", "law"})
_GENERIC_KEY_SHARE = 0.03  # a word in more than 3% of the keys is generic too
_NEAR_DAYS = 3


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _key_words(event: str) -> set[str]:
    return {w for w in event.lower().split("-") if len(w) > 2 and not w.isdigit()}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        self.parent[x] = root
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller key names the group: independent of input order
            self.parent[max(ra, rb)] = min(ra, rb)


def groups(examples: Sequence[Example]) -> dict[str, str]:
    """Event key -> group key. Events are joined when they may be one event in two files:

    - positives with the same date and the same category, or
    - dates within three days and a distinctive word of the key in common ("montana").
    Joining too much only coarsens the split; joining too little would leak translations.
    """
    sets = _UnionFind()
    dates: dict[str, set[date]] = defaultdict(set)
    same_day: dict[tuple[date, str], list[str]] = defaultdict(list)
    for example in examples:
        sets.find(example.event)
        day = _parse_date(example.date)
        if day is None:
            continue
        dates[example.event].add(day)
        if example.relevant and example.label:
            same_day[(day, example.label)].append(example.event)
    for events in same_day.values():
        for other in events[1:]:
            sets.union(events[0], other)
    words = {event: _key_words(event) for event in sets.parent}
    counts = Counter(w for ws in words.values() for w in ws)
    limit = max(2, int(_GENERIC_KEY_SHARE * len(words)))
    distinctive = {
        event: {w for w in ws if w not in _GENERIC_KEY_WORDS and counts[w] <= limit}
        for event, ws in words.items()
    }
    by_word: dict[str, list[str]] = defaultdict(list)
    for event in sorted(distinctive):
        for word in distinctive[event]:
            by_word[word].append(event)
    for events in by_word.values():
        for a, b in combinations(events, 2):
            if any(abs((x - y).days) <= _NEAR_DAYS for x in dates[a] for y in dates[b]):
                sets.union(a, b)
    return {event: sets.find(event) for event in sets.parent}


def with_groups(examples: Sequence[Example]) -> list[Example]:
    mapping = groups(examples)
    return [replace(e, group=mapping[e.event]) for e in examples]


def spun_variant(example: Example) -> Example:
    """The same item as an article spinner would re-publish it (same event, same label)."""
    return replace(
        example,
        id=f"{example.id}~spun",
        title=spin(example.title, seed=f"{example.id}:title"),
        summary=spin(example.summary, seed=f"{example.id}:summary"),
        spun=True,
        source="spinner",
    )


def with_spun_variants(examples: Iterable[Example], share: int = SPIN_SHARE) -> list[Example]:
    """Add a spun copy of a fixed, hash-chosen subset of the English corpus items."""
    out = []
    for example in examples:
        out.append(example)
        chosen = _bucket(example.id, SPIN_SALT) < share
        if chosen and example.lang == "en" and example.source == "corpus":
            out.append(spun_variant(example))
    return out


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    train, test = [], []
    for example in examples:
        (test if is_held_out(example.group or example.event) else train).append(example)
    return train, test


def near_held_out(supplement: Sequence[Example], test: Sequence[Example]) -> set[str]:
    """Ids of supplement lines that may report a held-out event: undated, on a held-out event
    key, or dated within three days of any held-out line (whatever its key or category, since
    a later writer may name the same event differently)."""
    held_days = {d for d in (_parse_date(e.date) for e in test) if d is not None}
    held_events = {e.event for e in test}
    near = set()
    for example in supplement:
        day = _parse_date(example.date)
        if (
            day is None
            or example.event in held_events
            or any(abs((day - other).days) <= _NEAR_DAYS for other in held_days)
        ):
            near.add(example.id)
    return near


def load_dataset(corpus_dir: Path | None = None, extra: Sequence[Example] = ()) -> Dataset:
    """The corpus with spun variants, split by event; the supplement and `extra` (feedback)
    join training only."""
    examples, issues = load_corpus(corpus_dir)
    seen = {e.id for e in examples}
    # The split is decided on the original lines alone, exactly as before the supplement.
    train, test = split(with_spun_variants(with_groups(examples)))
    supplement, more_issues = load_corpus(files=supplement_files(corpus_dir))
    issues += more_issues
    for clash in sorted({e.id for e in supplement} & seen):
        issues.append(LoadIssue(SUPPLEMENT, 0, f"id {clash!r} is already in the corpus: skipped"))
    supplement = [e for e in supplement if e.id not in seen]
    excluded = near_held_out(supplement, test)
    kept = [e for e in supplement if e.id not in excluded]
    mapping = groups([*examples, *kept])
    train.extend(with_spun_variants(replace(e, group=mapping[e.event]) for e in kept))
    train.extend(extra)
    if excluded:
        log.info("corpus: %d supplement lines left out near held-out events", len(excluded))
    return Dataset(
        train=train,
        test=test,
        issues=issues,
        files=corpus_files(corpus_dir) + supplement_files(corpus_dir),
        excluded=sorted(excluded),
    )


def feedback_examples(rows: Iterable[Mapping[str, Any]]) -> list[Example]:
    """Users' verdicts as training examples, sorted by item so row order does not matter.

    Rows: {item_id, title, summary, lang, verdict: "relevant"|"irrelevant", category}. A
    "relevant" row is a positive with the item's stored category (what the model predicted, or
    None, in which case it teaches relevance but not the category).
    """
    examples = []
    for row in rows:
        verdict = row.get("verdict")
        if verdict not in ("relevant", "irrelevant"):
            log.warning("feedback for %s has unknown verdict %r", row.get("item_id"), verdict)
            continue
        relevant = verdict == "relevant"
        category = row.get("category") if relevant else None
        item_id = str(row.get("item_id") or "")
        examples.append(
            Example(
                id=f"feedback:{item_id}",
                title=str(row.get("title") or ""),
                summary=str(row.get("summary") or ""),
                lang=str(row.get("lang") or ""),
                relevant=relevant,
                label=category if category in CATEGORIES else None,
                kind="feedback",
                event=f"feedback:{item_id}",
                group=f"feedback:{item_id}",
                source="feedback",
                # One verified correction among thousands of corpus lines would barely move a
                # linear model; users expect a correction to stick.
                weight=FEEDBACK_WEIGHT,
            )
        )
    return sorted(examples, key=lambda e: e.id)


def feedback_fingerprint(rows: Iterable[Mapping[str, Any]]) -> str:
    """A digest of what training takes from the feedback rows (order-independent)."""
    keys = ("item_id", "title", "summary", "lang", "verdict", "category")
    canon = sorted(
        json.dumps({k: row.get(k) for k in keys}, sort_keys=True, ensure_ascii=False)
        for row in rows
    )
    return hashlib.blake2b("\n".join(canon).encode("utf-8"), digest_size=16).hexdigest()
