"""Per-item features for grouping, computed once when an item is indexed."""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern

import numpy as np

from bot.stories.evidence import Evidence, extract, frozen
from bot.stories.text import MAX_WORDS, char_shingles, cognate_stems, content_words

NUM_PERM = 128
# Entities and numbers are read from this much text: enough for a long article's names,
# bounded so a 50 KB page cannot stall a poll.
EVIDENCE_CHARS = 6000
LEDE_WORDS = 30
NO_SIGNATURE = np.zeros(0, dtype=np.uint32)
_rng = np.random.RandomState(20240313)
# Affine permutations h -> a*h + b (mod 2**32) with odd a: bijective, cheap, vectorised.
_PERM_A = (_rng.randint(0, 1 << 31, NUM_PERM, dtype=np.uint64) * 2 + 1).astype(np.uint32)
_PERM_B = _rng.randint(0, 1 << 32, NUM_PERM, dtype=np.uint64).astype(np.uint32)


# A set of words or keys: frozensets while an item is being matched, tuples once it is stored
# in the index (see Features.stored).
Words = frozenset[str] | tuple[str, ...]


@dataclass(slots=True)
class Features:
    lang: str
    title_words: Words
    shingles: np.ndarray  # sorted unique uint32 character-shingle hashes
    length: int  # content words read (capped at MAX_WORDS)
    evidence: Evidence
    keys: Words  # language-independent keys (names, figures, dates)
    cognates: Words  # prefixes of long words, compared across languages
    lede_keys: tuple[str, ...]  # "w:" + lede words: with keys, what the inverted index reads
    minhash: np.ndarray  # MinHash signature of the shingles (query and insert, then dropped)

    @property
    def index_keys(self) -> tuple[str, ...]:
        return (*self.keys, *self.lede_keys)

    def stored(self) -> Features:
        """The compact form the index keeps: an item is then only ever the second side of a
        comparison, which iterates its sets (score.compare), so tuples serve (a frozenset of
        20 strings costs 2.3 KB, a tuple 200 bytes). Its names and plain numbers live on in
        `keys`: the evidence keeps only what vetoes a match."""
        return Features(
            lang=self.lang,
            title_words=tuple(self.title_words),
            shingles=self.shingles,
            length=self.length,
            evidence=self.evidence.facts_only(),
            keys=tuple(self.keys),
            cognates=tuple(self.cognates),
            lede_keys=self.lede_keys,
            minhash=NO_SIGNATURE,  # the LSH keeps its band keys
        )


TITLE_WORDS = 40


def read_lede(title: str, summary: str, lang: str) -> tuple[list[str], list[str]]:
    """(the title's content words, the lede's): the lede is the title and the summary's
    opening, read up to MAX_WORDS words; the copy shares its words with the original there.
    The title is read once: its words open the lede's (no phrase or word spans " . ")."""
    heading = content_words(title, lang)
    room = MAX_WORDS - len(heading)
    body = content_words(summary[: MAX_WORDS * 12], lang, limit=room) if room > 0 else []
    return heading, heading + body


def compute(title: str, summary: str, lang: str) -> Features:
    heading, words = read_lede(title, summary, lang)
    lede = f"{title} . {summary[: MAX_WORDS * 12]}"
    evidence = extract(title, summary[:EVIDENCE_CHARS])
    shingles = char_shingles(words)
    keys = frozen(evidence.keys())
    # Lede words find paraphrases that share no name or figure ("went dark late Saturday").
    # Only ever iterated: a tuple costs a fifth of a frozenset.
    lede_words = dict.fromkeys(intern("w:" + w) for w in words[:LEDE_WORDS] if len(w) >= 4)
    return Features(
        lang=lang,
        title_words=frozen(heading[:TITLE_WORDS]),
        shingles=shingles,
        length=len(words),
        evidence=evidence,
        keys=keys,
        cognates=frozen(cognate_stems(lede)),
        lede_keys=tuple(k for k in lede_words if k not in keys),
        minhash=signature(shingles),
    )


def _fmix32(h: np.ndarray) -> np.ndarray:
    # MurmurHash3's finaliser: spreads structured hashes before the affine permutations.
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature(shingles: np.ndarray) -> np.ndarray:
    """MinHash values of the shingle set (NUM_PERM uint32), in one vectorised step:
    datasketch's MinHash.update hashes element by element in Python, ~10x slower here."""
    if len(shingles) == 0:
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    mixed = _fmix32(shingles.astype(np.uint32)).reshape(-1, 1)
    return (mixed * _PERM_A + _PERM_B).min(axis=0)


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted unique arrays (np.intersect1d without the
    bookkeeping: this runs for every candidate pair)."""
    if len(a) == 0 or len(b) == 0:
        return 0
    merged = np.concatenate((a, b))
    merged.sort(kind="stable")
    return int(np.count_nonzero(merged[1:] == merged[:-1]))
