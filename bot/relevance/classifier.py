"""The trained second stage: TF-IDF features and two linear models.

- relevance: does the item report a development in the US TikTok ban / sale / restriction
  story? A logistic regression inside CalibratedClassifierCV (sigmoid, ensemble=False).
- category: which of models.CATEGORIES? A one-vs-rest linear SVM on positives only; its
  margins go through a softmax for a category score (a confidence, not a calibrated probability).

Text is lowercased, accent-stripped, digits folded and function words dropped. Five TF-IDF
blocks (sublinear tf, each l2-normalised) feed both models: word 1-2-grams and character
2-5-grams inside word boundaries (char_wb) of title + summary, the same two of the title alone
(the headline states the development), and cue words per category (lexicon.py). Character
n-grams carry the model across languages, inflections and spinner synonyms.

scikit-learn fits the vocabularies, IDF weights and both models; the artefact keeps only their
numbers. Scoring is dictionary look-ups and sparse products, and loading needs neither
scikit-learn nor its import time. tests/test_classifier.py checks that this runtime gives
scikit-learn's own probabilities.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, compress, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from bot.relevance.dataset import (
    Example,
    corpus_fingerprint,
    feedback_examples,
    feedback_fingerprint,
    load_dataset,
)
from bot.relevance.lexicon import PHRASE_HEADS, STOP_WORDS, cues_of
from bot.relevance.model import ModelOutput, TextInput

if TYPE_CHECKING:  # scipy is for training and explaining; scoring a poll needs only numpy
    from scipy import sparse

log = logging.getLogger(__name__)

# Bump whenever features, hyperparameters or training code change: it is part of the cache key.
CODE_VERSION = "tfidf-v1.2"
MODEL_NAME = "tfidf-v1"
MAX_CHARS = 1500  # of title + summary as one text: a feed summary whole, an article's lead
MAX_ARTICLE_CHARS = 6000  # of a long body read in windows: the rest adds cost, not signal
LONG_SUMMARY = 1000  # characters: above this the summary is an article body, not a feed blurb
WINDOW_CHARS = 500  # an article is read in windows about the size of a feed summary
TOP_WINDOWS = 3
DECISION_CHUNK = 64  # docs scored together (see TfidfModel._decisions)
WORD_CACHE = 30_000  # words whose character n-gram ids are kept, per block
KEEP_MODELS = 3  # cached artefacts kept in <storage>/models
CHAR_RANGE = (2, 5)

# Hyperparameters chosen by grouped 5-fold cross-validation on the training split only
# (`tune()` below; the held-out split never took part). On the corpus of 2026-11-23:
#   relevance on word+char, C 3 / 10 / 30: F1 0.914 / 0.919 / 0.919, hard negatives dropped
#     0.906 / 0.914 / 0.913; with the title and cue blocks too: F1 0.911-0.914, 0.903-0.905.
#   category on all blocks, C 5 / 20 / 50 / 100: accuracy 0.808 / 0.821 / 0.820 / 0.815;
#     on word+char only (C 20): 0.777.
# Category, re-tuned before the supplement (accuracy on the folds' positives; LR C 20 = 0.822):
#   logistic regression: C 10 / 50 / 200: 0.812 / 0.821 / 0.815; class_weight balanced 0.825;
#     title blocks x1.5 / x2: 0.820 / 0.805; cue block x2 / x3 / x5: 0.793 / 0.790 / 0.785;
#     word 1-3-grams instead of 1-2: 0.812, as an extra block: 0.822.
#   linear SVM (OvR, squared hinge), C 0.3 / 1 / 3: 0.835 / 0.837 / 0.835; balanced 0.835;
#     without title blocks 0.834; words only 0.818; title x0.7 / x1.3: 0.835 / 0.826;
#     cue x0 / x0.5: 0.763 / 0.825; + word 1-3-gram block 0.839 (not worth a block);
#     Crammer-Singer 0.835; + complement NB logits 0.838; complement NB alone 0.793.
#   `tune()` with the SVM at C 1 (true positives only): category 0.838 (was 0.821), F1 0.919.
RELEVANCE_C = 10.0
CATEGORY_C = 1.0
WORD_MAX_FEATURES = 20_000
CHAR_MAX_FEATURES = 40_000
MIN_DF = 2
RELEVANCE_BLOCKS = ("word", "char")
CATEGORY_BLOCKS = ("word", "char", "title_word", "title_char", "cue")

_DIGITS = re.compile(r"\d")
_ASCII_DIGITS = str.maketrans("123456789", "000000000")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_TOKEN = re.compile(r"\w\w+")
_SENTENCE_END = re.compile(r"(?<![A-Z]\.[A-Z]\.)(?<=[.!?…])\s+")
_PUNCTUATION = ".,;:!?\"'()[]«»“”‘’-–—…"


def normalise(text: str) -> str:
    """Lowercase, strip accents, fold digits (dates and vote counts are not the signal)."""
    return " ".join(_folded(text).split())


def _folded(text: str) -> str:
    text = text.lower()
    if text.isascii():  # most feed text: a translation table is ~5x faster than the regex
        return text.translate(_ASCII_DIGITS)
    return _DIGITS.sub("0", _COMBINING.sub("", unicodedata.normalize("NFKD", text)))


class _KeptWords(dict[str, bool]):
    """word -> is it a content word (not a function word, punctuation aside)? Filled as words
    come: the few thousand frequent ones are then a C-level lookup each."""

    def __missing__(self, word: str) -> bool:
        if len(self) >= WORD_CACHE:
            self.clear()
        kept = self[word] = word.strip(_PUNCTUATION) not in STOP_WORDS
        return kept


_KEPT = _KeptWords()


def _content(text: str) -> str:
    words = _folded(text).split()
    return " ".join(compress(words, map(_KEPT.__getitem__, words)))


@dataclass(frozen=True, slots=True)
class Doc:
    """What the model reads of one item: title + summary (capped), and the title alone."""

    text: str
    title: str


def make_doc(title: str, summary: str) -> Doc:
    title, summary = title.strip(), summary.strip()
    joined = f"{title} . {summary}" if summary else title
    return Doc(text=_content(joined[:MAX_CHARS]), title=_content(title[:MAX_CHARS]))


def compose(title: str, summary: str) -> str:
    """Title + summary as the model reads it (normalised, capped, no function words)."""
    return make_doc(title, summary).text


def article_windows(summary: str, size: int = WINDOW_CHARS) -> list[str]:
    """A long body cut at sentence ends into pieces of about `size` characters."""
    windows: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(summary.strip()):
        if current and len(current) + len(sentence) > size:
            windows.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        windows.append(current)
    return windows


def word_ngrams(text: str) -> list[str]:
    """Word 1- and 2-grams of normalised text (tokens of two or more word characters)."""
    tokens = _TOKEN.findall(text)
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_wb_ngrams(word: str) -> list[str]:
    """Character n-grams of one word padded with spaces, as scikit-learn's char_wb makes."""
    padded = f" {word} "
    size = len(padded)
    lo, hi = CHAR_RANGE
    grams: list[str] = []
    for n in range(lo, min(hi, size) + 1):
        grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def char_ngrams(text: str) -> list[str]:
    return [gram for word in text.split() for gram in char_wb_ngrams(word)]


