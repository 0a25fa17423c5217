"""Two stages: the keyword gate, then the trained model on what the gate lets through."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Item, Verdict
from bot.relevance.keywords import KeywordGate
from bot.relevance.model import RelevanceModel, TextInput


class RelevanceFilter:
    def __init__(
        self, model: RelevanceModel | None, threshold: float, gate: KeywordGate | None = None
    ) -> None:
        self.gate = gate or KeywordGate()
        self.model = model
        self.threshold = threshold

    def judge(self, items: Sequence[Item]) -> list[Verdict]:
        return self.judge_texts([TextInput(i.id, i.title, i.summary, i.lang) for i in items])

    def judge_texts(self, texts: Sequence[TextInput]) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(texts)
        passed: list[int] = []
        for index, text in enumerate(texts):
            if self.gate.passes(text.title, text.summary):
                passed.append(index)
            else:
                verdicts[index] = Verdict(False, 0.0, None, "keyword")
        if passed and self.model is None:
            for index in passed:
                verdicts[index] = Verdict(True, 1.0, None, "keyword")
        elif passed and self.model is not None:
            outputs = self.model.predict([texts[i] for i in passed])
            for index, out in zip(passed, outputs, strict=True):
                verdicts[index] = Verdict(
                    relevant=out.score >= self.threshold,
                    score=round(out.score, 4),
                    category=out.category,
                    stage=self.model.name,
                )
        return [v for v in verdicts if v is not None]
