"""The interface between the filter and any trained model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class TextInput:
    id: str
    title: str
    summary: str
    lang: str = ""


@dataclass(slots=True)
class ModelOutput:
    score: float  # calibrated probability that the item reports a ban development
    category: str | None  # one of models.CATEGORIES
    category_score: float


class RelevanceModel(Protocol):
    name: str

    def predict(self, inputs: Sequence[TextInput]) -> list[ModelOutput]: ...

    def explain(self, text: TextInput, top: int = 8) -> list[tuple[str, float]]: ...
