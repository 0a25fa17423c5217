"""Storage benchmark: a million items through the bulk path, then the commands users send.

Builds a database of N items (default 1,000,000: ~10% relevant, grouped into ~30,000 stories,
three years, six languages, 200-400-character summaries, 10,000 feeds, a poll every 15
minutes) with Store.bulk_load, applies retention, then measures in the same run:

- p50/p99 of CommandRouter.handle("status" | "digest 24h" | "digest 7d" | "search <term>")
  over --calls calls each, beside the floor (`help` through the router, `SELECT 1`) and the
  naive way (the same commands with the indexes they use dropped, or a LIKE scan for search);
- database size on disk; open + migrate (Store(path) in a fresh process; floor: connect +
  SELECT 1); the story-index rebuild at start (StoryGrouper.from_store; floor: its SQL);
- retention per poll cycle, with and without its partial index.

Usage: python bench/store.py [--items 1000000] [--feeds 10000] [--calls 200] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import itertools
import json
import os
import pstats
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.models import CATEGORIES, Caller, ResponseKind  # noqa: E402
from bot.store.db import Store  # noqa: E402
from bot.timeutil import to_iso, utcnow  # noqa: E402

YEARS = 3
RELEVANT_SHARE = 0.10
ITEMS_PER_STORY = 3.33  # 100,000 relevant items -> ~30,000 stories
RECENT_DAYS = 7
RECENT_BOOST = 3.0  # the last week is a news spike: three times the average density
BACKLOG_SHARE = 0.05
FAILING_FEEDS = 0.05
CALLER = Caller(platform="bench", user_id="U1", channel_id="C1")

# ----------------------------------------------------------------------------- text
# Per language: ban-story actors, verbs, objects and sentence templates; other news likewise.
# Slots: {a} actor, {v} verb, {o} object, {n}/{m} numbers, {r} a rare name (search targets).
BAN: dict[str, dict[str, list[str]]] = {
    "en": {
        "a": "Senate|House|Supreme Court|federal appeals court|White House|Commerce Department|"
        "Justice Department|ByteDance|Oracle|TikTok chief Shou Zi Chew|Montana governor|"
        "Texas attorney general|Treasury's CFIUS panel|Apple and Google|creators|advertisers|"
        "investor group|Trump administration|Biden administration|House China committee",
        "v": "passes|blocks|delays|approves|weighs|rejects|extends|challenges|defends|backs|"
        "probes|signs|upholds|pauses|questions",
        "o": "divestiture bill|ban law|sale deadline|data-security deal|Project Texas plan|"
        "app-store removal|government-device ban|national-security review|forced sale|"
        "75-day extension|injunction request|First Amendment challenge|joint venture plan",
        "t": "{a} {v} TikTok {o}|TikTok ban: {a} {v} {o}|{a} {v} {o} as TikTok deadline nears|"
        "TikTok {o}: {a} {v} it in {n}-{m} decision|What the {o} means for TikTok users",
        "s": "{a} {v} the {o} on Tuesday, a step that could decide whether TikTok stays "
        "available to {n} million American users.|The move follows months of pressure over "
        "ByteDance's ownership and concerns about data stored on US servers.|Lawyers for TikTok "
        "argued that the {o} violates the First Amendment rights of creators.|Lawmakers voted "
        "{n}-{m} after a short debate on the {o}.|Officials in {r} said they were watching the "
        "case closely.|Analysts expect the {o} to reach the courts before the deadline.|"
        "TikTok said it would keep working with the {a} on a solution.",
    },
    "es": {
        "a": "el Senado|la Cámara|el Tribunal Supremo|la Casa Blanca|ByteDance|Oracle|el "
        "Departamento de Comercio|los creadores|los anunciantes|el gobierno de Trump",
        "v": "aprueba|bloquea|retrasa|rechaza|prorroga|impugna|defiende|respalda|investiga",
        "o": "la ley de prohibición|el plazo de venta|la desinversión|el acuerdo de datos|"
        "la venta forzosa|la prórroga de 75 días|la revisión de seguridad nacional",
        "t": "TikTok: {a} {v} {o}|{a} {v} {o} de TikTok|Prohibición de TikTok: {a} {v} {o}",
        "s": "{a} {v} {o} de TikTok, una decisión que afecta a {n} millones de usuarios.|"
        "La medida llega tras meses de presión sobre la propiedad de ByteDance.|Los abogados "
        "de TikTok sostienen que {o} vulnera la libertad de expresión.|Autoridades de {r} "
        "siguen el caso de cerca.|La votación terminó {n} a {m}.",
    },
    "fr": {
        "a": "le Sénat|la Chambre|la Cour suprême|la Maison Blanche|ByteDance|Oracle|le "
        "département du Commerce|les créateurs|les annonceurs|l'administration Trump",
        "v": "adopte|bloque|repousse|rejette|prolonge|conteste|défend|soutient|examine",
        "o": "la loi d'interdiction|le délai de vente|la cession|l'accord sur les données|"
        "la vente forcée|le sursis de 75 jours|l'examen de sécurité nationale",
        "t": "TikTok : {a} {v} {o}|Interdiction de TikTok : {a} {v} {o}|{a} {v} {o} de TikTok",
        "s": "{a} {v} {o} visant TikTok, une décision qui concerne {n} millions d'utilisateurs."
        "|Cette décision intervient après des mois de pression sur ByteDance.|Les avocats de "
        "TikTok estiment que {o} viole la liberté d'expression.|Les autorités de {r} suivent "
        "le dossier.|Le vote s'est conclu par {n} voix contre {m}.",
    },
    "de": {
        "a": "der Senat|das Repräsentantenhaus|der Supreme Court|das Weiße Haus|ByteDance|"
        "Oracle|das Handelsministerium|die Creator|die Werbekunden|die Trump-Regierung",
        "v": "billigt|blockiert|verschiebt|lehnt ab|verlängert|prüft|verteidigt|unterstützt",
        "o": "das Verbotsgesetz|die Verkaufsfrist|den Zwangsverkauf|das Datenabkommen|"
        "die 75-Tage-Frist|die Sicherheitsprüfung",
        "t": "TikTok: {a} {v} {o}|TikTok-Verbot: {a} {v} {o}|{a} {v} {o} für TikTok",
        "s": "{a} {v} {o} für TikTok, was {n} Millionen Nutzer betrifft.|Der Schritt folgt "
        "auf monatelangen Druck wegen der Eigentümerschaft von ByteDance.|TikToks Anwälte "
        "sehen die Meinungsfreiheit verletzt.|Behörden in {r} beobachten den Fall.|Die "
        "Abstimmung endete {n} zu {m}.",
    },
    "pt": {
        "a": "o Senado|a Câmara|a Suprema Corte|a Casa Branca|a ByteDance|a Oracle|os "
        "criadores|os anunciantes|o governo Trump",
        "v": "aprova|bloqueia|adia|rejeita|prorroga|contesta|defende|apoia|investiga",
        "o": "a lei de proibição|o prazo de venda|a venda forçada|o acordo de dados|"
        "a prorrogação de 75 dias|a revisão de segurança nacional",
        "t": "TikTok: {a} {v} {o}|Proibição do TikTok: {a} {v} {o}|{a} {v} {o} do TikTok",
        "s": "{a} {v} {o} do TikTok, decisão que afeta {n} milhões de usuários.|A medida vem "
        "após meses de pressão sobre a ByteDance.|Os advogados do TikTok dizem que {o} viola "
        "a liberdade de expressão.|Autoridades de {r} acompanham o caso.|A votação terminou "
        "{n} a {m}.",
    },
    "it": {
        "a": "il Senato|la Camera|la Corte Suprema|la Casa Bianca|ByteDance|Oracle|i creator|"
        "gli inserzionisti|l'amministrazione Trump",
        "v": "approva|blocca|rinvia|respinge|proroga|contesta|difende|sostiene|esamina",
        "o": "la legge sul divieto|la scadenza della vendita|la cessione|l'accordo sui dati|"
        "la proroga di 75 giorni|la revisione di sicurezza nazionale",
        "t": "TikTok: {a} {v} {o}|Divieto di TikTok: {a} {v} {o}|{a} {v} {o} di TikTok",
        "s": "{a} {v} {o} di TikTok, una decisione che riguarda {n} milioni di utenti.|La "
        "mossa arriva dopo mesi di pressioni su ByteDance.|Gli avvocati di TikTok parlano di "
        "violazione della libertà di espressione.|Le autorità di {r} seguono il caso.|Il "
        "voto si è chiuso {n} a {m}.",
    },
}
OTHER: dict[str, dict[str, list[str]]] = {
    "en": {
        "a": "City council|Local team|Chipmaker|Retailer|Central bank|Streaming service|"
        "School board|Weather service|Airline|Carmaker|Hospital group|University",
        "v": "announces|approves|reports|delays|unveils|cuts|raises|expands|wins|loses",
        "o": "new bike lanes|record quarterly revenue|interest rates|a new electric model|"
        "holiday sales|the season opener|storm warnings|a budget plan|summer routes|new campus",
        "t": "{a} {v} {o}|{a} {v} {o} in {r}|Markets: {a} {v} {o}|{a} {v} {o} after {n} years",
        "s": "{a} {v} {o} on Monday, officials said.|The decision affects about {n} thousand "
        "residents.|Analysts had expected a smaller change of {n} percent.|The plan was "
        "presented at a meeting in {r}.|Critics said the timing was poor.|A final vote is "
        "expected within {m} weeks.",
    },
    "es": {
        "a": "El ayuntamiento|El equipo local|El banco central|La aerolínea|La universidad",
        "v": "anuncia|aprueba|presenta|retrasa|recorta|gana|pierde",
        "o": "nuevos carriles bici|los tipos de interés|un nuevo modelo|el presupuesto",
        "t": "{a} {v} {o}|{a} {v} {o} en {r}",
        "s": "{a} {v} {o} este lunes.|La medida afecta a {n} mil vecinos.|Se espera una "
        "votación en {m} semanas.|El plan se presentó en {r}.",
    },
    "fr": {
        "a": "La mairie|Le club local|La banque centrale|La compagnie aérienne|L'université",
        "v": "annonce|approuve|présente|reporte|réduit|gagne|perd",
        "o": "de nouvelles pistes cyclables|les taux d'intérêt|un nouveau modèle|le budget",
        "t": "{a} {v} {o}|{a} {v} {o} à {r}",
        "s": "{a} {v} {o} ce lundi.|La mesure concerne {n} mille habitants.|Un vote est "
        "attendu dans {m} semaines.|Le projet a été présenté à {r}.",
    },
    "de": {
        "a": "Der Stadtrat|Der Verein|Die Zentralbank|Die Fluggesellschaft|Die Universität",
        "v": "kündigt an|billigt|stellt vor|verschiebt|senkt|gewinnt|verliert",
        "o": "neue Radwege|die Zinsen|ein neues Modell|den Haushalt",
        "t": "{a} {v} {o}|{a} {v} {o} in {r}",
        "s": "{a} {v} {o} am Montag.|Die Maßnahme betrifft {n} tausend Einwohner.|Eine "
        "Abstimmung wird in {m} Wochen erwartet.|Der Plan wurde in {r} vorgestellt.",
    },
    "pt": {
        "a": "A prefeitura|O clube local|O banco central|A companhia aérea|A universidade",
        "v": "anuncia|aprova|apresenta|adia|reduz|vence|perde",
        "o": "novas ciclovias|os juros|um novo modelo|o orçamento",
        "t": "{a} {v} {o}|{a} {v} {o} em {r}",
        "s": "{a} {v} {o} nesta segunda.|A medida afeta {n} mil moradores.|A votação deve "
        "ocorrer em {m} semanas.|O plano foi apresentado em {r}.",
    },
    "it": {
        "a": "Il comune|La squadra locale|La banca centrale|La compagnia aerea|L'università",
        "v": "annuncia|approva|presenta|rinvia|taglia|vince|perde",
        "o": "nuove piste ciclabili|i tassi|un nuovo modello|il bilancio",
        "t": "{a} {v} {o}|{a} {v} {o} a {r}",
        "s": "{a} {v} {o} lunedì.|La misura riguarda {n} mila residenti.|Il voto è atteso "
        "tra {m} settimane.|Il piano è stato presentato a {r}.",
    },
}
for _table in (BAN, OTHER):
    for _lang, _slots in _table.items():
        for _key, _value in list(_slots.items()):
            _slots[_key] = _value.split("|")  # type: ignore[assignment, attr-defined]

COMMON_PLACES = "Washington|Beijing|Brussels|Ottawa|London|Canberra|Tokyo|Paris".split("|")
# Rare names: each lands in roughly 0.05% of the items of its kind (the "rare term" searches).
RARE_PLACES = (
    "Albania|Kyrgyzstan|Nepal|Vanuatu|Tuvalu|Eswatini|Moldova|Lesotho|Bhutan|Palau|Andorra|"
    "Liechtenstein|Suriname|Djibouti|Comoros|Nauru|Kiribati|Tonga|Samoa|Belize"
).split("|")
LANGS = ("en", "es", "fr", "de", "pt", "it")
LANG_WEIGHTS = (55, 12, 11, 9, 8, 5)
COMMON_SEARCHES = ["tiktok", "ban", "supreme court", "bytedance", "oracle", "deadline", "senate"]
RARE_SEARCHES = ["albania", "kyrgyzstan", "tuvalu", "oracle albania", "nepal", "zzyzxnomatch"]


class Writer:
    """Deterministic text for one language and kind; sentences come from a prebuilt pool so a
    million summaries cost seconds, while titles are filled per item."""

    def __init__(self, slots: dict[str, list[str]], rng: random.Random) -> None:
        self.slots = slots
        self.rng = rng
        self.pool = [self._fill(rng.choice(slots["s"])) for _ in range(3000)]

    def _fill(self, template: str) -> str:
        rng, slots = self.rng, self.slots
        rare = rng.random() < 0.01
        place = rng.choice(RARE_PLACES) if rare else rng.choice(COMMON_PLACES)
        n = rng.randint(2, 170)
        return template.format(
            a=rng.choice(slots["a"]),
            v=rng.choice(slots["v"]),
            o=rng.choice(slots["o"]),
            n=n,
            m=rng.randint(1, n),
            r=place,
        )

    def title(self) -> str:
        text = self._fill(self.rng.choice(self.slots["t"]))
        return text[0].upper() + text[1:]

    def summary(self) -> str:
        target = self.rng.randint(200, 400)
        parts: list[str] = []
        size = 0
        while size < target:
            sentence = self.rng.choice(self.pool)
            parts.append(sentence[0].upper() + sentence[1:])
            size += len(sentence) + 1
        return " ".join(parts)[:target].rsplit(" ", 1)[0] + "."


# ------------------------------------------------------------------------- dataset
@dataclass(slots=True)
class Event:
    fetched: float
    published: float
    story: int  # index into the story plan, -1 for an irrelevant item
    lang: str
    feed: int


@dataclass(slots=True)
class Plan:
    now: float
    feeds: int
    events: list[Event]
    stories: int
    backlog: set[int] = field(default_factory=set)
    categories: list[str] = field(default_factory=list)


def plan(n_items: int, n_feeds: int, seed: int, now: float) -> Plan:
    """When every item arrives and which story it belongs to; text comes later, lazily."""
    rng = random.Random(seed)
    span = YEARS * 365 * 86400.0
    recent = RECENT_DAYS * 86400.0
    p_recent = RECENT_BOOST * recent / (span + (RECENT_BOOST - 1) * recent)

    def moment() -> float:
        if rng.random() < p_recent:
            return now - rng.random() * recent
        return now - rng.random() * span

    n_relevant = round(n_items * RELEVANT_SHARE)
    n_stories = max(1, round(n_relevant / ITEMS_PER_STORY))
    # Heavy-tailed story sizes: most developments get one or two reports, a few get dozens.
    weights = [rng.paretovariate(1.3) for _ in range(n_stories)]
    members = list(range(n_stories)) + rng.choices(
        range(n_stories), weights=weights, k=n_relevant - n_stories
    )
    starts = [moment() for _ in range(n_stories)]
    lang_of = rng.choices(LANGS, weights=LANG_WEIGHTS, k=n_stories)
    events: list[Event] = []
    seen: set[int] = set()
    for story in members:
        delay = 0.0 if story not in seen else min(rng.expovariate(1 / 21600), 72 * 3600.0)
        seen.add(story)
        published = min(starts[story] + delay, now - 60)
        lang = lang_of[story] if rng.random() < 0.8 else rng.choices(LANGS, LANG_WEIGHTS)[0]
        fetched = min(published + rng.uniform(60, 900), now)
        events.append(Event(fetched, published, story, lang, rng.randrange(n_feeds)))
    for _ in range(n_items - n_relevant):
        published = moment()
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        fetched = min(published + rng.uniform(60, 900), now)
        events.append(Event(fetched, published, -1, lang, rng.randrange(n_feeds)))
    events.sort(key=lambda e: e.fetched)  # rowid order = arrival order, as when polling
    return Plan(
        now=now,
        feeds=n_feeds,
        events=events,
        stories=n_stories,
        backlog={s for s in range(n_stories) if rng.random() < BACKLOG_SHARE},
        categories=rng.choices(CATEGORIES, weights=(4, 4, 3, 3, 2, 2, 2, 1), k=n_stories),
    )


def feed_url(n: int) -> str:
    return f"https://news{n:05d}.example/rss.xml"


def iso(epoch: float) -> str:
    return to_iso(datetime.fromtimestamp(epoch, UTC))


class Rows:
    """Items (in arrival order) and stories (from their earliest item) for bulk_load."""

    def __init__(self, p: Plan, seed: int) -> None:
        self.plan = p
        rng = random.Random(seed + 1)
        self.rng = rng
        self.ban = {lang: Writer(BAN[lang], rng) for lang in LANGS}
        self.other = {lang: Writer(OTHER[lang], rng) for lang in LANGS}
        # Story ids are allocated in order of first appearance, like the grouper does.
        self.story_id: dict[int, int] = {}
        for event in p.events:
            if event.story >= 0 and event.story not in self.story_id:
                self.story_id[event.story] = len(self.story_id) + 1
        self.relevant: dict[int, dict[str, Any]] = {}  # event index -> row, built up front

    def item(self, index: int, event: Event) -> dict[str, Any]:
        rng = self.rng
        writer = (self.ban if event.story >= 0 else self.other)[event.lang]
        title = writer.title()
        day = datetime.fromtimestamp(event.published, UTC)
        url = f"https://www.outlet{event.feed:05d}.example/{day:%Y/%m/%d}/story-{index}"
        relevant = event.story >= 0
        backlog = relevant and event.story in self.plan.backlog
        gate = not relevant and rng.random() < 0.8  # most irrelevant items stop at the gate
        return {
            "id": hashlib.blake2b(f"url:{url}".encode(), digest_size=12).hexdigest(),
            "feed_url": feed_url(event.feed),
            "guid": url if index % 2 else f"urn:outlet{event.feed}:{index}",
            "url": url,
            "canonical_url": url.replace("https://www.", "https://"),
            "title": title,
            "summary": writer.summary(),
            "lang": event.lang,
            "published": iso(event.published),
            "published_known": 1,
            "fetched": iso(event.fetched),
            "relevant": int(relevant),
            "score": round(rng.uniform(0.5, 1.0) if relevant else rng.uniform(0.0, 0.5), 3),
            "category": self.plan.categories[event.story] if relevant else None,
            "stage": "keyword" if gate else "tfidf",
            "story_id": self.story_id[event.story] if relevant else None,
            "backlog": int(backlog),
        }

    def build_relevant(self) -> None:
        for index, event in enumerate(self.plan.events):
            if event.story >= 0:
                self.relevant[index] = self.item(index, event)

    def stories(self) -> list[dict[str, Any]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in self.relevant.values():
            grouped.setdefault(row["story_id"], []).append(row)
        out = []
        for story_id, rows in sorted(grouped.items()):
            rows.sort(key=lambda r: (r["published"], r["id"]))
            first = rows[0]
            fetched = sorted(r["fetched"] for r in rows)
            out.append(
                {
                    "id": story_id,
                    "title": first["title"],
                    "url": first["url"],
                    "summary": first["summary"],
                    "category": first["category"],
                    "item_id": first["id"],
                    "lang": first["lang"],
                    "first_seen": first["published"],
                    "last_seen": rows[-1]["published"],
                    "relevant_at": None if first["backlog"] else fetched[0],
                    "source_count": len(rows),
                    "languages": json.dumps(list(dict.fromkeys(r["lang"] for r in rows))),
                    "updated_at": fetched[-1],
                }
            )
        return out

    def items(self) -> Iterator[dict[str, Any]]:
        for index, event in enumerate(self.plan.events):
            yield self.relevant.pop(index) if event.story >= 0 else self.item(index, event)


def seed_feeds_and_polls(store: Store, p: Plan) -> None:
    """10,000 configured feeds with a few failing, a poll every 15 minutes for three years,
    and some subscriptions: what status reads besides stories."""
    store.sync_feeds((feed_url(n), f"Outlet {n}", True) for n in range(p.feeds))
    now = p.now
    with store.transaction():
        store.db.execute(
            "UPDATE feeds SET last_success = ?, last_attempt = ?", [iso(now - 600)] * 2
        )
        failing = [feed_url(n) for n in range(0, p.feeds, round(1 / FAILING_FEEDS))]
        store.db.conn.executemany(
            "UPDATE feeds SET consecutive_failures = 3, last_error = 'HTTP 503' WHERE url = ?",
            [(u,) for u in failing],
        )
        polls = []
        start = now - YEARS * 365 * 86400
        while start < now - 900:
            polls.append((iso(start), iso(start + 40), p.feeds, 30))
            start += 900
        store.db.conn.executemany(
            "INSERT INTO polls (started, finished, feeds, new_items) VALUES (?, ?, ?, ?)", polls
        )
        store.db.conn.executemany(
            "INSERT INTO subscriptions (platform, channel, time, timezone, categories) "
            "VALUES ('slack', ?, '09:00', 'UTC', '[]')",
            [(f"C{n}",) for n in range(40)],
        )


def write_config(path: Path, n_feeds: int) -> None:
    lines = ["poll_every: 15m", "filter:", "  model: keywords", "feeds:"]
    for n in range(n_feeds):
        lines += [f"  - url: {feed_url(n)}", f"    name: Outlet {n}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------- measuring
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(slots=True)
class Line:
    what: str
    p50: float | None
    p99: float | None
    unit: str
    target: str = ""
    note: str = ""


class Report:
    """The table: distributions (p50/p99 of a sample) and single figures."""

    def __init__(self) -> None:
        self.lines: list[Line] = []

    def dist(self, what: str, sample: list[float], unit: str = "ms", **extra: str) -> None:
        self.lines.append(Line(what, pct(sample, 0.5), pct(sample, 0.99), unit, **extra))

    def one(self, what: str, value: float, unit: str, **extra: str) -> None:
        self.lines.append(Line(what, None, value, unit, **extra))

    def print(self) -> None:
        print(f"\n{'measure':<56}{'p50':>10}{'p99':>10}  {'unit':<5}{'target':<9}note")
        for line in self.lines:
            p50 = "" if line.p50 is None else f"{line.p50:10.2f}"
            p99 = "" if line.p99 is None else f"{line.p99:10.2f}"
            print(f"{line.what:<56}{p50:>10}{p99:>10}  {line.unit:<5}{line.target:<9}{line.note}")


def timings(fn: Callable[[], Any], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def router_timings(router: Any, texts: list[str], calls: int) -> tuple[list[float], int]:
    out = []
    answers = 0
    for n in range(calls):
        text = texts[n % len(texts)]
        start = time.perf_counter()
        response = await router.handle(text, CALLER)
        out.append((time.perf_counter() - start) * 1000)
        if response.kind is ResponseKind.ERROR:
            raise RuntimeError(f"{text!r} failed: {response.text}")
        answers += len(response.stories) or len(getattr(response.digest, "stories", []) or [])
    return out, answers


def search_terms(calls: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "search " + rng.choice(COMMON_SEARCHES if n % 2 else RARE_SEARCHES) for n in range(calls)
    ]


# Indexes the read commands use; dropped inside a rolled-back transaction for "naive".
READ_INDEXES = (
    "idx_stories_relevant_at",
    "idx_stories_category_first",
    "idx_stories_first_seen",
    "idx_items_story",
    "idx_polls_finished",
)


class Naive:
    """The same statements with the indexes gone: DDL is transactional in SQLite."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        self.store.db.execute("BEGIN")
        for name in READ_INDEXES:
            self.store.db.execute(f"DROP INDEX IF EXISTS {name}")

    def __exit__(self, *exc: object) -> None:
        self.store.db.execute("ROLLBACK")


