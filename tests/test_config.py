"""feeds.yaml: what an admin sees when it is wrong, and that saving keeps their comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, ConfigFile, feeds_sequence, load_config, parse_duration

REPO_CONFIG = Path(__file__).resolve().parents[1] / "feeds.yaml"


def test_shipped_config_is_valid_and_has_real_feeds() -> None:
    settings = load_config(REPO_CONFIG).settings
    assert 10 <= len(settings.feeds) <= 20
    assert all(f.url.startswith("https://") for f in settings.feeds)
    assert settings.network.allow_private_addresses is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "poll_every: 15m\nfeeds:\n  - url: https://a.example/f\n    nmae: typo\n",
            "<config>:4: feeds.0.nmae: unknown setting",
        ),
        ("poll_every: 10 minutes\n", "<config>:1: poll_every: '10 minutes' is not a duration"),
        ("poll_every: 15m\nfilter:\n  threshold: 1.5\n", "<config>:3: filter.threshold"),
        ("feeds:\n  - url: file:///etc/passwd\n", "<config>:2: feeds.0.url: must start with http"),
        ("digest:\n  timezone: Mars/Olympus\n", "<config>:2: digest.timezone"),
        ("feeds: [\n", "not valid YAML"),
    ],
)
def test_errors_name_the_key_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(text=text)
    assert expected in str(info.value)


def test_save_is_atomic_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "# top comment\npoll_every: 5m  # fast\nfeeds:\n  - url: https://a.example/f  # first\n"
        "    name: A\n",
        encoding="utf-8",
    )
    config = ConfigFile(path)
    document = config.editable()
    feeds_sequence(document).append({"url": "https://b.example/f", "name": "B"})
    config.save(document)
    text = path.read_text(encoding="utf-8")
    assert "# top comment" in text and "# fast" in text and "# first" in text
    assert [f.name for f in config.settings.feeds] == ["A", "B"]
    assert not list(tmp_path.glob(".feeds-*"))


def test_durations() -> None:
    assert parse_duration("15m").total_seconds() == 900
    assert parse_duration("2h").total_seconds() == 7200
    with pytest.raises(ValueError):
        parse_duration("soon")
