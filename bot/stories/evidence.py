"""Language-independent evidence about what an item reports: names, numbers, dates, event types.

A translation shares almost no words with its original, but it keeps the names (Shou Zi Chew,
Gianforte, Oracle), the figures (352-65, 75 days, $14 billion) and the dates. The same facts
also tell look-alike events apart: a House vote of 352-65 is not a Senate vote of 79-18.
Small multilingual tables map the few things that do get translated (month names, "Senate",
"White House", event verbs) onto one key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from sys import intern

from bot.stories.lexicon import (
    ALIASES,
    CHAMBERS,
    ENTITY_STOP,
    EVENTS,
    MONTHS,
    NOT_CHAMBER,
    PHRASES,
    UBIQUITOUS,
    trie_pattern,
)
from bot.stories.text import fold, fold_char

_MONTH_ALT = trie_pattern(MONTHS)
# A pattern that starts at a digit says so first ("(?=\d)"): re then rejects every other
# position with that one test instead of running lookbehinds or a boundary (3x faster in prose).
_DATE_MD = re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_DATE_DM = re.compile(rf"(?=\d)\b(\d{{1,2}})(?:er|o|º|\.)?\s+(?:de\s+)?({_MONTH_ALT})\b")

_VOTE_WORDS = r"(?:votes?|voix|votos|stimmen|voti)"
_TALLY = re.compile(
    rf"(?=\d)\b(\d{{1,3}})\s*(?:{_VOTE_WORDS}\s*)?(?:-|to|a|contre|zu|gegen|against|contro|por)\s*"
    rf"(\d{{1,3}})\b(?!\s*(?:%|percent|days?|jours?|dias|tage|months?|mois|meses|monate))"
)
_DURATION = re.compile(
    # "final 12 months" is a spinner's "last year", not a period anyone set.
    r"(?=\d)(?<!final )(?<!subsequent )(?<!this )\b(\d{1,3})[\s-]*"
    r"(?:more\s+|additional\s+|supplementaires\s+|adicionales\s+|weitere\s+)?"
    r"(days?|jours?|dias|tagen?|giorni|months?|mois|meses|monaten?|mesi)\b"
)
_MONEY = re.compile(
    r"(?=\d)(?<![\d.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?)\s*"
    r"(billion|bn|milliards?|mil millones|millardi|miliardi|milliarden?|bilhoes|bilhao|"
    r"million|millions|millones|millionen|milhoes|milioni|mln)\b"
)
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"(?=\d)(?<![\w.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?)(?![\w])")

_EVENT_RE = {name: re.compile(r"\b(?:" + "|".join(alts) + ")") for name, alts in EVENTS.items()}
_PHRASE_KEYS = {p: key for key, phrases in PHRASES.items() for p in phrases}
_PHRASE_RE = re.compile(r"\b(" + trie_pattern(_PHRASE_KEYS) + r")\b")
_CAPITALISED = re.compile(r"[^\W\d_][\w'’.-]*")


@dataclass(slots=True, frozen=True)
class Evidence:
    entities: frozenset[str]
    numbers: frozenset[str]  # every figure with two or more digits, decimal comma normalised
    tallies: frozenset[str]  # "352-65"
    durations: frozenset[str]  # "75d", "9mo"
    dates: frozenset[str]  # "04-05" (month-day)
    money: frozenset[str]  # amounts in millions: "14000"
    events: frozenset[str]  # event types named in the headline
    chambers: frozenset[str]  # house / senate named in the headline

    def facts_only(self) -> Evidence:
        """Without names and plain numbers (already in the item's keys): what `conflict`
        reads, for the index to keep."""
        if not self.entities and not self.numbers:
            return self
        return replace(self, entities=EMPTY, numbers=EMPTY)

    def keys(self) -> set[str]:
        """Everything usable as language-independent index and match keys."""
        keys = {"e:" + e for e in self.entities if e not in UBIQUITOUS}
        keys.update("n:" + n for n in self.numbers)
        keys.update("v:" + v for v in self.events)
        keys.update("c:" + c for c in self.chambers)
        keys.update("t:" + t for t in self.tallies)
        keys.update("u:" + d for d in self.durations)
        keys.update("d:" + d for d in self.dates)
        keys.update("m:" + m for m in self.money)
        return keys


EMPTY: frozenset[str] = frozenset()


def frozen(values: Iterable[str]) -> frozenset[str]:
    """An immutable set of interned strings; empty sets are one shared object. The story
    index keeps these for thousands of items: an empty frozenset costs 216 bytes each, and
    the same word or figure recurs across items."""
    found = frozenset(map(intern, values))
    return found if found else EMPTY


def extract(title: str, body: str) -> Evidence:
    text = f"{title}. {body}" if title else body
    folded = fold(text)
    head = fold(title) if title else fold(body[:160])
    chamber_head = NOT_CHAMBER.sub(" ", head)
    tallies: set[str] = set()
    durations: set[str] = set()
    dates: set[str] = set()
    money: set[str] = set()
    numbers: set[str] = set()
    if _DIGIT.search(folded):  # every figure pattern needs a digit: skip them all otherwise
        figures = figure_context(folded)
        tallies, durations = _tallies(figures), _durations(figures)
        dates, money = _dates(figures), _money(figures)
        # A figure already read as a tally, duration, date or amount is not counted twice.
        used = {n for t in tallies for n in t.split("-")} | {d.rstrip("dmo") for d in durations}
        used |= {str(int(d[3:])) for d in dates} | money
        numbers = _numbers(figures) - used
    return Evidence(
        entities=frozen(_entities(text, folded)),
        numbers=frozen(numbers),
        tallies=frozen(tallies),
        durations=frozen(durations),
        dates=frozen(dates),
        money=frozen(money),
        events=frozen(n for n, rx in _EVENT_RE.items() if rx.search(head)),
        chambers=frozen(n for n, rx in CHAMBERS.items() if rx.search(chamber_head)),
    )


_DIGITS = re.compile(r"\d+")
# Every figure pattern matches within a few words of a digit ("September 12", "352 votes to
# 65", "75 additional days"): 64 characters either side is ample.
FIGURE_CONTEXT = 64
_FIGURE_GAP = " ¦ "  # between two stretches: no pattern reads across it


def figure_context(folded: str) -> str:
    """The stretches of whole words within FIGURE_CONTEXT characters of a digit, joined: all
    the figure patterns can match. Prose has few figures, so they scan a fraction of a long
    text (the same matches: tests/test_stories.py checks it on every corpus text)."""
    spans: list[list[int]] = []
    for match in _DIGITS.finditer(folded):
        start, end = match.start() - FIGURE_CONTEXT, match.end() + FIGURE_CONTEXT
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    pieces = []
    for start, end in spans:
        # Widened to whole words, so no stretch starts with the tail of a longer word.
        start = 0 if start <= 0 else folded.rfind(" ", 0, start) + 1
        cut = folded.find(" ", end)
        pieces.append(folded[start : len(folded) if cut < 0 else cut])
    return _FIGURE_GAP.join(pieces)


def _entities(text: str, folded: str) -> set[str]:
    """Names: capitalised words that never appear in lower case, and known phrases.
    `folded` is fold(text)."""
    found: set[str] = set()

    # Phrases are matched on a folded copy with the same offsets as the text (folding can
    # change the length of rare characters: then fold one character at a time).
    aligned = folded
    if len(aligned) != len(text):
        aligned = "".join(fold_char(c) for c in text)
    spans = [m.span() for m in _PHRASE_RE.finditer(aligned)]
    for start, end in reversed(spans):
        found.add(_PHRASE_KEYS[aligned[start:end]])
        # Blanked to the same length, so offsets into `aligned` stay valid below.
        text = text[:start] + " " * (end - start) + text[end:]
    # A capitalised word that also appears in lower case is a sentence start, not a name.
    # ASCII text (most) is searched for the few capitalised words; other text is read whole.
    ascii_text = text.isascii()
    if ascii_text:
        in_lower_case = partial(_occurs_as_word, text)
    else:
        lowered = {w.lower() for w in re.findall(r"\b[^\W\d_]+\b", text) if w.islower()}
        in_lower_case = lowered.__contains__
    for match in _CAPITALISED.finditer(text):
        word = match.group(0).rstrip(".'’-")
        if not word or not word[0].isupper():
            continue
        start = match.start()
        # ASCII text folds character by character (lower case only): a word's folded form
        # is its slice of `aligned`, with no per-word fold.
        key = _strip_clitics(aligned[start : start + len(word)] if ascii_text else fold(word))
        if key in ENTITY_STOP or len(key) < 2 or in_lower_case(key):
            continue
        found.add(ALIASES.get(key, key))
    return found


def _occurs_as_word(text: str, word: str) -> bool:
    """Is `word` (lower-case) in ASCII `text` as a whole run of letters, as the regex
    \\b[^\\W\\d_]+\\b reads words? Only letters can be: "o'neil" or "u.s" never are."""
    if not word.isalpha():
        return False
    end = len(word)
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + end] if at + end < len(text) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            return True
        at = text.find(word, at + 1)
    return False


_SUFFIXES = ("s", "re", "ll", "ve", "d", "t", "m")
_ELISIONS = ("l", "d", "c", "qu", "j", "n", "s", "m", "t", "all", "dell", "nell", "sull")


def _strip_clitics(word: str) -> str:
    # "Russia's" -> "russia", "It's" -> "it", "L'Europe" -> "europe", "C'est" -> "est".
    head, apostrophe, tail = word.partition("'")
    if not apostrophe:
        return word
    if tail in _SUFFIXES:
        return head
    if head in _ELISIONS:
        return tail
    return word


def _to_float(raw: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return float(re.sub(r"[.,]", "", raw))  # 14.000 / 14,000: thousands separators
    return float(raw.replace(",", "."))  # 1,5 / 1.5: a decimal point either way


def _fmt(value: float) -> str:
    return f"{value:g}"


def _numbers(folded: str) -> set[str]:
    out = set()
    for raw in _NUMBER.findall(folded):
        value = _to_float(raw)
        if value >= 10 or raw.count(".") + raw.count(","):
            out.add(_fmt(value))
    return out


def _tallies(folded: str) -> set[str]:
    out = set()
    for a, b in _TALLY.findall(folded):
        yes, no = int(a), int(b)
        # Vote counts put the winning side first; "ages 13 to 17" and ranges do not.
        if yes > no and yes >= 5:
            out.add(f"{yes}-{no}")
    return out


def _durations(folded: str) -> set[str]:
    out = set()
    for count, unit in _DURATION.findall(folded):
        out.add(count + ("d" if unit[0] in "djtg" else "mo"))
    return out


def _dates(folded: str) -> set[str]:
    out = set()
    for month, day in _DATE_MD.findall(folded):
        if 1 <= int(day) <= 31:
            out.add(f"{MONTHS[month]:02d}-{int(day):02d}")
    for day, month in _DATE_DM.findall(folded):
        if 1 <= int(day) <= 31:
            out.add(f"{MONTHS[month]:02d}-{int(day):02d}")
    return out


def _money(folded: str) -> set[str]:
    out = set()
    for raw, scale in _MONEY.findall(folded):
        value = _to_float(raw)
        big = scale.startswith(("bil", "bn", "mill", "milliard", "miliard", "millard", "mil m"))
        if scale.startswith(("million", "millon", "milion", "mln", "milho")):
            big = False
        if scale == "mil millones":
            big = True
        out.add(_fmt(value * 1000 if big else value))
    return out


def conflict(
    a: Evidence, b: Evidence, a_long: bool, b_long: bool, same_body: bool = False
) -> str | None:
    """Why two items cannot report the same event, or None. Precision over recall: any one
    clash of specific facts vetoes the merge.

    `same_body`: the two texts are near-identical (a syndicated copy under a new headline);
    then only the body's figures can veto, not the headline's wording (a copy titled "TikTok
    wins reprieve" over "Judge blocks ban" reports the same ruling).
    """
    if a.tallies and b.tallies and not a.tallies & b.tallies:
        return "vote tally"
    if a.durations and b.durations and not a.durations & b.durations:
        return "duration"
    if a.money and b.money and not a.money & b.money:
        return "amount"
    extra_a, extra_b = a.dates - b.dates, b.dates - a.dates
    if a.dates and b.dates and extra_a and extra_b:
        return "dates"
    # A full report that names a date its counterpart (also a full report) never mentions is
    # most likely a later development citing the earlier one ("moved from April 5 to June 19").
    if (extra_a and b.dates and b_long and a_long) or (extra_b and a.dates and a_long and b_long):
        return "new date"
    if same_body:
        return None
    if a.chambers and b.chambers and not a.chambers & b.chambers:
        return "chamber"
    if a.events and b.events and not a.events & b.events:
        return "event type"
    return None
