"""Banded MinHash LSH with removal, tuned for one insert and one query per item.

The banding scheme (b bands of r rows, chosen by datasketch's MinHashLSH for the threshold) is
datasketch's; the storage is a plain dict keyed by one 60-bit integer per band, computed for
all bands in one numpy step, and a query also says how many bands each hit shares (so hits
can be ranked). datasketch's general-purpose storage (pluggable back-ends, bytes keys per
band) took 113 µs per insert+query in bench/stories.py, this 18 µs, same signatures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from itertools import chain, islice

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)
SCAN_LIMIT = 64  # newest members read per bucket (the index keeps MAX_CANDIDATES of all hits)


# datasketch's choice for the index's settings, so that a poll does not import datasketch (and
# with it scipy.integrate: a quarter of a second and ~20 MB) to learn two numbers;
# tests/test_stories.py checks that these still equal datasketch's answer.
KNOWN_BANDS = {(0.3, 128): (37, 3)}


def band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising false positives + false negatives around the threshold."""
    known = KNOWN_BANDS.get((threshold, num_perm))
    if known is not None:
        return known
    return datasketch_band_params(threshold, num_perm)


def datasketch_band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    from datasketch import MinHashLSH

    reference = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return reference.b, reference.r


class BandedLSH:
    def __init__(self, threshold: float, num_perm: int, scan_limit: int = SCAN_LIMIT) -> None:
        self.bands, self.rows = band_params(threshold, num_perm)
        self.num_perm = num_perm
        self._buckets: dict[int, Hashable | dict[Hashable, None]] = {}
        self.scan_limit = scan_limit
        self._keys: dict[Hashable, np.ndarray] = {}
        self._salt = np.arange(1, self.bands + 1, dtype=np.uint64) * _MIX

    def _band_keys(self, hashvalues: np.ndarray) -> np.ndarray:
        rows = hashvalues[: self.bands * self.rows].astype(np.uint64).reshape(self.bands, -1)
        key = self._salt.copy()
        for column in range(self.rows):
            key = (key ^ rows[:, column]) * _MIX  # wraps modulo 2**64 by design
        # 60 bits: a Python int below 2**60 takes 32 bytes, above it 40 (one per band per item).
        return key >> np.uint64(4)

    # Memory: most buckets hold one item, so a bucket is the item itself until a second
    # arrives (a one-element container costs ~200 bytes, times every band of every indexed item),
    # and an item's band keys are kept as one uint64 array rather than a list of ints.
    def insert(self, item: Hashable, hashvalues: np.ndarray) -> None:
        keys = self._band_keys(hashvalues)
        self._keys[item] = keys
        buckets = self._buckets
        for key in keys.tolist():
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = item
            elif type(bucket) is dict:
                bucket[item] = None
            elif bucket != item:
                buckets[key] = {bucket: None, item: None}  # insertion-ordered: newest last

    def query(self, hashvalues: np.ndarray) -> Counter[Hashable]:
        """Items sharing at least one band, with the number of bands shared: more shared
        bands means a higher Jaccard estimate, so callers can rank the hits."""
        hits: list[Iterable[Hashable]] = []
        for bucket in map(self._buckets.get, self._band_keys(hashvalues).tolist()):
            if bucket is None:
                continue
            if type(bucket) is dict:
                # A story copied thousands of times fills its buckets: read only the newest
                # members, so a query costs the same however hot the story is.
                hits.append(islice(reversed(bucket), self.scan_limit))
            else:
                hits.append((bucket,))
        # Counted in C (Counter's counting loop), in band order: a crowded index reads
        # hundreds of members per query.
        return Counter(chain.from_iterable(hits))

    def remove(self, item: Hashable) -> None:
        keys = self._keys.pop(item, None)
        if keys is None:
            return
        buckets = self._buckets
        for key in keys.tolist():
            bucket = buckets.get(key)
            if type(bucket) is dict:
                bucket.pop(item, None)
                if len(bucket) == 1:
                    buckets[key] = next(iter(bucket))
            elif bucket == item:
                del buckets[key]

    def __len__(self) -> int:
        return len(self._keys)
