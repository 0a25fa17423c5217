"""The article spinner: reproducible, case-preserving synonym swaps like the real ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.relevance.dataset import Example, spun_variant, with_spun_variants
from bot.relevance.spinner import SWAPS, Spinner, match_case, spin

ALWAYS = Spinner(rate=1.0)
TEXT = (
    "According to a new report, the parent company of TikTok moved user data via Project "
    "Texas. However, employees said Wall Street would help customers this year."
)


def test_table_has_many_real_swaps() -> None:
    real = [k for k, v in SWAPS.items() if any(r.lower() != k for r in v)]
    assert len(real) >= 150
    assert all(k == k.lower() and v for k, v in SWAPS.items())


def test_same_seed_same_output_and_seeds_differ() -> None:
    assert spin(TEXT, "a") == spin(TEXT, "a")
    outputs = {spin(TEXT, seed) for seed in range(8)}
    assert len(outputs) > 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("parent company", {"dad or mum firm", "guardian firm", "mother or father firm"}),
        ("Project Texas", {"Venture Texas", "Mission Texas"}),
        ("user data", {"consumer information", "person information", "consumer knowledge"}),
        ("via", {"by way of", "through"}),
        ("Wall Street", {"Wall Road"}),
        ("economy", {"financial system", "economic system"}),
        ("community", {"group", "neighborhood"}),
    ],
)
def test_known_spinner_swaps(source: str, expected: set[str]) -> None:
    assert ALWAYS.spin(source, seed=1) in expected


def test_case_is_preserved() -> None:
    assert ALWAYS.spin("However", seed=0)[0].isupper()
    assert ALWAYS.spin("HOWEVER", seed=0).isupper()
    assert ALWAYS.spin("however", seed=0).islower()
    assert match_case("Chinese Government", "Chinese language authorities") == (
        "Chinese Language Authorities"
    )


def test_longest_phrase_wins_and_swaps_do_not_chain() -> None:
    out = ALWAYS.spin("user data", seed=3)
    assert not out.startswith("user")
    # "data" -> "information" must not be swapped again into "info"/"data".
    assert out in SWAPS["user data"]


def test_names_and_the_ban_itself_stay() -> None:
    text = "TikTok and ByteDance face a ban in the United States."
    out = ALWAYS.spin(text, seed=5)
    for word in ("TikTok", "ByteDance", "ban"):
        assert word in out


def test_rate_zero_changes_nothing_and_rate_is_checked() -> None:
    assert Spinner(rate=0.0).spin(TEXT, seed=9) == TEXT
    with pytest.raises(ValueError):
        Spinner(rate=1.5)


def test_curly_apostrophes_match() -> None:
    assert ALWAYS.spin("it won\u2019t", seed=2) != "it won\u2019t"


def test_spun_variant_keeps_event_and_label() -> None:
    example = Example(
        id="x1",
        title="Senate passes the new TikTok bill",
        summary="According to officials, the parent company must sell the app via a deal.",
        lang="en",
        relevant=True,
        label="legislation",
        kind="positive",
        event="senate-vote",
    )
    spun = spun_variant(example)
    assert spun.spun and spun.id == "x1~spun" and spun.source == "spinner"
    assert (spun.event, spun.label, spun.relevant) == ("senate-vote", "legislation", True)
    assert spun.summary != example.summary
    assert spun_variant(example) == spun  # deterministic
    assert len(with_spun_variants([example], share=100)) == 2
    french = replace(example, id="x2", lang="fr")
    assert len(with_spun_variants([french], share=100)) == 1  # the spinner speaks English
    assert len(with_spun_variants([example], share=0)) == 1
