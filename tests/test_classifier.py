"""The trained relevance model: samples, look-alikes, categories, feedback, cache, targets.

The model is trained once per session in a temporary storage dir (a few seconds, offline);
the held-out targets are asserted so that a regression fails CI.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.models import CATEGORIES, Verdict
from bot.relevance.classifier import (
    _PUNCTUATION,
    FitParams,
    TfidfModel,
    _content,
    _training_arrays,
    fit,
    fit_estimators,
    load_model,
    make_doc,
    model_key,
    model_path,
    normalise,
    to_runtime,
)
from bot.relevance.dataset import (
    corpus_fingerprint,
    feedback_examples,
    load_corpus,
    load_dataset,
    spun_variant,
)
from bot.relevance.evaluate import (
    SAMPLE_CATEGORIES,
    TARGETS,
    EvalReport,
    article_to_input,
    evaluate,
)
from bot.relevance.filter import RelevanceFilter
from bot.relevance.lexicon import STOP_WORDS
from bot.relevance.model import TextInput
from bot.relevance.spinner import Spinner

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "articles"
SAMPLE_FILES = sorted(SAMPLES.glob("[0-9][0-9][0-9]_*.txt")) if SAMPLES.is_dir() else []


@pytest.fixture(scope="session")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="session")
def model(storage: Path) -> TfidfModel:
    return load_model(storage)


@pytest.fixture(scope="session")
def report(model: TfidfModel) -> EvalReport:
    return evaluate(model)


def judge(model: TfidfModel, title: str, summary: str = "", lang: str = "en") -> Verdict:
    return RelevanceFilter(model, 0.5).judge_texts([TextInput("t", title, summary, lang)])[0]


# --- the sample articles ----------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE_FILES, reason=f"sample articles absent ({SAMPLES})")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name[:3])
def test_sample_articles_are_kept_with_their_category(model: TfidfModel, path: Path) -> None:
    item = article_to_input(path.name, path.read_text(encoding="utf-8"))
    verdict = RelevanceFilter(model, 0.5).judge_texts([item])[0]
    assert verdict.relevant, (path.name, verdict.score)
    assert verdict.category == SAMPLE_CATEGORIES[path.name[:3]], (path.name, verdict)


@pytest.mark.skipif(not SAMPLE_FILES, reason=f"sample articles absent ({SAMPLES})")
def test_article_boilerplate_is_stripped() -> None:
    texts = {p.name[:3]: p.read_text(encoding="utf-8") for p in SAMPLE_FILES}
    comment_form = article_to_input("001", texts["001"])
    assert comment_form.title == "TikTok Trying to Win Allies in the US Over Data Concerns"
    assert "Leave a Reply" not in comment_form.summary
    bio = article_to_input("003", texts["003"] + "\n")
    assert "Rédigé par" not in bio.summary and "Erwan" not in bio.summary
    assert bio.lang == "fr"


def test_article_without_headline_uses_first_sentence() -> None:
    text = "TikTok faces a ban in the US. Lawmakers voted on Tuesday.\nMore text here.\n"
    item = article_to_input("x", text, lang="en")
    assert item.title == "TikTok faces a ban in the US."
    assert item.summary.startswith("Lawmakers voted")


# --- look-alikes, spun copies, categories ------------------------------------------------------

HARD_NEGATIVES = [
    (
        "TikTok bans the 'blackout challenge' hashtag",
        "Searches for the dangerous trend now lead"
        " to a safety page after reports of injuries among teenagers.",
    ),
    (
        "TikTok Shop sets a Black Friday sales record",
        "Sellers on the in-app store moved more"
        " merchandise in 24 hours than on any day since its US launch.",
    ),
    (
        "TikTok bans a popular streamer for repeated harassment",
        "The account with four million"
        " followers was removed under the platform's community guidelines.",
    ),
    (
        "Instagram copies TikTok's vertical feed again",
        "Meta is testing a full-screen layout that critics say looks like a clone of its rival.",
    ),
]


@pytest.mark.parametrize(("title", "summary"), HARD_NEGATIVES, ids=lambda v: v[:24])
def test_hard_negatives_are_dropped(model: TfidfModel, title: str, summary: str) -> None:
    verdict = judge(model, title, summary)
    assert not verdict.relevant, verdict


CATEGORY_EXAMPLES = {
    "legislation": (
        "Senators unveil bipartisan bill to ban TikTok unless ByteDance sells it",
        "The measure would bar app stores from distributing the app; a committee vote is "
        "expected next week.",
    ),
    "courts": (
        "Federal judge hears TikTok's First Amendment challenge to the divest-or-ban law",
        "Lawyers for the company asked the court to block the statute before the deadline.",
    ),
    "executive": (
        "President signs executive order pausing enforcement of the TikTok ban",
        "The White House told the Justice Department not to penalise app stores for another "
        "90 days.",
    ),
    "divestiture": (
        "Investor group led by Oracle nears deal to buy TikTok's US operations",
        "ByteDance would keep a minority stake under the proposed joint venture, people "
        "familiar with the talks said.",
    ),
    "device-bans": (
        "Ohio bars TikTok from all state-issued phones and laptops",
        "The governor ordered agencies to delete the app from government devices within 30 days.",
    ),
    "data-security": (
        "Leaked audio shows China-based staff accessed US TikTok user data",
        "The recordings suggest engineers in Beijing could see American users' information "
        "despite the company's promises to regulators.",
    ),
    "international": (
        "Nepal's government bans TikTok, citing social harmony",
        "The cabinet ordered telecom regulators to block the app across the country.",
    ),
    "lobbying": (
        "TikTok pours record sums into Washington lobbying as ban vote nears",
        "Disclosure filings show the company hired former lawmakers and ran ads urging users "
        "to call their representatives.",
    ),
}


@pytest.mark.parametrize("category", CATEGORIES)
def test_category_examples(model: TfidfModel, category: str) -> None:
    title, summary = CATEGORY_EXAMPLES[category]
    verdict = judge(model, title, summary)
    assert verdict.relevant, verdict
    assert verdict.category == category, verdict


@pytest.mark.parametrize("category", CATEGORIES)
def test_spun_positive_stays_positive(model: TfidfModel, category: str) -> None:
    title, summary = CATEGORY_EXAMPLES[category]
    spinner = Spinner(rate=1.0)  # every swap the table knows: the hardest case
    spun_title, spun_summary = spinner.spin(title, 1), spinner.spin(summary, 2)
    assert (spun_title, spun_summary) != (title, summary)
    out = model.predict([TextInput("s", spun_title, spun_summary, "en")])[0]
    assert out.score >= 0.5, (spun_title, out)


def test_scores_are_probabilities(model: TfidfModel) -> None:
    dataset = load_dataset()
    inputs = [TextInput(e.id, e.title, e.summary, e.lang) for e in dataset.test]
    inputs.append(TextInput("empty", "", "", ""))
    outputs = model.predict(inputs)
    assert len(outputs) == len(inputs)
    for out in outputs:
        assert 0.0 <= out.score <= 1.0
        assert 0.0 <= out.category_score <= 1.0
        assert out.category in CATEGORIES
    assert model.predict([]) == []
    assert set(model.classes) == set(CATEGORIES)


def test_explain_names_features_with_signs(model: TfidfModel) -> None:
    item = TextInput("e", "Supreme Court upholds the law that could ban TikTok", "", "en")
    pairs = model.explain(item, top=8)
    assert 0 < len(pairs) <= 8
    assert all(isinstance(name, str) and name for name, _ in pairs)
    assert any(value > 0 for _, value in pairs) and any(value < 0 for _, value in pairs)
    assert sum(value for _, value in pairs if value > 0) > 0
    assert any(name.startswith('"') for name, _ in pairs) or any(" " in n for n, _ in pairs)


# --- the runtime is scikit-learn's model --------------------------------------------------------


def test_runtime_matches_scikit_learn() -> None:
    dataset = load_dataset()
    docs, y, labels, weights = _training_arrays(dataset.train)
    fitted = fit_estimators(docs, y, labels, weights, FitParams())
    runtime = to_runtime(fitted)
    probe = [make_doc(e.title, e.summary) for e in dataset.test]
    probe += [make_doc("", ""), make_doc("TikTok", ""), make_doc("", "ban TikTok")]
    x = fitted.transform(probe)
    assert abs(runtime.features(probe) - x).max() < 1e-5
    relevance, category = runtime.scores(probe)
    expected_relevance = fitted.relevance.predict_proba(x[:, fitted.relevance_cols])[:, 1]
    expected_category = fitted.category.predict_proba(x[:, fitted.category_cols])
    assert np.allclose(relevance, expected_relevance, atol=1e-5)
    assert np.allclose(category, expected_category, atol=1e-5)


def test_word_cache_stays_bounded_and_changes_no_score(
    model: TfidfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Months of news bring new words every day: the per-word n-gram cache must not grow with
    them, and whether a word's ids come from the cache or fresh must not change a score."""
    import bot.relevance.classifier as classifier

    monkeypatch.setattr(classifier, "WORD_CACHE", 50)
    items = [
        TextInput(f"w{n}", f"TikTok ban word{n} senate{n}", f"Lawmakers vote{n} sale{n}", "en")
        for n in range(120)
    ]
    for block in model.blocks:
        block.cache.clear()
    first = [o.score for o in model.predict(items)]
    assert all(len(block.cache) <= 50 for block in model.blocks)
    again = [o.score for o in model.predict(items)]  # partly cached now
    for block in model.blocks:
        block.cache.clear()
    fresh = [o.score for o in model.predict(items)]
    assert first == again == fresh


