"""Small multilingual tables for the evidence extractor (all entries folded: no accents).

Kept as whitespace- or "|"-separated strings: compact to read and to extend. They cover the
languages the feeds carry (en, fr, es, de, pt, it) and only things that get translated: month
names, institutions, the verbs of the events this story is made of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many words, factored by shared prefixes ("ja(?:n|nvier|...)").
    Python's re tries a flat alternation branch by branch at every position; the factored
    form rejects a position after one character, which makes month and phrase scans ~5x
    faster."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def walk(node: dict[str, dict]) -> str:
        branches = [re.escape(c) + walk(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return walk(trie)


def _table(spec: str) -> dict[str, tuple[str, ...]]:
    """Lines of "key: a | b | c" -> {key: (a, b, c)}; " | " (spaced) separates, so patterns
    may use a bare "|" inside."""
    table: dict[str, tuple[str, ...]] = {}
    for line in spec.strip().splitlines():
        key, _, values = line.partition(":")
        table[key.strip()] = tuple(v.strip() for v in values.split(" | ") if v.strip())
    return table


MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            "january jan janvier janv enero ene januar jaenner janeiro gennaio",
            "february feb fevrier fevr febrero februar fevereiro fev febbraio",
            "march mar mars marzo maerz marz marco",
            "april apr avril abril aprile",
            "may mai mayo maio maggio",
            "june jun juin junio juni junho giugno",
            "july jul juillet juil julio juli julho luglio",
            "august aug aout agosto",
            "september sept sep septembre septiembre setiembre settembre setembro",
            "october oct octobre octubre oktober outubro ottobre",
            "november nov novembre noviembre novembro",
            "december dec decembre diciembre dezember dezembro dicembre",
        ],
        start=1,
    )
    for name in names.split()
}

# Event types a headline can report: regex alternatives over folded text ("ä" is "a").
EVENTS = _table(
    r"""
pass: pass(?:es|ed|ing)?\b | approv\w* | clear(?:s|ed)\b | vot(?:e|es|ed|ing)\b | adopt\w*
    | aprob\w* | aprueba\w* | vota\b | verabschied\w* | billig\w* | beschlie\w* | aprova\w*
    | approva\w*
sign: sign(?:s|ed|ing)?\b | sign[ea]\w* | promulg\w* | firm(?:a|o|ara)\b | unterzeichn\w*
    | unterschreib\w* | assin\w* | sancion\w* | enact\w*
block: block\w* | halt\w* | injunction\w* | strik\w* down | struck down | bloqu\w* | suspend\w*
    | stopp\w* | blocca\w* | sospend\w* | enjoin\w*
uphold: uph[eo]ld\w* | valid(?:e|a|ated?|ates)\b | confirm(?:e|a|o)\b | ratific\w* | avala\w*
    | bestatig\w* | bestaetig\w*
extend: extend\w* | extension\w* | delay\w* | postpon\w* | reprieve\w* | prolong\w* | repouss\w*
    | prorrog\w* | prorog\w* | aplaz\w* | verlanger\w* | verlaenger\w* | verschieb\w*
    | aufschub\w* | adia\w*
sue: sue[sd]?\b | suing\b | lawsuit\w* | poursui\w* | plainte\w* | demand(?:a|an|o)\b
    | verklag\w* | klage\w* | processa\w*
testify: testif\w* | hearing\w* | testimon\w* | audition\w* | temoign\w* | compare(?:ce|cio)\w*
    | anhorung\w* | anhoerung\w* | grill\w*
""".replace("\n    |", " |")
)

# Multi-word institutions folded to one entity key, whatever the language.
PHRASES = _table(
    """
supreme-court: supreme court | supreme courtroom | cour supreme | corte suprema
    | oberste gerichtshof | obersten gerichtshof | oberster gerichtshof | supremo tribunal
    | tribunal supremo
house: house of representatives | home of representatives | chambre des representants
    | camara de representantes | camara dos representantes | reprasentantenhaus
    | repraesentantenhaus | camera dei rappresentanti
white-house: white house | white home | maison blanche | casa blanca | casa branca | casa bianca
    | weisse haus | weissen haus | weisses haus | weißes haus | weißen haus
us: united states | etats-unis | estados unidos | vereinigten staaten | vereinigte staaten
    | stati uniti
justice-department: justice department | department of justice | ministere de la justice
    | departamento de justicia | departamento de justica | justizministerium
    | dipartimento di giustizia