def cue_features(text: str) -> list[str]:
    """The categories whose cue words or phrases occur in the text, each once."""
    tokens = _TOKEN.findall(text)
    found = {name for token in tokens for name in cues_of(token)}
    # Two-word cues ("white house") can only start with a few words: look only there.
    for first, second in pairwise(tokens):
        if first in PHRASE_HEADS:
            found.update(cues_of(f"{first} {second}"))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class BlockSpec:
    name: str
    field: str  # which part of the Doc it reads: "text" or "title"
    analyzer: Callable[[str], list[str]]
    per_word: bool  # features of a text are the union of its words' (cacheable by word)
    max_features: int | None


BLOCKS: tuple[BlockSpec, ...] = (
    BlockSpec("word", "text", word_ngrams, False, WORD_MAX_FEATURES),
    BlockSpec("char", "text", char_wb_ngrams, True, CHAR_MAX_FEATURES),
    BlockSpec("title_word", "title", word_ngrams, False, WORD_MAX_FEATURES // 2),
    BlockSpec("title_char", "title", char_wb_ngrams, True, CHAR_MAX_FEATURES // 2),
    BlockSpec("cue", "text", cue_features, False, None),
)
_SPECS = {spec.name: spec for spec in BLOCKS}


def _analyse(spec: BlockSpec, text: str) -> list[str]:
    if spec.per_word:
        return [gram for word in text.split() for gram in spec.analyzer(word)]
    return spec.analyzer(text)


def _tfidf_block(lengths: np.ndarray, cols: np.ndarray, idf: np.ndarray) -> sparse.csr_matrix:
    """Counts -> sublinear tf x idf -> l2-normalised rows (TfidfVectorizer's transform)."""
    from scipy import sparse

    n = len(lengths)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    x = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), cols.astype(np.int32), indptr), shape=(n, len(idf))
    )
    x.sum_duplicates()
    x.data = (np.log(x.data) + 1.0) * idf[x.indices]
    counts = np.diff(x.indptr)
    rows_of = np.repeat(np.arange(n), counts)
    norms = np.sqrt(np.bincount(rows_of, weights=x.data**2, minlength=n))
    x.data /= np.repeat(norms, counts).astype(np.float32)  # empty rows have no data to divide
    return x


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _top_mean(values: np.ndarray, k: int = TOP_WINDOWS) -> float:
    return float(np.sort(values)[-k:].mean())


