"""Word lists the classifier's features use: function words to drop, category cues to add.

Both are written in the model's normalised form (lowercase, accents stripped, digits as 0).
"""

from __future__ import annotations

from functools import lru_cache

# Function words of the corpus's languages. The corpus's negatives are written in longer,
# chattier sentences than its positives: with these words kept, the model learns "of", "and",
# "les" as evidence against relevance, and a long article drowns in them. "us" stays on
# purpose: lowercased, it is mostly the country.
_STOP_WORDS = {
    "en": "a an the and or but nor of to in on at by for from with without into onto over "
    "under about as than then that this these those there here it its it's is are was were be "
    "been being am do does did doing have has had having will would shall should can could may "
    "might must i you he she we they me him her them my your his our their who whom whose which "
    "what when where why how all any both each few more most other some such no only own same so "
    "too very just also not if because while after before during until since up down out off "
    "again further once s t",
    "fr": "le la les l un une des du de d et ou mais donc ni car a au aux en dans par pour sur "
    "sous avec sans chez vers entre que qu qui quoi dont ce cet cette ces son sa ses leur leurs "
    "mon ma mes ton ta tes notre nos votre vos il elle ils elles on nous vous je tu se s y est "
    "sont etait ont avait etre avoir fait plus ne pas n comme aussi tres tout tous toute toutes "
    "meme",
    "es": "el la los las lo un una unos unas de del al y e o u pero ni que en con por para sin "
    "sobre entre hasta desde hacia su sus se le les es son fue era ha han habia ser estar esta "
    "este esto estos estas ese esa eso como mas muy tambien ya no si porque cuando donde quien "
    "cual",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber in im an am "
    "auf aus bei mit nach von vom zu zum zur fur uber unter vor hinter zwischen durch gegen ohne "
    "um ist sind war waren wird werden wurde hat haben hatte sein ich du er sie es wir ihr sich "
    "nicht auch noch nur schon als wie wenn dass so sehr mehr",
    "pt": "o a os as um uma uns umas de do da dos das e ou mas nem que em no na nos nas com por "
    "pelo pela pelos pelas para sem sobre entre ate desde ao aos seu sua seus suas se lhe sao foi "
    "era ha ter ser estar como mais muito tambem ja nao porque quando onde quem qual",
    "it": "il lo la i gli le un uno una di del dello della dei degli delle e ed o ma che in nel "
    "nello nella nei negli nelle con per tra fra su sul sulla sui sugli sulle da dal dallo dalla "
    "dai dagli dalle a al allo alla ai agli alle suo sua suoi sue si ci sono era ha hanno essere "
    "avere come piu molto anche gia non perche quando dove chi",
    "nl": "de het een en of maar dat die dit deze van in op aan met voor door bij uit naar over "
    "onder tegen zonder om tot is zijn was waren wordt worden werd heeft hebben had ik je jij hij "
    "zij ze wij we jullie zich niet ook nog wel als dan zo meer er",
    "pl": "i w z na do o od po za przez przed pod nad dla ze sie jest sa byl byla bylo to ten ta "
    "te tego tej tym nie tak jak ale lub czy ktory ktora ktore ich jego jej oraz juz tez",
}
STOP_WORDS = frozenset(w for words in _STOP_WORDS.values() for w in words.split())

