"""The multilingual keyword gate: generous on the story, closed to everything else."""

from __future__ import annotations

import pytest

from bot.relevance.keywords import KeywordGate

GATE = KeywordGate()


@pytest.mark.parametrize(
    "title",
    [
        "Supreme Court upholds law that could ban TikTok",
        "La Cour suprême valide la loi qui menace d'interdire TikTok",
        "El Senado aprueba la ley que obliga a ByteDance a vender TikTok",
        "Bundesregierung prüft TikTok-Verbot auf Diensthandys",
        "Câmara dos EUA aprova projeto de lei que pode proibir o TikTok",
        "Il Congresso approva il divieto di TikTok se ByteDance non vende",
        "Tweede Kamer wil verbod op TikTok voor ambtenaren",
        "抖音 faces scrutiny from Beijing regulators",
    ],
)
def test_story_passes_in_every_language(title: str) -> None:
    assert GATE.passes(title, "")


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Instagram launches a new Reels editor", "Meta says creators asked for it."),
        ("Congress passes the farm bill", "Lawmakers approved subsidies."),
        ("TikTok's new dance craze", "Everyone is doing it this summer."),
    ],
)
def test_other_news_is_stopped(title: str, summary: str) -> None:
    assert not GATE.passes(title, summary)


def test_accents_and_case_do_not_matter() -> None:
    assert GATE.passes("El Gobierno PROHÍBE TikTok en los móviles oficiales", "")
    assert GATE.passes("Brasil proíbe o TikTok em celulares do governo", "")
    assert GATE.passes("Nederland blokkeert TikTok op werktelefoons", "")
