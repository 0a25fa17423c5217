"""Classifier throughput on one core, and the model's cold load time.

Texts: the held-out split plus spun re-writes of it (fresh seeds, so every text differs),
cycled to --items. Three ways of running the product's filter (keyword gate, then the model):
batches of 30 as the poller sends them, one batch of everything, and one item at a time (the
naive figure, measured on --naive items). The load time is measured in a fresh Python process
that imports the package and loads the cached joblib file, as the bot does at start.

Usage: python bench/classify.py [--items 10000] [--naive 1000] [--cpu 0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.relevance.classifier import (  # noqa: E402
    FitParams,
    _training_arrays,
    fit_estimators,
    load_model,
    make_doc,
    model_key,
    model_path,
)
from bot.relevance.dataset import load_dataset  # noqa: E402
from bot.relevance.filter import RelevanceFilter  # noqa: E402
from bot.relevance.model import TextInput  # noqa: E402
from bot.relevance.spinner import spin  # noqa: E402

LOAD_SNIPPET = """
import time, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
import joblib
from bot.relevance.classifier import load_model
t1 = time.perf_counter()
model = joblib.load({path!r})
t2 = time.perf_counter()
load_model(Path({storage!r}))
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def texts(n: int) -> list[TextInput]:
    """The held-out split, then spun copies of it with new seeds, cycled to n items."""
    base = [TextInput(e.id, e.title, e.summary, e.lang) for e in load_dataset().test]
    out = list(base)
    round_ = 0
    while len(out) < n:
        round_ += 1
        for t in base:
            if len(out) >= n:
                break
            seed = f"bench{round_}:{t.id}"
            out.append(TextInput(f"{t.id}#{round_}", spin(t.title, seed), spin(t.summary, seed)))
    return out[:n]


def rate(label: str, n: int, run: Callable[[], object]) -> float:
    """Items per second of wall time, beside items per CPU-second (what other load can't skew)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"  {label:<34} {n:>6} items  {wall:7.3f} s  {n / wall:9,.0f} items/s"
        f"  ({n / cpu:,.0f} per CPU-second)"
    )
    return n / wall


def batched(flt: RelevanceFilter, items: Sequence[TextInput], size: int) -> None:
    for start in range(0, len(items), size):
        flt.judge_texts(items[start : start + size])


def sklearn_scoring(items: Sequence[TextInput]) -> Callable[[], object]:
    """The same model scored through scikit-learn's own objects (vectorisers, calibrated LR)."""
    fitted = fit_estimators(*_training_arrays(load_dataset().train), FitParams())

    def run() -> None:
        x = fitted.transform([make_doc(t.title, t.summary) for t in items])
        fitted.relevance.predict_proba(x[:, fitted.relevance_cols])
        fitted.category.predict_proba(x[:, fitted.category_cols])

    return run


def cold_load(storage: Path, path: Path) -> tuple[float, float, float]:
    code = LOAD_SNIPPET.format(root=str(ROOT), path=str(path), storage=str(storage))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    imports, joblib_load, load_model_s = (float(x) for x in out.split())
    return imports, joblib_load, load_model_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=1_000, help="items for one-at-a-time")
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: do not pin)")
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})  # children (the cold-load process) inherit it

    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1):
        storage = Path(tmp)
        start = time.perf_counter()
        model = load_model(storage)  # trains and caches: nothing is cached in a fresh dir
        train_s = time.perf_counter() - start
        path = model_path(storage, model_key())
        items = texts(args.items)
        flt = RelevanceFilter(model, threshold=0.5)
        gate_passed = sum(flt.gate.passes(t.title, t.summary) for t in items)
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else "?"
        print(f"model {model.name} · CPUs {sorted(cpus) if cpus != '?' else cpus}")
        print(f"training (cold cache): {train_s:.2f} s · artefact {path.stat().st_size:,} bytes")
        print(f"items: {len(items)} · passed the keyword gate: {gate_passed}")
        print("throughput (RelevanceFilter.judge_texts):")
        for block in model.blocks:  # start cold: the per-word n-gram caches fill as items come
            block.cache.clear()
        rate("batches of 30 (the poller)", len(items), lambda: batched(flt, items, 30))
        rate("one batch", len(items), lambda: flt.judge_texts(items))
        naive = items[: args.naive]
        rate("one item at a time (naive)", len(naive), lambda: batched(flt, naive, 1))
        rate("model.predict alone, one batch", len(items), lambda: model.predict(items))
        rate("scikit-learn objects, one batch", len(items), sklearn_scoring(items))
        imports, joblib_s, load_s = cold_load(storage, path)
        print("cold load in a fresh process:")
        print(f"  imports (bot.relevance.classifier)               {imports:6.3f} s")
        print(f"  joblib.load of the artefact                      {joblib_s:6.3f} s")
        print(f"  load_model (key check + load)                    {load_s:6.3f} s")
        print(f"  total from a cold interpreter                    {imports + load_s:6.3f} s")


if __name__ == "__main__":
    main()
