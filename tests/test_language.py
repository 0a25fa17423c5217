"""Language detection, and the cache that spares each process py3langid's slow model load."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.language import LANGUAGES, cache_path, detect_language, load_identifier

SAMPLES = (
    "La Cour suprême confirme la loi qui peut interdire TikTok",
    "Der Oberste Gerichtshof bestätigt das TikTok-Gesetz",
    "The Supreme Court upholds the law that could ban TikTok",
    "El Congreso aprueba la venta obligatoria de TikTok",
    "Верховный суд США оставил в силе закон о запрете TikTok",
    "美国最高法院维持了可能禁止TikTok的法律",
)


def test_languages() -> None:
    assert detect_language("La Cour suprême confirme la loi qui peut interdire TikTok") == "fr"
    assert detect_language("Der Oberste Gerichtshof bestätigt das TikTok-Gesetz") == "de"
    assert detect_language("The Supreme Court upholds the law that could ban TikTok") == "en"
    assert detect_language("   ", hint="fr-CA") == "fr"


def test_the_cached_identifier_answers_exactly_like_py3langid(tmp_path: Path) -> None:
    fresh = load_identifier(tmp_path)  # from py3langid's model, then written to the cache
    cached_file = cache_path(tmp_path)
    assert cached_file.exists()
    cached = load_identifier(tmp_path)  # from the cache
    assert cached.nb_classes == fresh.nb_classes == sorted(LANGUAGES)
    for text in SAMPLES:
        assert cached.classify(text) == fresh.classify(text)
        assert cached.rank(text) == fresh.rank(text)


def test_a_damaged_cache_is_rebuilt_and_an_unwritable_one_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = cache_path(tmp_path)
    path.write_bytes(b"not an archive")
    (tmp_path / "langid-0000000000000000.npz").write_bytes(b"an older version's")

    identifier = load_identifier(tmp_path)

    assert identifier.classify(SAMPLES[0])[0] == "fr"
    assert "unreadable" in caplog.text
    assert [p.name for p in tmp_path.glob("langid-*.npz")] == [path.name]  # rebuilt, old gone
    assert load_identifier(tmp_path).classify(SAMPLES[1])[0] == "de"

    blocked = tmp_path / "file"  # a file where the directory should be
    blocked.write_text("")
    assert load_identifier(blocked).classify(SAMPLES[2])[0] == "en"
    assert load_identifier(None).classify(SAMPLES[3])[0] == "es"