def like_search(store: Store, text: str) -> list[Any]:
    terms = text.split()[1:]
    where = " AND ".join("(title LIKE ? OR summary LIKE ?)" for _ in terms)
    params = [p for t in terms for p in (f"%{t}%", f"%{t}%")]
    return store.query(
        f"SELECT story_id FROM items WHERE relevant = 1 AND {where} ORDER BY rowid DESC LIMIT 200",
        params,
    )


async def measure_commands(monitor: Any, calls: int, seed: int, report: Report) -> None:
    from bot.commands import CommandRouter

    router = CommandRouter(monitor)
    store = monitor.store
    naive_calls = max(5, calls // 10)
    searches = search_terms(calls, seed)
    await router_timings(router, ["status", "digest 24h", "digest 7d", *searches[:20]], 23)
    for text, target in (("status", "≤ 50"), ("digest 24h", "≤ 50"), ("digest 7d", "")):
        fast, answers = await router_timings(router, [text], calls)
        note = f"{answers // calls} stories per answer" if text != "status" else ""
        report.dist(text, fast, target=target, note=note)
        with Naive(store):
            slow, _ = await router_timings(router, [text], naive_calls)
        report.dist(f"  naive: same, indexes dropped ({naive_calls} calls)", slow)
    fast, answers = await router_timings(router, searches, calls)
    note = f"{answers / calls:.1f} stories per answer"
    report.dist("search (half common, half rare terms)", fast, target="≤ 150", note=note)
    for kind, terms in (("common", COMMON_SEARCHES), ("rare", RARE_SEARCHES)):
        part, _ = await router_timings(router, ["search " + t for t in terms], calls // 2)
        report.dist(f"  {kind} terms only", part, note=", ".join(terms))
    cycle = itertools.cycle(searches)
    slow = timings(lambda: like_search(store, next(cycle)), naive_calls)
    report.dist(f"  naive: LIKE scan of relevant items, SQL only ({naive_calls})", slow)
    report.dist(
        "floor: `help` through the router", (await router_timings(router, ["help"], calls))[0]
    )
    report.dist("floor: SELECT 1 round-trip", timings(lambda: store.scalar("SELECT 1"), calls))


OPEN_SCRIPT = """
import json, sqlite3, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from bot.store.db import Store
t1 = time.perf_counter()
store = Store({path!r})
t2 = time.perf_counter()
store.close()
t3 = time.perf_counter()
conn = sqlite3.connect({path!r})
conn.execute("SELECT 1").fetchone()
t4 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "open": t2 - t1, "floor": t4 - t3}}))
"""


def measure_open(path: Path, runs: int = 5) -> list[dict[str, float]]:
    script = OPEN_SCRIPT.format(root=str(ROOT), path=str(path))
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def wait_for_grouper(timeout: float = 1800) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            from bot.stories.grouper import StoryGrouper

            if hasattr(StoryGrouper, "from_store"):
                return StoryGrouper
        except ImportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("bot.stories.grouper.StoryGrouper.from_store never appeared")
        print("waiting for bot/stories/grouper.py …", flush=True)
        time.sleep(30)


def measure_rebuild(path: Path, settings: Any) -> tuple[list[float], float, str, int]:
    grouper_cls = wait_for_grouper()
    store = Store(path)
    try:
        runs = []
        size = 0
        for _ in range(3):
            start = time.perf_counter()
            grouper = grouper_cls.from_store(store, settings)
            _ = grouper.index  # rebuilt on first use: force it inside the timing
            runs.append(time.perf_counter() - start)
            size = len(getattr(getattr(grouper, "index", None), "entries", ()))
        floor = time.perf_counter()
        store.query(
            "SELECT id, canonical_url, feed_url, guid, story_id FROM items "
            "WHERE story_id IS NOT NULL"
        )
        newest = store.scalar("SELECT MAX(published) FROM items WHERE story_id IS NOT NULL")
        since = to_iso(
            datetime.strptime(newest, "%Y-%m-%dT%H:%M:%SZ")
            - timedelta(hours=2 * settings.window_hours)
        )
        store.query(
            "SELECT id, title, summary, lang, published FROM items "
            "WHERE story_id IS NOT NULL AND published >= ?",
            [since],
        )
        floor_s = time.perf_counter() - floor
        profiler = cProfile.Profile()
        profiler.enable()
        _ = grouper_cls.from_store(store, settings).index
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(12)
        return runs, floor_s, text.getvalue(), size
    finally:
        store.close()


@dataclass(slots=True)
class Retention:
    drain_s: float  # clearing the archive, call after call, as successive poll cycles would
    drain_calls: int
    worst_call_s: float
    cleared: int
    cycle_ms: float  # one poll cycle later: what aged out in 15 minutes
    cycle_cleared: int
    naive_ms: float  # the same cycle without the partial index


def measure_retention(store: Store, days: int) -> Retention:
    calls, cleared, worst = 0, 0, 0.0
    start = time.perf_counter()
    while True:
        began = time.perf_counter()
        done = store.apply_retention(days)
        worst = max(worst, time.perf_counter() - began)
        calls += 1
        cleared += done
        if not done:
            break
    drain_s = time.perf_counter() - start
    later = utcnow() + timedelta(minutes=15)
    store.db.execute("BEGIN")
    try:
        began = time.perf_counter()
        cycle = store.apply_retention(days, now=later)
        cycle_ms = (time.perf_counter() - began) * 1000
    finally:
        store.db.execute("ROLLBACK")
    store.db.execute("BEGIN")
    try:
        began = time.perf_counter()
        store.db.execute(
            "UPDATE items NOT INDEXED SET summary = '' WHERE relevant = 0 "
            "AND summary != '' AND fetched < ?",
            [to_iso(later - timedelta(days=days))],
        )
        naive_ms = (time.perf_counter() - began) * 1000
    finally:
        store.db.execute("ROLLBACK")
    return Retention(drain_s, calls, worst, cleared, cycle_ms, cycle, naive_ms)


def vacuumed_size(path: Path) -> tuple[float, float]:
    """What VACUUM would give back after retention, measured on a copy (VACUUM INTO)."""
    copy = path.with_name(path.name + ".vacuumed")
    copy.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        start = time.perf_counter()
        conn.execute("VACUUM INTO ?", [str(copy)])
        took = time.perf_counter() - start
    finally:
        conn.close()
    size = copy.stat().st_size / (1024 * 1024)
    copy.unlink()
    return size, took


UPGRADE_INDEXES = ("idx_items_retention", "idx_items_story_published", "idx_polls_finished")


def measure_upgrade(path: Path) -> float:
    """First open of a database made before 0002_storage_scale: it builds its indexes."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name in UPGRADE_INDEXES:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0002_storage_scale'")
    finally:
        conn.close()
    return measure_open(path, runs=1)[0]["open"]


def file_sizes(path: Path) -> tuple[float, float, float]:
    conn = sqlite3.connect(path)
    try:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        fts = conn.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'items_fts%'"
        ).fetchone()[0]
    except sqlite3.OperationalError:  # dbstat not compiled in
        fts = None
    finally:
        conn.close()
    mb = 1024 * 1024
    return pages * page / mb, (pages - free) * page / mb, (fts or 0) / mb


# --------------------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--db", type=Path, help="keep the database here (default: temp dir)")
    parser.add_argument("--batch", type=int, help="bulk_load batch (default: Store's)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    path = args.db or root / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    total = time.perf_counter()
    report = Report()
    write_config(root / "feeds.yaml", args.feeds)
    try:
        build(args, path, report)
        sizes_and_retention(path, report)
        start_up(path, root, report)
        commands(args, path, root, report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\n{args.items:,} items, {args.feeds:,} feeds, {args.calls} calls per command; "
        f"{os.cpu_count()} CPUs; SQLite {sqlite3.sqlite_version}"
    )
    report.print()
    print(f"\ntotal wall time {time.perf_counter() - total:.0f} s")


def build(args: argparse.Namespace, path: Path, report: Report) -> None:
    start = time.perf_counter()
    p = plan(args.items, args.feeds, args.seed, utcnow().timestamp())
    rows = Rows(p, args.seed)
    rows.build_relevant()
    stories = rows.stories()
    prep_s = time.perf_counter() - start
    store = Store(path)
    try:
        seed_feeds_and_polls(store, p)
        batch = {"batch": args.batch} if args.batch else {}
        start = time.perf_counter()
        # The irrelevant rows are generated as bulk_load consumes them: their text is in load_s.
        loaded = store.bulk_load(rows.items(), stories, **batch)
        load_s = time.perf_counter() - start
        relevant = store.scalar("SELECT COUNT(*) FROM items WHERE relevant = 1")
    finally:
        store.close()
    print(
        f"built {loaded.items:,} items ({relevant:,} relevant) in {loaded.stories:,} stories, "
        f"{args.feeds:,} feeds: plan {prep_s:.0f} s, bulk_load {load_s:.0f} s",
        flush=True,
    )
    rate = f"{loaded.items / load_s:,.0f} items/s, with text generation"
    report.one("bulk_load", load_s, "s", note=rate)


def sizes_and_retention(path: Path, report: Report) -> None:
    file_mb, _, fts_mb = file_sizes(path)
    report.one("database file after load", file_mb, "MB", note=f"FTS index {fts_mb:.0f} MB")
    store = Store(path)
    try:
        r = measure_retention(store, days=90)
    finally:
        store.close()
    note = f"{r.cleared:,} summaries, {r.drain_calls} calls, worst {r.worst_call_s * 1000:.0f} ms"
    report.one("retention: clearing the archive, call after call", r.drain_s, "s", note=note)
    report.one("retention: one poll cycle later", r.cycle_ms, "ms", note=f"{r.cycle_cleared} rows")
    report.one("  naive: same UPDATE as a table scan", r.naive_ms, "ms")
    file_mb, live_mb, _ = file_sizes(path)
    note = f"live pages {live_mb:.0f} MB: shortened rows keep their pages"
    report.one("database file after retention", file_mb, "MB", note=note)
    vacuum_mb, vacuum_s = vacuumed_size(path)
    report.one("  after VACUUM (on a copy)", vacuum_mb, "MB", note=f"VACUUM took {vacuum_s:.0f} s")


def start_up(path: Path, root: Path, report: Report) -> None:
    opens = measure_open(path)
    note = "5 fresh processes: p50 median, p99 max"
    report.dist(
        "open + migrate: Store(path)", [o["open"] * 1000 for o in opens], target="≤ 2000", note=note
    )
    report.dist("  floor: sqlite3.connect + SELECT 1", [o["floor"] * 1000 for o in opens])
    upgrade = measure_upgrade(path) * 1000
    report.one("  first open after upgrade (builds 0002's indexes)", upgrade, "ms")

    from bot.config import ConfigFile

    config = root / "feeds.yaml"
    runs, floor_s, profile, indexed = measure_rebuild(path, ConfigFile(config).settings.stories)
    note = f"3 runs; {indexed:,} items get text features"
    report.dist("story index rebuild: StoryGrouper.from_store", runs, "s", target="≤ 30", note=note)
    report.one("  floor: its SQL alone", floor_s, "s")
    if max(runs) > 5:
        print("\nstory index rebuild profile (cumulative):\n" + profile)


def commands(args: argparse.Namespace, path: Path, root: Path, report: Report) -> None:
    from bot.config import ConfigFile
    from bot.services.monitor import Monitor

    wait_for_grouper()
    monitor = Monitor(ConfigFile(root / "feeds.yaml"), Store(path), None)
    try:
        asyncio.run(measure_commands(monitor, args.calls, args.seed, report))
    finally:
        monitor.close()


if __name__ == "__main__":
    main()