def test_training_is_deterministic() -> None:
    train = load_dataset().train
    a, b = fit(train), fit(list(reversed(train)))
    assert np.array_equal(a.coef, b.coef) and a.calibration == b.calibration


# --- cache and feedback ---------------------------------------------------------------------------


def test_cached_model_loads_fast_and_identically(storage: Path, model: TfidfModel) -> None:
    path = model_path(storage, model_key())
    assert path.exists()
    start = time.perf_counter()
    again = load_model(storage)
    assert time.perf_counter() - start < 2.0
    probe = [TextInput("p", "Congress passes TikTok divest-or-ban bill", "", "en")]
    assert again.predict(probe)[0].score == model.predict(probe)[0].score


def test_unreadable_cache_is_retrained(tmp_path: Path) -> None:
    path = model_path(tmp_path, model_key())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a model")
    model = load_model(tmp_path)
    assert model.key == model_key() and path.stat().st_size > 1000


def test_irrelevant_feedback_retrains_and_lowers_the_score(
    storage: Path, model: TfidfModel
) -> None:
    title = "TikTok ban debate: what creators in Ohio are saying"
    summary = "Lawmakers and influencers weigh in on the app's future as the deadline nears."
    row = {
        "item_id": "abc123",
        "title": title,
        "summary": summary,
        "lang": "en",
        "verdict": "irrelevant",
        "category": "legislation",
    }
    assert model_key([row]) != model_key()
    item = [TextInput("abc123", title, summary, "en")]
    near_duplicate = [TextInput("abc124", title.replace("Ohio", "Iowa"), summary, "en")]
    retrained = load_model(storage, feedback=[row])
    assert retrained.key == model_key([row])
    assert model_path(storage, model_key([row])).exists()
    assert retrained.predict(item)[0].score < model.predict(item)[0].score
    assert retrained.predict(near_duplicate)[0].score < model.predict(near_duplicate)[0].score