commerce-department: commerce department | department of commerce | departement du commerce
    | departamento de comercio | handelsministerium
first-amendment: first amendment | first modification | premier amendement | primera enmienda
    | primeira emenda | ersten verfassungszusatz | erste verfassungszusatz | primo emendamento
european-union: european union | union europeenne | union europea | europaische union
    | europaeische union | uniao europeia | unione europea
executive-order: executive order | government order | decret presidentiel | orden ejecutiva
    | ordem executiva | exekutivanordnung | ordine esecutivo
european-commission: european commission | eu commission | commission europeenne
    | comision europea | europaische kommission | eu-kommission | commissione europea
    | comissao europeia | europese commissie
european-parliament: european parliament | eu parliament | parlement europeen
    | parlamento europeo | europaisches parlament | europaische parlament | parlamento europeu
    | europees parlement
uk: united kingdom | great britain | royaume-uni | reino unido | vereinigtes konigreich
    | vereinigte konigreich | regno unito | verenigd koninkrijk
new-zealand: new zealand | nouvelle-zelande | nueva zelanda | neuseeland | nuova zelanda
    | nova zelandia | nieuw-zeeland
south-dakota: south dakota | dakota du sud | dakota del sur | suddakota | dakota do sul
    | dakota del sud | zuid-dakota
""".replace("\n    |", " |")
)

# Single names that translate.
ALIASES: dict[str, str] = {
    alias: key
    for key, aliases in _table(
        """
china: chine | chinois | chinoise | chinese | chino | chinesische | chines | chinesa | cinese
    | cina
us: etats-unis | eeuu | usa | u.s | u.s. | eua | america | american | americans | americain
senate: senat | senado | senato
congress: congres | congreso | kongress | congresso
beijing: pekin | pequim | pechino
uk: britain | british | britannique | britanico | britisch | britannico | brits | grossbritannien
canada: kanada | canadian | canadien | canadienne | canadiense | kanadisch | kanadische | canadese
    | canadense | canadees
india: inde | indien | indian | indienne | indio | indisch | indische | indiano
france: francia | frankreich | franca | frankrijk | french | francais | francaise | frances
    | franzosisch | franzosische | francese | frans | franse
germany: allemagne | alemania | deutschland | germania | alemanha | duitsland | german
    | allemand | deutsche | tedesco | alemao | duits
european-union: eu | ue
russia: russie | rusia | russland | rusland | russian | russe | ruso | russisch | russo
ukraine: ucrania | ucraina | oekraine
japan: japon | giappone | japao
australia: australie | australien
belgium: belgique | belgica | belgien | belgio | belgie
netherlands: pays-bas | paises bajos | niederlande | paesi bassi | paises baixos | nederland
denmark: danemark | dinamarca | danemark | danimarca | denemarken
norway: norvege | noruega | norwegen | norvegia | noorwegen
pakistan: pakistan
indonesia: indonesie | indonesien
afghanistan: afganistan
taiwan: taiwanese | taiwanais
""".replace("\n    |", " |")
    ).items()
    for alias in aliases
}

# Present in nearly every relevant item: no evidence about which event an item reports.
UBIQUITOUS = frozenset("tiktok bytedance us china app ceo".split())

# Capitalised words that are not names: function words at sentence starts, titles, weekdays.
ENTITY_STOP = frozenset(
    """est the a an and but or in on at by for from with as of to this that these those it its
he she they we you i his her their our after before while when where what which who how why
if so yet also then there here according meanwhile however le la les un une des du de et
dans pour par avec selon mais il elle ils elles ce cette ces en au aux el los las del y con
por para der die das ein eine und mit von fur im am o os um uma com pelo pela il lo gli di
president presidente prasident monday tuesday wednesday thursday friday saturday sunday lundi
mardi mercredi jeudi vendredi samedi dimanche lunes martes miercoles jueves viernes sabado
domingo montag dienstag mittwoch donnerstag freitag samstag sonntag""".split()
) | frozenset(MONTHS)

NOT_CHAMBER = re.compile(
    r"white house|white home|maison blanche|casa blanca|casa branca|casa bianca|weisse haus"
)
CHAMBERS = {
    "house": re.compile(
        r"\b(house|home|chambre|camara|repraesentantenhaus|reprasentantenhaus|camera)\b"
    ),
    "senate": re.compile(r"\b(senate|senat|senado|senato)\b"),
}