# What each category's news is about, in the corpus's languages: prior knowledge that carries
# to events and phrasings the corpus does not have ("Gericht" is a court in any story).
# An entry is a prefix of a word or of a two-word phrase (function words already dropped);
# one ending in "$" must match the whole word.
_CUES: dict[str, str] = {
    "legislation": "congress congres kongres senat senad senato lawmaker legislat legislad "
    "bill$ bills$ act$ statute hearing testif committee comite ausschuss commissie komisj "
    "chambre camara camera reprasentantenhaus abgeordnet deput diputad parlamentar vote voix "
    "voto votos voti stimmen stemm glos gesetz loi$ ley$ lei$ legge$ wet$ wetsvoorstel ustaw "
    "promulg unterzeichn podpis",
    "courts": "court judge justices scotus lawsuit sue$ sues$ sued$ suing suit$ ruling ruled "
    "injunction appeal tribunal cour$ juge gericht richter klage klagt verfassung juez jueces "
    "corte juiz giudic rechter rechtbank hof$ sad$ sadu sedzi skarg amendment amendement "
    "plaintiff petition unconstitution constitution",
    "executive": "executive_order white_house president presiden prasident prezydent trump biden "
    "administration administracion administracao amministrazione commerce_department doj$ "
    "attorney_general bondi cfius treasury extension extend delay enforce decret dekret "
    "ordre_execut orden_ejecut ordine_esecut ordem_execut maison_blanche casa_blanca "
    "casa_bianca weisse_haus weiße_haus witte_huis bialy_dom pause aussetz prolong prorrog "
    "verleng przedluz ejecutiv esecutiv exekutiv",
    "divestiture": "sale$ sell sold$ buyer bidder bid$ bids$ acqui joint_venture deal$ deals$ "
    "stake investor oracle microsoft walmart mccourt perplexity mnuchin vente vendr rachat "
    "repreneur venta vend compra verkauf kaufer ubernahm acquirent verkoop koper sprzeda kupc "
    "kupn cession framework accord$ acuerdo abkommen acordo accordo akkoord porozumi divest "
    "desinver coentreprise empresa_conjunta ownership",
    "device-bans": "device phone laptop government_issued state_issued work_phone employee agenc "
    "appareil telephon dispositiv movil celular aparelho telefon gerat diensthandy handy urzadz "
    "sluzbow campus universit military army navy pentagon servants fonctionnaire funcionari "
    "beamt ambtena dienst",
    "data-security": "data$ donnees datos daten dados dati gegevens dane$ project_texas algorithm "
    "spy spie espion surveil track journalist access privacy china_based beijing_based engineer "
    "audit leak cybersecur transfer stored storage server cloud silo datenschutz privacidad "
    "privacidade riservatezza",
    "international": "india canad pakistan nepal afghan albani indonesi vietnam somali jordan "
    "kyrgyz kirgis senegal eu$ european europe brussels bruxelles bruselas brussel dsa$ "
    "digital_services uk$ britain british australia zealand france german ital netherland dutch "
    "belgi denmark danish norway norweg taiwan russia hong_kong romania ireland irish dpc$ "
    "minist parliament parlement parlamento parlament ofcom kenya malaysia philippin uzbek "
    "armenia azerbaij turkey turkish iran bangladesh caledon neukaledonien",
    "lobbying": "lobby lobbi cabildeo creator influencer advert campaign campana kampagn campagn "
    "ad$ ads$ rally rallies pressure pitch promise jobs$ economic_impact small_business pac$ "
    "donat donor super_pac conway yass spent spending capitol_hill createur creador criador "
    "ersteller grassroots billboard hired pression presion pressao pressione",
}


def _entries(spec: str) -> tuple[tuple[str, ...], frozenset[str]]:
    words = [w.replace("_", " ") for w in spec.split()]
    prefixes = tuple(w for w in words if not w.endswith("$"))
    exact = frozenset(w[:-1] for w in words if w.endswith("$"))
    return prefixes, exact


CUES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    name: _entries(spec) for name, spec in _CUES.items()
}

# First words of the two-word cues: the only places a phrase cue can start.
PHRASE_HEADS = frozenset(
    prefix.split()[0] for prefixes, _ in CUES.values() for prefix in prefixes if " " in prefix
)


# Memoised (Zipf: most tokens recur) but bounded: 200,000 entries held ~30 MB with their keys
# after months of news vocabulary; 30,000 keep the common words at ~4 MB.
@lru_cache(maxsize=30_000)
def cues_of(ngram: str) -> tuple[str, ...]:
    """The categories whose cue list matches one word or two-word phrase."""
    return tuple(
        name
        for name, (prefixes, exact) in CUES.items()
        if ngram in exact or ngram.startswith(prefixes)
    )