def test_feedback_rows_become_training_examples() -> None:
    rows = [
        {
            "item_id": "b",
            "title": "t",
            "summary": "s",
            "lang": "en",
            "verdict": "relevant",
            "category": "courts",
        },
        {
            "item_id": "a",
            "title": "t",
            "summary": "s",
            "lang": "en",
            "verdict": "irrelevant",
            "category": "courts",
        },
        {
            "item_id": "c",
            "title": "t",
            "summary": "s",
            "lang": "en",
            "verdict": "relevant",
            "category": None,
        },
        {"item_id": "d", "title": "t", "summary": "s", "lang": "en", "verdict": "maybe"},
    ]
    examples = feedback_examples(rows)
    assert [e.id for e in examples] == ["feedback:a", "feedback:b", "feedback:c"]
    assert [(e.relevant, e.label) for e in examples] == [
        (False, None),
        (True, "courts"),
        (True, None),
    ]
    assert model_key(rows[:3]) == model_key(list(reversed(rows[:3])))  # order-independent


def test_feedback_goes_to_training_only() -> None:
    extra = feedback_examples(
        [{"item_id": "z", "title": "t", "summary": "s", "lang": "en", "verdict": "relevant"}]
    )
    dataset = load_dataset(extra=extra)
    assert any(e.source == "feedback" for e in dataset.train)
    assert not any(e.source == "feedback" for e in dataset.test)


