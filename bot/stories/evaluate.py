"""Story-grouping evaluation: B-cubed precision/recall/F1, copy join rates, look-alike merges.

Items are fed in published order through `group_items`, exactly as the poller would see them.
Join rates ask, per kind of copy, whether the copy landed in the story of its original (the
earliest "original" item of its gold story). Items of kind "lookalike" are independent
reports of their own story worded like another one: their join rate is shown apart, as
information. A look-alike story is wrongly merged when any of its items shares a predicted
story with the story it is confusable with.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import StoriesSettings
from bot.ingest.language import detect_language
from bot.ingest.normalize import canonical_url, html_to_text
from bot.stories.grouper import StoryGrouper, StoryItem, group_items

DEFAULT_EVALSET = Path(__file__).resolve().parent / "evalset.jsonl"
COPY_KINDS = ("syndicated", "spun", "translated", "summary", "url_variant")
JOIN_KINDS = (*COPY_KINDS, "lookalike")
TARGETS = {"f1": 0.90, "precision": 0.95, "translated": 0.80}


@dataclass(slots=True)
class StoryEvalReport:
    path: str
    items: int
    gold_stories: int
    predicted_stories: int
    precision: float
    recall: float
    f1: float
    joined: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (joined, total)
    lookalike_pairs: int = 0
    lookalike_merged: int = 0
    misses: list[str] = field(default_factory=list)  # copies that did not join, for reading
    merges: list[str] = field(default_factory=list)  # look-alike pairs merged, for reading

    def join_rate(self, kind: str) -> float:
        joined, total = self.joined.get(kind, (0, 0))
        return joined / total if total else 1.0

    @property
    def passed(self) -> bool:
        return (
            self.f1 >= TARGETS["f1"]
            and self.precision >= TARGETS["precision"]
            and self.join_rate("translated") >= TARGETS["translated"]
        )

    def format(self) -> str:
        lines = [
            f"Story grouping on {self.path}",
            f"  items {self.items}, gold stories {self.gold_stories}, "
            f"predicted stories {self.predicted_stories}",
            f"  B-cubed precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}",
            "  copies joined to their original:",
        ]
        for kind in JOIN_KINDS:
            joined, total = self.joined.get(kind, (0, 0))
            if total:
                label = "(independent reports, not copies)" if kind == "lookalike" else ""
                lines.append(
                    f"    {kind:<12} {joined:>4}/{total:<4} {joined / total:6.1%}  {label}".rstrip()
                )
        lines.append(
            f"  look-alike stories wrongly merged: {self.lookalike_merged}/{self.lookalike_pairs}"
        )
        lines.append(
            f"  targets (F1 >= {TARGETS['f1']}, precision >= {TARGETS['precision']}, "
            f"translations >= {TARGETS['translated']:.0%}): "
            + ("met" if self.passed else "NOT met")
        )
        for title, rows in (("missed copies", self.misses), ("wrong merges", self.merges)):
            if rows:
                lines.append(f"  {title} (first {min(len(rows), 10)}):")
                lines.extend(f"    {row}" for row in rows[:10])
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["joined"] = {
            k: {"joined": j, "total": t, "rate": j / t if t else None}
            for k, (j, t) in self.joined.items()
        }
        data["passed"] = self.passed
        return data


@dataclass(slots=True)
class _Gold:
    id: str
    story: str
    kind: str
    title: str
    confusable_with: str
    published: datetime


def load_items(path: Path) -> tuple[list[StoryItem], list[_Gold]]:
    items: list[StoryItem] = []
    gold: list[_Gold] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        title = html_to_text(row.get("title", ""))
        summary = html_to_text(row.get("summary", ""))
        published = datetime.fromisoformat(row["published"].replace("Z", "+00:00"))
        items.append(
            StoryItem(
                id=str(row["id"]),
                title=title,
                summary=summary,
                lang=row.get("lang") or detect_language(f"{title}. {summary}"),
                published=published,
                category=row.get("category"),
                canonical_url=canonical_url(row.get("link", "")),
                feed_url=row.get("outlet", ""),
            )
        )
        gold.append(
            _Gold(
                str(row["id"]),
                str(row["story"]),
                row.get("kind", "original"),
                title,
                row.get("confusable_with") or "",
                published,
            )
        )
    return items, gold


def evaluate_stories(
    path: Path | None = None, settings: StoriesSettings | None = None
) -> StoryEvalReport:
    source = path or DEFAULT_EVALSET
    items, gold = load_items(source)
    grouper = StoryGrouper(settings or StoriesSettings())
    predicted = {item_id: story for item_id, story, _ in group_items(grouper, items)}
    return score(str(source), gold, predicted)


def score(label: str, gold: list[_Gold], predicted: dict[str, int]) -> StoryEvalReport:
    by_gold: dict[str, list[_Gold]] = defaultdict(list)
    by_pred: dict[int, set[str]] = defaultdict(set)
    for g in gold:
        by_gold[g.story].append(g)
        by_pred[predicted[g.id]].add(g.id)
    gold_of = {g.id: g.story for g in gold}
    precision = recall = 0.0
    for g in gold:
        cluster = by_pred[predicted[g.id]]
        correct = sum(1 for other in cluster if gold_of[other] == g.story)
        precision += correct / len(cluster)
        recall += correct / len(by_gold[g.story])
    n = len(gold) or 1
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    report = StoryEvalReport(
        path=label,
        items=len(gold),
        gold_stories=len(by_gold),
        predicted_stories=len(by_pred),
        precision=precision,
        recall=recall,
        f1=f1,
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for members in by_gold.values():
        members = sorted(members, key=lambda m: m.published)
        anchor = next((m for m in members if m.kind == "original"), members[0])
        for m in members:
            if m.kind not in JOIN_KINDS or m is anchor:
                continue
            counts[m.kind][1] += 1
            if predicted[m.id] == predicted[anchor.id]:
                counts[m.kind][0] += 1
            else:
                report.misses.append(f"{m.kind} {m.id} {m.title[:60]!r} (story {m.story})")
    report.joined = {k: (v[0], v[1]) for k, v in counts.items()}
    for story, members in by_gold.items():
        targets = {m.confusable_with for m in members if m.confusable_with}
        for target in sorted(targets):
            if target not in by_gold:
                continue
            report.lookalike_pairs += 1
            mine = {predicted[m.id] for m in members}
            theirs = {predicted[m.id] for m in by_gold[target]}
            if mine & theirs:
                report.lookalike_merged += 1
                report.merges.append(f"{story} merged with {target}")
    return report