_ID_SIZE = array("i").itemsize  # a C int, read back as np.intc


class _WordIds(dict[str, bytes]):
    """word -> the ids of its character n-grams in one block, as C ints, made on first sight.

    Zipf: most words of a new item have been seen before, so their n-grams are generated and
    looked up once. As bytes, a text's ids are one join of its words' (no Python int per
    n-gram, ~15 a word), and its row one numpy buffer.
    """

    def __init__(self, vocab: Mapping[str, int], analyzer: Callable[[str], list[str]]) -> None:
        super().__init__()
        self.vocab = vocab
        self.analyzer = analyzer

    def __missing__(self, word: str) -> bytes:
        get = self.vocab.get
        ids = array("i", [i for i in map(get, self.analyzer(word)) if i is not None]).tobytes()
        # ~100 bytes a word: bounded so months of news vocabulary cannot grow the bot
        # (200,000 words per block were up to 100 MB); frequent words come back at once.
        if len(self) >= WORD_CACHE:
            self.clear()
        self[word] = ids
        return ids


@dataclass
class Block:
    """One fitted feature block: its vocabulary, IDF weights and place in the weight vector."""

    name: str
    vocab: dict[str, int]
    idf: np.ndarray
    offset: int
    # Runtime only, never saved (per-word blocks only: see _WordIds).
    cache: _WordIds = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.cache = _WordIds(self.vocab, _SPECS[self.name].analyzer)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "cache"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.pop("cache", None)  # artefacts saved before the cache became a _WordIds
        self.__dict__.update(state)
        self.__post_init__()

    @property
    def width(self) -> int:
        return len(self.idf)

    def columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(how many ids each text has, all their ids text after text): the block's features
        found in the texts, a repeated id being a repeated count."""
        n = len(texts)
        if _SPECS[self.name].per_word:
            ids = self.cache.__getitem__
            rows = [b"".join(map(ids, text.split())) for text in texts]
            lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n) // _ID_SIZE
            return lengths, np.frombuffer(b"".join(rows), dtype=np.intc)
        analyzer, get = _SPECS[self.name].analyzer, self.vocab.get
        found = [[i for i in map(get, analyzer(text)) if i is not None] for text in texts]
        lengths = np.fromiter(map(len, found), dtype=np.int64, count=n)
        return lengths, np.fromiter(chain.from_iterable(found), dtype=np.int64, count=lengths.sum())

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return _tfidf_block(*self.columns(texts), self.idf)

    def names(self) -> list[str]:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        prefix = "title:" if self.name.startswith("title") else ""
        if self.name == "cue":
            return [f"cue:{t}" for t in terms]
        if self.name.endswith("char"):
            return [f'{prefix}"{t}"' for t in terms]  # quoted: visibly a fragment
        return [f"{prefix}{t}" for t in terms]


@dataclass
class TfidfModel:
    """Implements bot.relevance.model.RelevanceModel with plain arrays (see module doc)."""

    blocks: list[Block]
    coef: np.ndarray  # relevance weights over the stacked blocks
    intercept: float
    calibration: tuple[float, float]  # Platt's (a, b): p = 1 / (1 + exp(a * f + b))
    category_coef: np.ndarray  # (features, classes): a block's rows are one contiguous slice
    category_intercept: np.ndarray
    classes: tuple[str, ...]
    key: str = ""
    name: str = MODEL_NAME
    _names: np.ndarray | None = field(default=None, repr=False)
    _idf: np.ndarray | None = field(default=None, repr=False)  # all blocks' IDF, end to end

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_names": None, "_idf": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def features(self, docs: Sequence[Doc]) -> sparse.csr_matrix:
        """The stacked TF-IDF blocks of `docs` (the layout of `coef`)."""
        from scipy import sparse

        return sparse.hstack(self._block_features(docs), format="csr")

    def _block_features(self, docs: Sequence[Doc]) -> list[sparse.csr_matrix]:
        return [
            block.transform([getattr(d, _SPECS[block.name].field) for d in docs])
            for block in self.blocks
        ]

    def _decisions(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        if len(docs) <= DECISION_CHUNK:
            return self._chunk_decisions(docs)
        # The key sort below grows as n log n: a big batch is cheaper in small pieces.
        parts = [
            self._chunk_decisions(docs[i : i + DECISION_CHUNK])
            for i in range(0, len(docs), DECISION_CHUNK)
        ]
        return np.concatenate([r for r, _ in parts]), np.concatenate([c for _, c in parts])

    def _chunk_decisions(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        """Both models' decision values, computed as `features(docs) @ coef` would be.

        A poll judges a few items per feed, thousands of times: building a sparse matrix per
        block costs more than the arithmetic. So every (doc, block, column) occurrence goes into
        one key array, and counting, TF-IDF, the per-block L2 norm and both dot products are a
        handful of numpy calls over it (the same maths as `_tfidf_block`).
        """
        n, n_blocks = len(docs), len(self.blocks)
        if self._idf is None:
            self._idf = np.concatenate([b.idf for b in self.blocks])
        width = len(self._idf)
        keys = []
        for index, block in enumerate(self.blocks):
            lengths, cols = block.columns([getattr(d, _SPECS[block.name].field) for d in docs])
            segments = np.repeat(np.arange(n, dtype=np.int64) * n_blocks + index, lengths)
            keys.append(segments * width + cols + block.offset)
        unique, counts = np.unique(np.concatenate(keys), return_counts=True)
        segment, col = np.divmod(unique, width)
        value = (np.log(counts) + 1.0) * self._idf[col]
        norms = np.sqrt(np.bincount(segment, weights=value * value, minlength=n * n_blocks))
        value /= norms[segment]
        doc = segment // n_blocks
        relevance = self.intercept + np.bincount(doc, weights=value * self.coef[col], minlength=n)
        # Keys are sorted, so each doc's entries are one run: sum the runs in one call.
        # Fancy indexing returns a fresh array: scaling it in place saves a second temporary
        # of nnz x classes floats (the same numbers, ~30% less time for this step).
        weighted = self.category_coef[col]
        weighted *= value[:, None]
        sizes = np.bincount(doc, minlength=n)
        filled = sizes > 0
        category = np.tile(self.category_intercept, (n, 1))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        if filled.any():
            category[filled] += np.add.reduceat(weighted, starts[filled], axis=0)
        return relevance, category

    def scores(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated P(relevant) and category probabilities of docs (one row each)."""
        decision, category = self._decisions(docs)
        a, b = self.calibration
        return _sigmoid(-(a * decision + b)), _softmax(category)

    def predict(self, inputs: Sequence[TextInput]) -> list[ModelOutput]:
        """Score feed items; an item whose summary is a whole article is read in windows.

        A long item's relevance is the mean logit of its TOP_WINDOWS strongest pieces (the lead
        and windows of the body): an article is kept when a substantial part of it reports the
        story, not for one passing mention. Its category comes from the lead (title and first
        MAX_CHARS), where news writing states the development; the body is mostly background.
        """
        if not inputs:
            return []
        docs: list[Doc] = []
        spans: list[tuple[int, int]] = []  # rows of each input: lead, then any windows
        for item in inputs:
            start = len(docs)
            docs.append(make_doc(item.title, item.summary))
            if len(item.summary) > LONG_SUMMARY:
                body = item.summary[:MAX_ARTICLE_CHARS]
                docs += [make_doc("", window) for window in article_windows(body)]
            spans.append((start, len(docs)))
        decision, category = self._decisions(docs)
        a, b = self.calibration
        outputs = []
        for start, end in spans:
            logit = decision[start] if end - start == 1 else _top_mean(decision[start:end])
            probs = _softmax(category[start : start + 1])[0]
            best = int(probs.argmax())
            outputs.append(
                ModelOutput(
                    score=float(_sigmoid(np.array(-(a * logit + b)))),
                    category=self.classes[best],
                    category_score=float(probs[best]),
                )
            )
        return outputs

    def feature_names(self) -> np.ndarray:
        """Readable names: words as they are, character n-grams quoted, title: and cue: marked."""
        if self._names is None:
            self._names = np.array([n for b in self.blocks for n in b.names()], dtype=object)
        return self._names

    def explain(self, text: TextInput, top: int = 8) -> list[tuple[str, float]]:
        """The features that pushed the relevance decision most, for and against.

        Contribution = weight x TF-IDF value, in the uncalibrated model's logit units; the
        calibration is monotone, so signs and order carry over to the probability. About half
        of `top` are the strongest positive contributions, the rest the strongest negative.
        Of a long article, the lead is explained.
        """
        x = self.features([make_doc(text.title, text.summary)])
        contrib = x.data * self.coef[x.indices]
        order = np.argsort(-contrib, kind="stable")
        positives = [i for i in order if contrib[i] > 0]
        negatives = [i for i in order[::-1] if contrib[i] < 0]
        n_pos = min(len(positives), max(top - min(len(negatives), top // 2), 0))
        chosen = positives[:n_pos] + negatives[: top - n_pos]
        names = self.feature_names()
        return [(str(names[x.indices[i]]), round(float(contrib[i]), 4)) for i in chosen]


# --- training ---------------------------------------------------------------------------------


@dataclass(slots=True)
class FitParams:
    relevance_c: float = RELEVANCE_C
    category_c: float = CATEGORY_C
    relevance_blocks: tuple[str, ...] = RELEVANCE_BLOCKS
    category_blocks: tuple[str, ...] = CATEGORY_BLOCKS
    min_df: int = MIN_DF


@dataclass(slots=True)
class Fitted:
    """What scikit-learn produced, kept for checks and tuning (never saved)."""

    vectorizers: dict[str, Any]
    relevance: Any
    category: Any
    relevance_cols: np.ndarray  # the stacked columns each model was fit on
    category_cols: np.ndarray

    def transform(self, docs: Sequence[Doc]) -> sparse.csr_matrix:
        from scipy import sparse

        parts = [
            vec.transform([getattr(d, _SPECS[name].field) for d in docs])
            for name, vec in self.vectorizers.items()
        ]
        return sparse.hstack(parts, format="csr")


def fit_estimators(
    docs: Sequence[Doc],
    y: np.ndarray,
    labels: Sequence[str | None],
    weights: np.ndarray,
    params: FitParams,
) -> Fitted:
    """Vectorisers and both models, fit with scikit-learn (deterministic, one thread)."""
    # Imported here: the bot only loads and scores, and scikit-learn costs ~1 s to import.
    from scipy import sparse
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        vectorizers: dict[str, Any] = {}
        parts = []
        for spec in BLOCKS:
            if spec.name not in params.relevance_blocks + params.category_blocks:
                continue
            vec = TfidfVectorizer(
                analyzer=lambda text, spec=spec: _analyse(spec, text),
                min_df=params.min_df,
                max_features=spec.max_features,
                sublinear_tf=True,
                dtype=np.float32,
            )
            parts.append(vec.fit_transform([getattr(d, spec.field) for d in docs]))
            vectorizers[spec.name] = vec
        x = sparse.hstack(parts, format="csr")
        # Each model sees its own blocks; the others' columns get weight 0 in the artefact.
        relevance_cols = _columns(vectorizers, params.relevance_blocks)
        category_cols = _columns(vectorizers, params.category_blocks)
        relevance = CalibratedClassifierCV(
            LogisticRegression(C=params.relevance_c, solver="liblinear", max_iter=2000),
            method="sigmoid",
            cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
            ensemble=False,
        )
        relevance.fit(x[:, relevance_cols], y, sample_weight=weights)
        keep = np.array([label is not None for label in labels]) & (y == 1)
        category = _softmax_svc()(C=params.category_c, dual=True, max_iter=10_000, random_state=0)
        category.fit(
            x[keep][:, category_cols],
            np.array([labels[i] for i in np.flatnonzero(keep)]),
            sample_weight=weights[keep],
        )
    return Fitted(vectorizers, relevance, category, relevance_cols, category_cols)


@lru_cache(maxsize=1)
def _softmax_svc() -> type:
    """LinearSVC whose predict_proba is the softmax of its margins, as the runtime scores it.

    Made on first use: the bot never imports scikit-learn.
    """
    from sklearn.svm import LinearSVC

    class SoftmaxLinearSVC(LinearSVC):
        def predict_proba(self, x: Any) -> np.ndarray:
            return _softmax(np.asarray(self.decision_function(x), dtype=np.float64))

    return SoftmaxLinearSVC


def _columns(vectorizers: Mapping[str, Any], names: Sequence[str]) -> np.ndarray:
    """Indices, in the stacked matrix, of the named blocks' columns."""
    cols, offset = [], 0
    for name, vec in vectorizers.items():
        width = len(vec.idf_)
        if name in names:
            cols.append(np.arange(offset, offset + width))
        offset += width
    return np.concatenate(cols)


def _training_arrays(
    examples: Sequence[Example],
) -> tuple[list[Doc], np.ndarray, list[str | None], np.ndarray]:
    examples = sorted(examples, key=lambda e: e.id)  # input order never changes the model
    docs = [make_doc(e.title, e.summary) for e in examples]
    y = np.array([int(e.relevant) for e in examples])
    labels = [e.label if e.relevant else None for e in examples]
    weights = np.array([e.weight for e in examples], dtype=float)
    return docs, y, labels, weights


def to_runtime(fitted: Fitted, key: str = "") -> TfidfModel:
    """Copy the numbers out of the scikit-learn objects."""
    calibrated = fitted.relevance.calibrated_classifiers_[0]
    base = calibrated.estimator
    sigmoid = calibrated.calibrators[0]
    blocks, offset = [], 0
    for name, vec in fitted.vectorizers.items():
        idf = vec.idf_.astype(np.float32)
        vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        blocks.append(Block(name=name, vocab=vocab, idf=idf, offset=offset))
        offset += len(idf)
    coef = np.zeros(offset)
    coef[fitted.relevance_cols] = base.coef_.ravel()
    category_coef = np.zeros((offset, len(fitted.category.classes_)))
    category_coef[fitted.category_cols] = fitted.category.coef_.T
    return TfidfModel(
        blocks=blocks,
        coef=coef,
        intercept=float(base.intercept_[0]),
        calibration=(float(sigmoid.a_), float(sigmoid.b_)),
        category_coef=category_coef,
        category_intercept=fitted.category.intercept_.astype(np.float64),
        classes=tuple(str(c) for c in fitted.category.classes_),
        key=key,
    )


def fit(examples: Sequence[Example], key: str = "", params: FitParams | None = None) -> TfidfModel:
    """Train both models on `examples`."""
    docs, y, labels, weights = _training_arrays(examples)
    return to_runtime(fit_estimators(docs, y, labels, weights, params or FitParams()), key)


def train_model(
    extra_examples: Sequence[Example] = (), corpus_dir: Path | None = None
) -> TfidfModel:
    """Train on the corpus's training split plus `extra_examples` (users' feedback)."""
    return fit(load_dataset(corpus_dir, extra=extra_examples).train)


# --- the cache --------------------------------------------------------------------------------


def model_key(feedback: Sequence[Mapping[str, Any]] = (), corpus_dir: Path | None = None) -> str:
    """A digest of everything the model is trained from: code, corpus bytes, feedback rows."""
    parts = [CODE_VERSION, corpus_fingerprint(corpus_dir), feedback_fingerprint(feedback)]
    return hashlib.blake2b("|".join(parts).encode("utf-8"), digest_size=10).hexdigest()


def model_path(storage_dir: Path, key: str) -> Path:
    return Path(storage_dir) / "models" / f"{key}.joblib"


def save_model(model: TfidfModel, path: Path) -> None:
    """Write atomically: a concurrent reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(model, handle, compress=0)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(models_dir: Path, keep: int = KEEP_MODELS) -> None:
    files = sorted(models_dir.glob("*.joblib"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def load_model(
    storage_dir: Path,
    feedback: Sequence[Mapping[str, Any]] | None = None,
    corpus_dir: Path | None = None,
) -> TfidfModel:
    """The cached model for the current corpus and feedback; trained and saved when absent."""
    rows = list(feedback or [])
    key = model_key(rows, corpus_dir)
    path = model_path(storage_dir, key)
    if path.exists():
        try:
            model = joblib.load(path)
            if isinstance(model, TfidfModel) and model.key == key:
                return model
            log.warning("cached model %s does not match its key; retraining", path)
        except Exception as exc:  # a truncated or foreign file: retrain rather than fail
            log.warning("cached model %s unreadable (%s); retraining", path, exc)
    model = train_model(feedback_examples(rows), corpus_dir)
    model.key = key
    save_model(model, path)
    _prune(path.parent)
    return model


# --- tuning (training split only) -------------------------------------------------------------


@dataclass(slots=True)
class CVScore:
    params: FitParams
    f1: float
    hard_negatives_dropped: float
    category_accuracy: float


def cross_validate(examples: Sequence[Example], params: FitParams, folds: int = 5) -> CVScore:
    """Grouped k-fold on `examples` (the training split): a fold never splits an event group,
    so the figures measure what the held-out split measures, on data it never touches."""
    from sklearn.model_selection import GroupKFold

    examples = sorted(examples, key=lambda e: e.id)
    group_ids = [e.group or e.event for e in examples]
    tp = fp = fn = 0
    hard = hard_dropped = 0
    cat_hit = cat_total = 0
    for train_idx, val_idx in GroupKFold(n_splits=folds).split(examples, groups=group_ids):
        model = fit([examples[i] for i in train_idx], params=params)
        val = [examples[i] for i in val_idx]
        relevance, category = model.scores([make_doc(e.title, e.summary) for e in val])
        for example, score, probs in zip(val, relevance, category, strict=True):
            kept = score >= 0.5
            tp += kept and example.relevant
            fp += kept and not example.relevant
            fn += not kept and example.relevant
            if example.kind == "hard_negative":
                hard += 1
                hard_dropped += not kept
            if kept and example.relevant and example.label:
                cat_total += 1
                cat_hit += model.classes[int(probs.argmax())] == example.label
    return CVScore(
        params=params,
        f1=2 * tp / max(2 * tp + fp + fn, 1),
        hard_negatives_dropped=hard_dropped / max(hard, 1),
        category_accuracy=cat_hit / max(cat_total, 1),
    )


def tune(grid: Sequence[FitParams], corpus_dir: Path | None = None) -> list[CVScore]:
    """Score each candidate by grouped cross-validation on the training split only."""
    train = load_dataset(corpus_dir).train
    return [cross_validate(train, params) for params in grid]