# --- corpus and split -----------------------------------------------------------------------------


def test_split_keeps_every_event_on_one_side() -> None:
    dataset = load_dataset()
    train_events = {e.event for e in dataset.train}
    test_events = {e.event for e in dataset.test}
    assert not train_events & test_events
    assert 0.15 < len(test_events) / len(train_events | test_events) < 0.35
    test_ids = {e.id for e in dataset.test}
    for example in dataset.test:
        if example.spun:
            assert example.id.removesuffix("~spun") in test_ids


def _corpus_line(id_: str, day: str, event: str, label: str | None = "courts") -> str:
    return json.dumps(
        {
            "id": id_,
            "title": f"TikTok ruling {id_}",
            "summary": "A court ruled on the TikTok law.",
            "lang": "en",
            "label": label,
            "kind": "positive" if label else "hard_negative",
            "neg_type": None if label else "product",
            "date": day,
            "event": event,
        }
    )


def test_supplement_is_training_only_and_never_moves_the_split(tmp_path: Path) -> None:
    # 40 original events, a month apart: some land in the held-out split by their hash.
    lines = [
        _corpus_line(f"o{i}", f"20{20 + i // 12}-{i % 12 + 1:02d}-10", f"ev-{i}") for i in range(40)
    ]
    (tmp_path / "main.jsonl").write_text("\n".join(lines), encoding="utf-8")
    before = load_dataset(tmp_path)
    fingerprint = corpus_fingerprint(tmp_path)
    held_out = [e for e in before.test if not e.spun]
    assert held_out and before.train
    day = held_out[0].date
    assert day is not None
    near = (date.fromisoformat(day) + timedelta(days=2)).isoformat()
    (tmp_path / "supplement").mkdir()
    supplement = [
        _corpus_line("s-far", "2019-01-15", "far-event"),  # no original within three days
        _corpus_line("s-near", near, "renamed-event"),  # two days from a held-out event
        _corpus_line("s-same-key", "2019-06-01", held_out[0].event),
        json.dumps({**json.loads(_corpus_line("s-undated", "", "x")), "date": None}),
        _corpus_line("o1", "2019-01-15", "far-event"),  # an original's id: reported, skipped
    ]
    (tmp_path / "supplement" / "more.jsonl").write_text("\n".join(supplement), encoding="utf-8")
    after = load_dataset(tmp_path)
    assert {e.id for e in after.test} == {e.id for e in before.test}
    assert {e.id for e in before.train} < {e.id for e in after.train}
    added = {e.id for e in after.train} - {e.id for e in before.train}
    assert added <= {"s-far", "s-far~spun"} and "s-far" in added
    assert after.excluded == ["s-near", "s-same-key", "s-undated"]
    assert [str(i) for i in after.issues] == [
        "supplement:0: id 'o1' is already in the corpus: skipped"
    ]
    assert corpus_fingerprint(tmp_path) != fingerprint  # a new model is trained


