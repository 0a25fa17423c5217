"""Which language an item is in: py3langid over the languages the bot reports.

py3langid ships its model as an LZMA-compressed archive of every language it knows; reading
it costs ~0.5 s of CPU per process (LZMA, then unpacking), which a `tiktok-monitor poll` run
from cron pays every time. The arrays we use (our languages only) are kept beside the
trained models as a zlib archive the next process reads in ~0.1 s.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from array import array
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from bot.models import Item

log = logging.getLogger(__name__)

LANGUAGES = (
    "en",
    "fr",
    "es",
    "de",
    "pt",
    "it",
    "nl",
    "pl",
    "ro",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "tr",
    "ru",
    "uk",
    "ja",
    "zh",
    "ko",
    "ar",
    "id",
    "vi",
    "hi",
)
# The title and the summary's first sentences tell the language; n-gram counting over a whole
# summary costs more than parsing the entry did.
LANG_SAMPLE = 160
_CACHE_PREFIX = "langid-"
_TYPECODES = {2: "H", 4: "I", 8: "L"}  # unsigned, by item size (py3langid's DFA arrays)

_lock = threading.Lock()
_identifier: Any = None
_cache_dir: Path | None = None


def use_cache_dir(directory: Path | None) -> None:
    """Where the identifier's arrays are cached (the trained models' directory), for the
    next load in this process; None: no cache."""
    global _cache_dir
    _cache_dir = directory


def language_identifier() -> Any:
    """The identifier, loaded once per process.

    Loading briefly needs more memory than the identifier keeps: the poller loads it before
    it parses the cycle's first changed feed, while little else is in memory, rather than at
    the first relevant item. The lock keeps two threads from loading it twice at once.
    """
    global _identifier
    with _lock:
        if _identifier is None:
            _identifier = load_identifier(_cache_dir)
        return _identifier


def load_identifier(cache_dir: Path | None) -> Any:
    """An identifier over LANGUAGES: from the cache when it holds one, else from py3langid's
    model (and then cached)."""
    path = cache_path(cache_dir) if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            return _from_arrays(path)
        except Exception as exc:  # truncated or foreign: rebuild it below
            log.warning("language model cache %s unreadable (%s); rebuilding it", path, exc)
    identifier = _from_py3langid()
    if path is not None:
        _save(path, identifier)
    return identifier


def cache_path(cache_dir: Path) -> Path:
    key = hashlib.sha256(f"{version('py3langid')}|{','.join(LANGUAGES)}".encode()).hexdigest()
    return cache_dir / f"{_CACHE_PREFIX}{key[:16]}.npz"


def _from_py3langid() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE)
    full.set_languages(list(LANGUAGES))
    # set_languages keeps the whole 97-language matrix for a later reset (28 MB we never
    # use): a new identifier over the subset lets it go.
    return LanguageIdentifier(
        full.nb_ptc,
        full.nb_pc,
        full.nb_classes,
        full.tk_nextmove,
        full.tk_output,
        tk_row=full.tk_row,
    )


def _from_arrays(path: Path) -> Any:
    from py3langid.langid import LanguageIdentifier

    with np.load(path, allow_pickle=False) as data:
        return LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            _stdlib_array(data["nextmove"]),
            data["output"].tolist(),
            tk_row=_stdlib_array(data["row"]),
        )


def _stdlib_array(values: np.ndarray) -> array[int]:
    # py3langid walks its automaton with plain indexing: array.array, not numpy, is fast there.
    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def _save(path: Path, identifier: Any) -> None:
    """Written to a temporary file and renamed: a reader never sees half a file. A directory
    we cannot write to only costs the next process the slow load."""
    arrays = {
        "ptc": np.asarray(identifier.nb_ptc),
        "pc": np.asarray(identifier.nb_pc),
        "classes": np.array(identifier.nb_classes),
        "nextmove": np.frombuffer(
            identifier.tk_nextmove, dtype=f"u{identifier.tk_nextmove.itemsize}"
        ),
        "row": np.frombuffer(identifier.tk_row, dtype=f"u{identifier.tk_row.itemsize}"),
        "output": np.asarray(identifier.tk_output, dtype=np.int32),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".langid-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez_compressed(out, **arrays)
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would lock out another user of the storage
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in path.parent.glob(f"{_CACHE_PREFIX}*.npz"):
            if old != path:  # another py3langid version's or language list's
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.info("language model not cached in %s: %s", path.parent, exc)


def detect_language(text: str, hint: str | None = None) -> str:
    if not text.strip():
        return (hint or "und")[:2].lower() or "und"
    lang, _ = language_identifier().classify(text[:400])
    return str(lang)


def ensure_language(item: Item) -> Item:
    """Fill in the item's language. Detection costs about as much as normalising the rest of
    the entry, and only items that pass the keyword gate are shown or grouped by language, so
    the poller asks for it there rather than for every entry of every feed."""
    if not item.lang:
        item.lang = detect_language(f"{item.title}. {item.summary[:LANG_SAMPLE]}")
    return item
