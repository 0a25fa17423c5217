"""A deterministic article spinner: the synonym swaps that content farms use to re-publish news.

Real spinners replace words and phrases from a thesaurus without regard to sense ("parent
company" becomes "dad or mum firm", "Project Texas" becomes "Venture Texas"). Copies like that
reach the bot's feeds, so the classifier is trained and evaluated on spun variants too. The
table below is written for this project; the output is reproducible for a given seed.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping

# Lowercase phrase -> the replacements a spinner might pick. Longer phrases win over the words
# inside them ("user data" before "data"), and a replaced span is never swapped again.
SWAPS: Mapping[str, tuple[str, ...]] = {
    # Multi-word phrases first (the regex sorts by length anyway; this is for the reader).
    "parent company": ("dad or mum firm", "guardian firm", "mother or father firm"),
    "chinese government": ("Chinese language authorities",),
    "project texas": ("Venture Texas", "Mission Texas"),
    "project clover": ("Venture Clover",),
    "wall street": ("Wall Road",),
    "white house": ("White Home",),
    "user data": ("consumer information", "person information", "consumer knowledge"),
    "according to": ("in keeping with", "in response to", "based on"),
    "as well as": ("in addition to",),
    "in order to": ("with a view to", "so as to", "with the intention to"),
    "as a result": ("because of this", "consequently"),
    "due to": ("as a consequence of", "on account of", "as a result of"),
    "at least": ("at the very least", "no less than"),
    "last year": ("final yr", "final 12 months"),
    "this year": ("this 12 months", "this yr"),
    "next year": ("subsequent 12 months", "subsequent yr"),
    "last week": ("final week",),
    "last month": ("final month",),
    "for the moment": ("in the intervening time",),
    "such as": ("corresponding to", "akin to", "reminiscent of"),
    "based on": ("primarily based on", "based mostly on"),
    "national security": ("nationwide safety",),
    "data security": ("information safety", "knowledge safety"),
    "executive order": ("government order",),
    "supreme court": ("Supreme Courtroom",),
    "federal judge": ("federal decide",),
    "appeals court": ("appeals courtroom",),
    "short video": ("quick video", "brief video"),
    "small businesses": ("small companies",),
    "chief executive": ("chief government", "CEO"),
    "press conference": ("press convention",),
    "birth date": ("delivery date",),
    "email address": ("e mail handle",),
    "ip address": ("IP handle",),
    "free speech": ("free expression",),
    "first amendment": ("First Modification",),
    "lots of": ("a number of", "plenty of"),
    "a lot of": ("loads of", "quite a lot of", "a variety of"),
    "more than": ("greater than", "over"),
    "at the same time": ("on the identical time",),
    "in the meantime": ("within the meantime",),
    "meanwhile": ("in the meantime",),
    "it is": ("it's",),
    "there is": ("there's",),
    "does not": ("doesn't",),
    "will not": ("won't", "is not going to"),
    "won't": ("received't", "gained't"),
    "can't": ("can not",),
    "sell off": ("promote off",),
    "sell-off": ("selloff",),
    "joint venture": ("three way partnership", "joint enterprise"),
    "trade war": ("commerce warfare", "commerce battle"),
    "stay of execution": ("keep of execution",),
    "sound the alarm": ("elevate the alarm",),
    "last-ditch": ("final ditch",),
    "either way": ("both approach", "both method"),
    "so far": ("up to now", "to date", "thus far"),
    "calls for": ("requires",),
    "looked into": ("regarded into", "seemed into"),
    "makes sense": ("is smart", "is sensible"),
    "take down": ("take away",),
    # Single words.
    "new": ("brand new", "brand-new"),
    "via": ("by way of", "through"),
    "economy": ("financial system", "economic system"),
    "economic": ("financial",),
    "year": ("12 months", "yr"),
    "years": ("12 months",),
    "community": ("group", "neighborhood"),
    "customers": ("prospects", "clients"),
    "customer": ("buyer",),
    "however": ("nevertheless", "nonetheless"),
    "employees": ("staff", "workers"),
    "employee": ("worker",),
    "staff": ("workers", "employees"),
    "use": ("utilize",),
    "using": ("utilizing",),
    "used": ("utilized",),
    "help": ("assist",),
    "helped": ("assisted",),
    "helping": ("serving to",),
    "show": ("present",),
    "shows": ("reveals", "exhibits"),
    "big": ("large", "huge"),
    "large": ("giant", "massive"),
    "huge": ("big", "large"),
    "company": ("firm",),
    "companies": ("corporations", "firms"),
    "business": ("enterprise",),
    "businesses": ("companies",),
    "parent": ("guardian", "dad or mum"),
    "parents": ("mother and father",),
    "children": ("kids",),
    "reports": ("experiences", "stories"),
    "government": ("authorities",),
    "officials": ("officers",),
    "devices": ("gadgets", "units"),
    "device": ("gadget", "machine"),
    "data": ("information", "knowledge"),
    "information": ("info", "data"),
    "chinese": ("Chinese language",),
    "house": ("Home",),
    "judge": ("decide",),
    "court": ("courtroom", "court docket"),
    "appeal": ("enchantment", "attraction"),
    "bill": ("invoice",),
    "law": ("regulation", "legislation"),
    "laws": ("legal guidelines",),
    "lawmakers": ("legislators",),
    "sell": ("promote",),
    "buyer": ("purchaser",),
    "buy": ("purchase",),
    "security": ("safety",),
    "concerns": ("considerations", "issues"),
    "concern": ("fear",),
    "shopping": ("procuring", "buying"),
    "despite": ("regardless of",),
    "still": ("nonetheless",),
    "internal": ("inside", "inner"),
    "record": ("document", "file"),
    "whether": ("whether or not",),
    "build": ("construct",),
    "building": ("constructing",),
    "connect": ("join",),
    "real": ("actual",),
    "value": ("worth",),
    "tool": ("software",),
    "citizens": ("residents",),
    "track": ("monitor", "observe"),
    "said": ("stated", "mentioned"),
    "access": ("entry",),
    "personal": ("private",),
    "sensitive": ("delicate",),
    "around": ("round",),
    "clear": ("transparent",),
    "risk": ("threat", "danger"),
    "threat": ("menace", "risk"),
    "everyday": ("on a regular basis",),
    "more": ("extra",),
    "especially": ("particularly",),
    "various": ("varied", "numerous"),
    "countries": ("nations", "international locations"),
    "interesting": ("fascinating", "attention-grabbing"),
    "watch": ("observe",),
    "ways": ("methods",),
    "seems": ("appears",),
    "ideas": ("concepts",),
    "address": ("deal with", "handle"),
    "email": ("e mail", "e-mail"),
    "frequently": ("steadily", "incessantly"),
    "check": ("examine", "verify", "test"),
    "fear": ("worry", "concern"),
    "people": ("individuals", "folks"),
    "announced": ("introduced",),
    "dollar": ("greenback",),
    "dollars": ("{dollars}",),
    "back": ("again",),
    "under": ("beneath", "underneath"),
    "agreement": ("settlement",),
    "experts": ("consultants", "specialists"),
    "harmful": ("dangerous",),
    "meet": ("fulfill",),
    "seem": ("appear",),
    "given": ("offered",),
    "continue": ("proceed",),
    "often": ("usually", "typically"),
    "steady": ("regular",),
    "enough": ("sufficient",),
    "keep": ("preserve", "maintain", "hold"),
    "support": ("assist", "help"),
    "attack": ("assault",),
    "coverage": ("protection",),
    "conflict": ("battle",),
    "possible": ("potential", "attainable"),
    "avoid": ("keep away from",),
    "recently": ("just lately", "lately", "not too long ago"),
    "own": ("personal",),
    "group": ("bunch",),
    "content": ("content material",),
    "talk": ("speak",),
    "talks": ("negotiations",),
    "remains": ("stays",),
    "global": ("world",),
    "sometimes": ("typically", "generally"),
    "noted": ("famous",),
    "wants": ("desires", "needs"),
    "want": ("need",),
    "products": ("merchandise",),
    "called": ("referred to as", "known as"),
    "sales": ("gross sales",),
    "reason": ("cause", "purpose"),
    "limited": ("restricted",),
    "expanding": ("increasing",),
    "beyond": ("past",),
    "privacy": ("privateness",),
    "issue": ("situation", "subject"),
    "consumers": ("shoppers", "customers"),
    "certainly": ("definitely", "actually"),
    "actual": ("precise",),
    "great": ("nice",),
    "eventually": ("ultimately", "finally"),
    "become": ("grow to be", "turn into"),
    "growth": ("development", "progress"),
    "thing": ("factor",),
    "probably": ("in all probability", "most likely"),
    "suggest": ("counsel", "recommend"),
    "happen": ("occur",),
    "parts": ("elements", "components"),
    "without": ("with out",),
    "includes": ("consists of", "contains"),
    "update": ("replace",),
    "struggle": ("battle", "wrestle"),
    "short": ("quick", "brief"),
    "stories": ("tales",),
    "celebrate": ("have a good time", "remember"),
    "fairly": ("pretty", "moderately"),
    "vehicle": ("automobile", "car"),
    "potentially": ("probably", "doubtlessly"),
    "considering": ("contemplating",),
    "place": ("spot",),
    "transform": ("remodel", "rework"),
    "only": ("solely",),
    "generation": ("technology", "era"),
    "anyone": ("anybody",),
    "opportunity": ("alternative",),
    "power": ("energy",),
    "mean": ("imply",),
    "source": ("supply",),
    "negative": ("unfavourable", "damaging"),
    "positive": ("constructive", "optimistic"),
    "mental": ("psychological",),
    "entirely": ("completely", "totally"),
    "within": ("inside",),
    "question": ("query",),
    "analysis": ("evaluation",),
    "links": ("hyperlinks",),
    "asked": ("requested",),
    "yet": ("but",),
    "provided": ("supplied", "offered"),
    "movements": ("actions",),
    "target": ("goal",),
    "problem": ("drawback", "downside"),
    "summer": ("summer time",),
    "meeting": ("assembly",),
    "major": ("main", "vital"),
    "rising": ("growing",),
    "forced": ("compelled", "pressured"),
    "force": ("power", "drive"),
    "approved": ("authorised", "accredited"),
    "decision": ("determination", "resolution"),
    "ruled": ("dominated",),
    "lawsuit": ("go well with",),
    "attorney": ("lawyer", "legal professional"),
    "lawyers": ("attorneys", "legal professionals"),
    "country": ("nation",),
    "popular": ("standard", "widespread"),
    "videos": ("movies",),
    "users": ("customers",),
    "user": ("consumer", "person"),
    "buyers": ("patrons", "consumers"),
    "investors": ("buyers", "traders"),
    "worth": ("value",),
    "today": ("at present", "immediately", "right this moment"),
    "began": ("started",),
    "begin": ("start",),
    "start": ("begin",),
    "end": ("finish",),
    "agency": ("company",),
    "agencies": ("businesses",),
    "influence": ("affect",),
    "campaign": ("marketing campaign",),
    "advertising": ("promoting",),
    "ad": ("advert",),
    "ads": ("adverts",),
    "hearing": ("listening to",),
    "passed": ("handed",),
    "legislation": ("laws",),
    "allow": ("enable", "permit"),
    "prevent": ("forestall", "stop"),
    "protect": ("shield", "defend"),
    "protection": ("safety",),
    "review": ("assessment", "evaluation"),
    "claim": ("declare",),
    "significant": ("important", "vital"),
    "amid": ("amongst",),
    "among": ("amongst",),
    "while": ("whereas",),
    "although": ("though",),
    "also": ("additionally",),
    "across": ("throughout",),
    "before": ("earlier than",),
    "against": ("in opposition to", "towards"),
    "because": ("as a result of",),
    "therefore": ("subsequently", "due to this fact"),
    "instead": ("as an alternative",),
    "indeed": ("certainly",),
    "several": ("a number of",),
    "other": ("different",),
    "latest": ("newest",),
    "recent": ("current", "latest"),
    "current": ("present",),
    "likely": ("doubtless", "seemingly"),
    "able": ("in a position",),
    "expected": ("anticipated",),
    "expect": ("count on", "anticipate"),
    "try": ("attempt",),
    "trying": ("making an attempt", "attempting"),
    "find": ("discover",),
    "found": ("discovered",),
    "think": ("assume", "suppose"),
    "move": ("transfer",),
    "moves": ("strikes",),
    "rules": ("guidelines",),
    "across the": ("throughout the",),
}

_APOSTROPHE = "['\u2019]"


def _phrase_pattern(phrase: str) -> str:
    # Spaces match any run of whitespace; straight and curly apostrophes are interchangeable.
    parts = [re.escape(word) for word in phrase.split()]
    return r"\s+".join(parts).replace("'", _APOSTROPHE)


def _compile(table: Mapping[str, tuple[str, ...]]) -> re.Pattern[str]:
    phrases = sorted(table, key=lambda p: (-len(p), p))
    alternation = "|".join(_phrase_pattern(p) for p in phrases)
    return re.compile(rf"(?<![\w'\u2019-])(?:{alternation})(?![\w'\u2019-])", re.IGNORECASE)


def _lookup_key(matched: str) -> str:
    return " ".join(matched.lower().replace("\u2019", "'").split())


def match_case(source: str, replacement: str) -> str:
    """Give `replacement` the capitalisation of `source` (UPPER, Title Case, Capitalised)."""
    letters = [c for c in source if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return replacement.upper()
    words = source.split()
    if len(words) > 1 and all(w[:1].isupper() for w in words):
        return " ".join(w[:1].upper() + w[1:] for w in replacement.split())
    if source[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _rng(seed: int | str) -> random.Random:
    # hash() is salted per process; a digest keeps the output identical across runs.
    digest = hashlib.blake2b(str(seed).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


class Spinner:
    """Swap phrases for spinner synonyms, each with probability `rate`."""

    def __init__(self, table: Mapping[str, tuple[str, ...]] = SWAPS, rate: float = 0.8) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        self.table = {_lookup_key(k): v for k, v in table.items()}
        self.rate = rate
        self._pattern = _compile(self.table)

    def spin(self, text: str, seed: int | str = 0) -> str:
        rng = _rng(seed)

        def replace(match: re.Match[str]) -> str:
            source = match.group(0)
            choices = self.table.get(_lookup_key(source))
            # Draw both numbers for every match so one swap never shifts the later ones.
            roll, pick = rng.random(), rng.random()
            if not choices or roll >= self.rate:
                return source
            replacement = choices[int(pick * len(choices))]
            return match_case(source, replacement)

        return self._pattern.sub(replace, text)


_DEFAULT = Spinner()


def spin(text: str, seed: int | str = 0, rate: float = 0.8) -> str:
    """Spin `text` reproducibly: the same text and seed always give the same output."""
    spinner = _DEFAULT if rate == _DEFAULT.rate else Spinner(rate=rate)
    return spinner.spin(text, seed)