def test_broken_corpus_lines_are_skipped_and_reported(tmp_path: Path) -> None:
    good = {
        "id": "g1",
        "title": "TikTok ban upheld",
        "summary": "",
        "lang": "en",
        "label": "courts",
        "kind": "positive",
        "neg_type": None,
        "date": None,
        "event": "e",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "id": "g2", "label": "weather"}),
        json.dumps({**good, "id": "g3", "kind": "hard_negative"}),
        json.dumps(good),  # duplicate id
        "",
    ]
    (tmp_path / "x.jsonl").write_text("\n".join(lines), encoding="utf-8")
    examples, issues = load_corpus(tmp_path)
    assert [e.id for e in examples] == ["g1"]
    assert len(issues) == 4
    assert "invalid JSON" in str(issues[0])


def test_spun_test_copy_is_scored_like_its_source(model: TfidfModel) -> None:
    positives = [e for e in load_dataset().test if e.relevant and e.lang == "en" and not e.spun]
    assert positives
    spun = [spun_variant(e) for e in positives]
    scores = model.predict([TextInput(e.id, e.title, e.summary, e.lang) for e in spun])
    kept = sum(s.score >= 0.5 for s in scores)
    assert kept / len(spun) >= 0.9


# --- held-out targets (the issue's acceptance figures) -------------------------------------------


MET = ("f1_overall", "f1_non_english", "f1_spun", "hard_negatives_dropped")


def test_held_out_targets(report: EvalReport) -> None:
    """The issue's relevance targets, on the held-out split, through the product's filter."""
    checks = {t.name: t for t in report.targets}
    assert set(TARGETS) == set(checks)
    failed = [checks[name] for name in MET if not checks[name].passed]
    assert not failed, report.format()


def test_category_accuracy_meets_issue_target(report: EvalReport) -> None:
    # Held-out category accuracy was 0.760 on the original corpus alone; the training-only
    # supplement (corpus/supplement/, written after the split was fixed, never near a
    # held-out event) lifted it to 0.851 with the same model and hyperparameters.
    accuracy = report.filter.category_accuracy
    assert accuracy is not None and accuracy >= TARGETS["category_accuracy"], report.format()


def test_report_renders(report: EvalReport) -> None:
    text = report.format()
    assert "hard negatives" in text and "Targets" in text
    data = report.to_dict()
    json.dumps(data)
    assert data["filter"]["slices"][0]["name"] == "all"


def _reference_normalise(text: str) -> str:
    """normalise() as first written, with regular expressions throughout."""
    text = text.lower()
    if not text.isascii():
        text = re.sub(
            r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]",
            "",
            unicodedata.normalize("NFKD", text),
        )
    return re.sub(r"\s+", " ", re.sub(r"\d", "0", text)).strip()


@pytest.mark.parametrize(
    "text",
    [
        "Senate votes 79-18 on the TikTok bill,\tdeadline Jan. 19, 2025\n",
        "  ByteDance's   270-day window  ",
        "Le Conseil d'État valide l'interdiction de TikTok en 2024 (article 3)",
        "Verbot für TikTok-Nutzung auf Dienstgeräten ab 1.\u00a0April",
        "قرار المحكمة ٢٠٢٤ بشأن تيك توك",  # Arabic-Indic digits are digits too
        "ＴｉｋＴｏｋ禁止法案　２０２４年",  # full-width letters, digits and space
        "",
    ],
)
def test_normalise_fast_paths_read_like_the_regular_expressions(text: str) -> None:
    assert normalise(text) == _reference_normalise(text)
    reference = _reference_normalise(text).split()
    words = [w for w in reference if w.strip(_PUNCTUATION) not in STOP_WORDS]
    assert _content(text) == " ".join(words)
