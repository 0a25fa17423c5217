"""`tiktok-monitor demo`, run as a newcomer runs it: the digest shows the story, not the noise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FEEDS = Path(__file__).resolve().parents[2] / "bot" / "demo" / "feeds"


def run_demo(tmp_path: Path) -> str:
    env = {**os.environ, "TIKTOK_MONITOR_MODELS": str(tmp_path / "models")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_prints_relevant_stories_once_and_no_noise(tmp_path: Path) -> None:
    out = run_demo(tmp_path)
    key = json.loads((FEEDS / "expected.json").read_text(encoding="utf-8"))["items"]
    digest = out.split("TikTok ban story · status")[0]
    assert "TikTok ban digest" in digest and "developments:" in digest
    assert "answered 304 Not Modified" in out

    irrelevant = [i["title"] for i in key if not i["relevant"]]
    for title in irrelevant:
        assert title[:50] not in digest, f"irrelevant item in the digest: {title}"

    # Each relevant story appears once: exactly one of its copies is the digest line.
    stories: dict[str, list[str]] = {}
    for item in key:
        if item["relevant"] and item.get("recent", True):
            stories.setdefault(item["story"], []).append(item["title"])
    for story, titles in stories.items():
        shown = sum(1 for t in titles if t[:50] in digest)
        assert shown == 1, f"story {story} shown {shown} times"
