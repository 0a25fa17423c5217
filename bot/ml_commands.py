"""CLI commands for the models: classify, train, eval and cluster. Thin: parse, call, print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.config import DEFAULT_CONFIG, ConfigError, Settings, load_config


def _lines(path: Path | None) -> Iterator[str]:
    if path is None:
        yield from sys.stdin
        return
    with path.open(encoding="utf-8") as handle:
        yield from handle


def _settings(args: argparse.Namespace) -> Settings:
    """feeds.yaml when there is one; the defaults otherwise (classify needs no feed list)."""
    from bot.cli import config_path

    path = config_path(args)
    if path.exists() or args.config is not None:
        return load_config(path).settings
    if path != DEFAULT_CONFIG:
        raise ConfigError(f"{path}: file not found")
    return Settings()


def _models_root(args: argparse.Namespace) -> Path:
    from bot.cli import db_path
    from bot.services.monitor import model_root
    from bot.store.db import Store

    store = Store(db_path(args))
    try:
        return model_root(store)
    finally:
        store.close()


def _feedback(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bot.cli import db_path
    from bot.services.feedback import feedback_rows
    from bot.store.db import Store

    store = Store(db_path(args))
    try:
        return feedback_rows(store)
    finally:
        store.close()


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.relevance.classifier import load_model
    from bot.relevance.filter import RelevanceFilter
    from bot.relevance.model import TextInput

    settings = _settings(args)
    model = load_model(_models_root(args), feedback=_feedback(args))
    relevance = RelevanceFilter(model, settings.filter.threshold)
    out = sys.stdout
    for number, line in enumerate(_lines(args.input), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = TextInput(
                str(row["id"]),
                str(row.get("title") or ""),
                str(row.get("summary") or ""),
                str(row.get("lang") or ""),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            out.write(json.dumps({"line": number, "error": f"bad input: {exc}"}) + "\n")
            continue
        verdict = relevance.judge_texts([text])[0]
        result: dict[str, Any] = {
            "id": text.id,
            "relevant": verdict.relevant,
            "score": verdict.score,
            "category": verdict.category if verdict.relevant else None,
        }
        if args.explain:
            result["stage"] = verdict.stage
            result["explain"] = _explanation(model, text, verdict.stage)
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


GATE_STOP = "stopped at the keyword gate: no TikTok name or no restriction vocabulary"


def _explanation(model: Any, text: Any, stage: str) -> str | list[dict[str, Any]]:
    if stage == "keyword":
        return GATE_STOP
    return [{"feature": name, "weight": round(weight, 4)} for name, weight in model.explain(text)]


def cmd_train(args: argparse.Namespace) -> int:
    from bot.relevance.classifier import model_key, model_path, save_model, train_model
    from bot.relevance.dataset import feedback_examples

    rows = _feedback(args)
    model = train_model(feedback_examples(rows))
    model.key = model_key(rows)
    path = model_path(_models_root(args), model.key)
    save_model(model, path)
    print(f"Trained {model.key} with {len(rows)} feedback rows; saved to {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.stories:
        from bot.stories.evaluate import evaluate_stories

        report = evaluate_stories()
    else:
        from bot.relevance.evaluate import evaluate

        report = evaluate()
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.format())
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from bot.stories.cluster import cluster_lines

    settings = _settings(args)
    for result in cluster_lines(_lines(args.input), settings.stories):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0
