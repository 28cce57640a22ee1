"""`stance compare`: estimates, intervals, the confusion-matrix correction, differences, input handling,
the CLI and the HTML report. All data are synthetic `stance score` rows; no model is run."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stance.analysis.compare import compare_scores
from stance.analysis.groups import group_labels, parse_dates
from stance.analysis.quantify import Confusion, adjust_shares, benjamini_hochberg, interval
from stance.analysis.report import highlight
from stance.cli.main import app
from stance.io.score_files import without_repeated_sentences
from stance.io.writers import write_shard
from stance.labels.format import STANCE_LABELS

MEASURES = ("share_negative", "share_neutral", "share_positive", "net")
CONFUSION = np.array([[0.70, 0.25, 0.05], [0.15, 0.70, 0.15], [0.05, 0.25, 0.70]])  # P(predicted | gold), rows gold
CONFUSION_JSON = {"labels": list(STANCE_LABELS), "matrix": (CONFUSION * 1000).round().tolist()}


# --------------------------------------------------------------------------- synthetic data
def simulate(
    n_groups: int,
    n_articles: int,
    shares,
    *,
    seed: int = 0,
    confusion: np.ndarray | None = None,
    concentration: float | None = None,
    actor: str = "China",
    sentences: int = 3,
    mean_mentions: float = 4.0,
) -> pd.DataFrame:
    """``stance score`` rows for ``n_groups`` outlets of ``n_articles`` articles. Each article has
    1 + Poisson(mean_mentions - 1) mentions of ``actor``; true stances are drawn from ``shares`` (one row,
    or one row per group), per article from Dirichlet(concentration * shares) when given (articles differ,
    as real ones do), and predicted through ``confusion`` (rows: gold) when given."""
    rng = np.random.default_rng(seed)
    n = n_groups * n_articles
    p = np.asarray(shares, dtype=float)
    p_article = np.repeat(np.tile(p, (n_groups, 1)) if p.ndim == 1 else p, n_articles, axis=0)
    if concentration:
        p_article = np.vstack([rng.dirichlet(concentration * row) for row in p_article])
    counts = 1 + rng.poisson(mean_mentions - 1, size=n)
    article = np.repeat(np.arange(n), counts)
    gold = (rng.random(len(article))[:, None] > np.cumsum(p_article[article], axis=1)).sum(axis=1).clip(max=2)
    predicted = gold
    if confusion is not None:
        predicted = (rng.random(len(article))[:, None] > np.cumsum(confusion[gold], axis=1)).sum(axis=1).clip(max=2)
    per_sentence: dict[tuple[int, int], list] = {}
    for i, (a, label) in enumerate(zip(article, predicted, strict=True)):
        text = f"Officials in {actor} spoke on day {a}."  # each article its own text, as news is (not page furniture)
        start = text.index(actor)
        mention = {
            "actor": actor,
            "type": "state",
            "text": actor,
            "start": start,
            "end": start + len(actor),
            "stance": STANCE_LABELS[label],
            "probs": None,
        }
        per_sentence.setdefault((a, i % sentences), []).append(mention)
    rows = []
    for a in range(n):
        g = a // n_articles
        for s in range(sentences):
            text = f"Officials in {actor} spoke on day {a}."
            rows.append(
                {
                    "doc_id": f"g{g}-a{a}",
                    "sentence_id": s,
                    "start": 0,
                    "end": len(text),
                    "text": text,
                    "section": "body",
                    "boilerplate": False,
                    "mentions": per_sentence.get((a, s), []),
                    "devices": [],
                    "outlet": f"outlet{g:04d}",
                }
            )
    return pd.DataFrame(rows)


def scored_rows(n_articles: int = 30, seed: int = 0) -> list[dict]:
    """Realistic rows: two outlets, titles and body sentences, boilerplate, truncated mentions, devices,
    leaders and their states, dates, probabilities, and text that needs HTML escaping."""
    rng = np.random.default_rng(seed)
    outlets = {"Ledger": (0.5, 0.3, 0.2), "Courier <&> Post": (0.2, 0.3, 0.5)}
    actors = [("Russia", "Kremlin"), ("Vladimir Putin", "Putin"), ("China", "Beijing")]
    rows = []
    for outlet, shares in outlets.items():
        for a in range(n_articles):
            doc = f"{outlet[:3]}-{a}"
            date = f"2024-{1 + a % 3:02d}-{1 + a % 27:02d}T22:30:00-05:00"
            for s in range(4):
                actor, surface = actors[(a + s) % len(actors)]
                text = f'<b>{surface}</b> defended the so-called "reform" & {a} more, sources said.'
                start = text.index(surface)
                label = int(rng.choice(3, p=shares))
                probs = np.full(3, 0.1)
                probs[label] = 0.8
                mentions = [
                    {
                        "actor": actor,
                        "type": "state",
                        "text": surface,
                        "start": start,
                        "end": start + len(surface),
                        "stance": STANCE_LABELS[label],
                        "probs": dict(zip(STANCE_LABELS, probs.tolist(), strict=True)),
                    }
                ]
                if s == 3:  # a mention in a truncated sentence: no stance
                    mentions.append(
                        {"actor": "China", "type": "state", "text": "China", "start": 0, "end": 5, "stance": None, "probs": {}}
                    )
                q = text.index("so-called")
                devices = (
                    [{"label": "scare_quotes", "text": "so-called", "start": q, "end": q + 9, "score": 0.9}] if s % 2 == 0 else []
                )
                if s == 1:
                    devices.append(
                        {
                            "label": "unsourced_claim",
                            "text": "sources said",
                            "start": len(text) - 13,
                            "end": len(text) - 1,
                            "score": 0.8,
                        }
                    )
                rows.append(
                    {
                        "doc_id": doc,
                        "sentence_id": s,
                        "start": 0,
                        "end": len(text),
                        "text": text,
                        "section": "title" if s == 0 else "body",
                        "boilerplate": False,
                        "mentions": mentions,
                        "devices": devices,
                        "outlet": outlet,
                        "date": date,
                        "url": f"https://example.org/{a}",
                    }
                )
            rows.append(
                {
                    "doc_id": doc,
                    "sentence_id": 4,
                    "start": 0,
                    "end": 20,
                    "text": "Subscribe to Russia!",
                    "section": "body",
                    "boilerplate": True,
                    "mentions": [
                        {
                            "actor": "Russia",
                            "type": "state",
                            "text": "Russia",
                            "start": 13,
                            "end": 19,
                            "stance": "positive",
                            "probs": {},
                        }
                    ],
                    "devices": [],
                    "outlet": outlet,
                    "date": date,
                    "url": "",
                }
            )
    return rows


def coverage(result, method: str, truth: dict[str, float]) -> dict[str, float]:
    rows = result.stance[result.stance["method"] == method]
    out = {}
    for measure, value in truth.items():
        x = rows[rows["measure"] == measure]
        out[measure] = float(((x["ci_low"] <= value) & (value <= x["ci_high"])).mean())
    return out


def truth_of(p) -> dict[str, float]:
    return dict(zip(MEASURES, [p[0], p[1], p[2], p[2] - p[0]], strict=True))


# --------------------------------------------------------------------------- the estimators
def test_adjust_shares_is_the_simplex_least_squares_solution():
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    for _ in range(30):
        rates = 0.5 * np.eye(3) + 0.5 * rng.dirichlet(np.ones(3), size=3)
        q = rng.dirichlet(np.ones(3))
        p = adjust_shares(q, rates)

        def loss(x, rates=rates, q=q):
            return float(((rates.T @ x - q) ** 2).sum())

        ref = minimize(
            loss,
            np.full(3, 1 / 3),
            method="SLSQP",
            bounds=[(0, 1)] * 3,
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
            options={"ftol": 1e-14},
        )
        assert p.min() >= 0 and abs(p.sum() - 1) < 1e-9
        assert loss(p) <= ref.fun + 1e-10
    true = np.array([0.5, 0.3, 0.2])
    assert np.allclose(adjust_shares(CONFUSION.T @ true, CONFUSION), true)  # exact inversion inside the simplex
    assert np.isnan(adjust_shares(np.full(3, np.nan), CONFUSION)).all()


def test_interval_and_bh_helpers():
    x = np.random.default_rng(0).normal(size=(500, 4))
    x[::3, 1] = np.nan
    x[:, 3] = np.nan
    lo, hi = interval(x)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        ref = np.nanquantile(x, [0.025, 0.975], axis=0)
    assert np.allclose(lo, ref[0], equal_nan=True) and np.allclose(hi, ref[1], equal_nan=True)
    lo_small, hi_small = interval(x[:, :1], n=10)  # expanded for 10 units: wider
    assert lo_small[0] < lo[0] and hi_small[0] > hi[0]
    # Benjamini-Hochberg by hand: sorted p * m / rank, made monotone
    p = np.array([0.001, 0.04, 0.03, 0.5, np.nan])
    assert np.allclose(benjamini_hochberg(p)[:4], [0.004, 0.0533333, 0.0533333, 0.5]) and np.isnan(benjamini_hochberg(p)[4])


def test_estimates_recover_known_shares():
    shares = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]])
    frame = simulate(3, 400, shares, seed=1, concentration=20.0)
    result = compare_scores(frame, by="outlet", method="cc", model=None, bootstrap=500)
    assert result.method == "cc" and list(result.groups["group"]) == ["outlet0000", "outlet0001", "outlet0002"]
    for g, p in enumerate(shares):
        rows = result.stance[(result.stance["group"] == f"outlet{g:04d}") & (result.stance["method"] == "cc")].set_index(
            "measure"
        )
        for measure, value in truth_of(p).items():
            assert abs(rows.at[measure, "estimate"] - value) < 0.04, (g, measure)
            assert rows.at[measure, "ci_low"] <= value <= rows.at[measure, "ci_high"], (g, measure)
        assert rows["n_articles"].iloc[0] == 400 and not rows["low_support"].any()
    mentions = sum(len(m) for m in frame["mentions"])
    assert result.groups["n_mentions"].sum() == mentions
    assert result.stance[result.stance["measure"] == "net"]["n_mentions"].sum() == mentions  # cc only: one row per cell


def test_intervals_cover_the_truth_95_percent_of_the_time():
    """3,000 simulated data sets of 30 articles (stances vary between articles, the classifier errs as
    CONFUSION says), 400 resamples each: the corrected intervals cover the true shares, and the raw
    (classify-and-count) intervals cover what the classifier's labels estimate, 93-97% of the time
    (Monte Carlo standard error 0.4 points)."""
    truth = np.array([0.35, 0.35, 0.30])
    frame = simulate(3000, 30, truth, seed=2, confusion=CONFUSION, concentration=8.0, sentences=2)
    result = compare_scores(
        frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=400, min_mentions=1, differences=False, examples=0
    )
    assert len(result.groups) == 3000
    for method, target in (("acc", truth), ("cc", CONFUSION.T @ truth)):
        for measure, rate in coverage(result, method, truth_of(target)).items():
            assert 0.93 <= rate <= 0.97, (method, measure, rate)


def test_intervals_at_a_bound_are_not_zero_width_and_still_cover():
    """An actor nearly always predicted neutral, by a classifier more accurate on these texts than its confusion
    matrix says (a matrix measured on other texts): the corrected shares of every resample sat exactly on the
    simplex's bound, so the intervals had zero width ([0, 0] net stance: false certainty, and a zero standard
    error in the tests of differences). Intervals now come from the unbounded corrected replicates, cut to each
    measure's range, keeping their width where they lie wholly outside it; where the matrix fits, they still
    cover the truth."""
    truth = np.array([0.02, 0.96, 0.02])
    sharp = np.array([[0.96, 0.04, 0.0], [0.01, 0.98, 0.01], [0.0, 0.04, 0.96]])
    for confusion, check_coverage in ((sharp, False), (CONFUSION, True)):
        frame = simulate(300, 30, truth, seed=5, confusion=confusion, concentration=8.0, sentences=2)
        result = compare_scores(
            frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=400, min_mentions=1, differences=False, examples=0
        )
        rows = result.stance[result.stance["method"] == "acc"]
        net = rows[rows["measure"] == "net"]
        assert ((net["ci_high"] - net["ci_low"]) > 0.01).all()
        assert ((rows["ci_low"] <= rows["estimate"]) & (rows["estimate"] <= rows["ci_high"])).all()
        assert (rows["ci_low"] >= np.where(rows["measure"] == "net", -1.0, 0.0)).all() and (rows["ci_high"] <= 1.0).all()
        if check_coverage:
            for measure, rate in coverage(result, "acc", truth_of(truth)).items():
                assert 0.92 <= rate <= 1.0, (measure, rate)


def test_corrected_intervals_and_tests_are_centred_on_the_reported_estimate():
    """The unbounded resamples are centred on the unbounded estimate, which can lie far from the bounded one that
    is reported (a classifier sharper than its matrix): the interval of 0.177 was [0.177, 0.552], and a difference
    whose interval left out 0 had p = 0.42. Their spread is now moved onto the reported estimate, so that the
    estimate lies inside its interval and an interval that leaves out 0 goes with a small p-value."""
    sharp = np.array([[0.96, 0.04, 0.0], [0.01, 0.98, 0.01], [0.0, 0.04, 0.96]])
    shares = np.array([[0.0, 0.7, 0.3], [0.15, 0.6, 0.25]])
    frame = simulate(2, 60, shares, seed=1, confusion=sharp, concentration=8.0, sentences=2)
    result = compare_scores(frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=400, min_mentions=1, examples=0)
    net = result.stance[(result.stance["measure"] == "net") & (result.stance["method"] == "acc")]
    assert ((net["ci_low"] < net["estimate"]) & (net["estimate"] < net["ci_high"])).all(), net
    d = result.differences
    excludes_zero = (d["ci_low"] > 0) | (d["ci_high"] < 0)
    assert (excludes_zero == (d["p_value"] < 0.05)).all(), d


def test_page_furniture_repeated_across_an_outlets_articles_is_left_out():
    """A newsletter box the splitter did not catch ("You agree to receive ... The New York Times's products"),
    labelled positive toward the Times in 13 of its articles, made the top difference of a real comparison. A
    sentence found in at least 5 articles (and 5%) of one outlet now counts once, with a note; ``repeated_in=0``
    keeps every copy, and an article republished under several ids keeps one copy of its text."""
    frame = simulate(2, 30, [0.2, 0.6, 0.2], seed=6)
    box = "You agree to receive occasional updates and special offers for The New York Times's products."
    start = box.index("The New York Times")
    furniture = [
        dict(frame.iloc[0], doc_id=f"g0-a{a}", sentence_id=9, text=box, devices=[], mentions=[
            {"actor": "The New York Times", "type": "organisation", "text": "The New York Times", "start": start,
             "end": start + 18, "stance": "positive", "probs": None}])
        for a in range(13)
    ]  # fmt: skip
    frame = pd.concat([frame, pd.DataFrame(furniture)], ignore_index=True)
    kept = compare_scores(frame, by="outlet", bootstrap=100, min_mentions=1, differences=False, examples=0, repeated_in=0)
    assert "The New York Times" in set(kept.stance["actor"])
    result = compare_scores(frame, by="outlet", bootstrap=100, min_mentions=1, differences=False, examples=0)
    times = result.stance[(result.stance["actor"] == "The New York Times") & (result.stance["measure"] == "net")]
    assert times["n_mentions"].tolist() == [1]  # the box counted once, in the first article that has it
    assert any(note.startswith("12 sentences were left out as page furniture: 1 text(s)") for note in result.notes), result.notes
    assert result.groups["n_mentions"].sum() == kept.groups["n_mentions"].sum() - 12
    story = frame[frame["outlet"] == "outlet0001"].head(2)  # one article's two sentences
    republished = pd.concat([story.assign(doc_id=f"copy-{k}") for k in range(6)])
    kept_once = without_repeated_sentences(republished, [])
    assert kept_once["doc_id"].tolist() == ["copy-0", "copy-0"]  # an article run six times: one copy kept, not none
    with pytest.raises(ValueError, match="repeated_in"):
        compare_scores(frame, by="outlet", bootstrap=100, repeated_in=-1)
    import inspect

    from stance.cli.actors import actors as actors_command
    from stance.cli.compare import compare as compare_command
    from stance.io.score_files import REPEATED_IN

    for command in (compare_command, actors_command):  # the commands' default (not imported there: pandas) is the rule's
        assert inspect.signature(command).parameters["repeated_in"].default == REPEATED_IN


def test_corrected_estimate_is_unbiased_where_classify_and_count_is_not():
    truth = np.array([0.5, 0.3, 0.2])
    frame = simulate(300, 100, truth, seed=3, confusion=CONFUSION)
    result = compare_scores(frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=100, differences=False, examples=0)
    assert result.method == "acc" and result.confusion is not None
    mean = result.stance.groupby(["method", "measure"])["estimate"].mean()
    for measure, value in truth_of(truth).items():
        assert abs(mean["acc", measure] - value) < 0.01, measure
    expected_cc = truth_of(CONFUSION.T @ truth)
    for measure in ("share_negative", "share_neutral", "net"):
        assert abs(mean["cc", measure] - expected_cc[measure]) < 0.01  # cc estimates the predicted mix...
        assert abs(mean["cc", measure] - truth_of(truth)[measure]) > 0.05  # ...which is not the truth


def test_differences_find_real_ones_and_keep_false_positives_at_5_percent():
    null = simulate(120, 40, [0.3, 0.4, 0.3], seed=4, concentration=8.0)
    result = compare_scores(null, by="outlet", method="cc", model=None, bootstrap=400, min_mentions=1, examples=0)
    d = result.differences
    assert len(d) == 120 * 119 // 2 and set(d.columns) >= {
        "group_a",
        "group_b",
        "actor",
        "measure",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
    }
    assert 0.03 <= (d["p_value"] < 0.05).mean() <= 0.07
    assert (d["q_value"] < 0.05).mean() < 0.01
    assert ((d["ci_low"] > 0) | (d["ci_high"] < 0)).mean() <= 0.07

    real = simulate(2, 80, [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]], seed=5)
    d = compare_scores(real, by="outlet", method="cc", model=None, bootstrap=1000).differences
    row = d.iloc[0]
    assert (row["group_a"], row["group_b"], row["measure"]) == ("outlet0000", "outlet0001", "net")
    assert row["ci_high"] < 0 and row["q_value"] < 0.001 and abs(row["difference"] + 0.6) < 0.15


def test_low_support_is_flagged_not_hidden():
    frame = simulate(2, 5, [0.3, 0.4, 0.3], seed=6)
    result = compare_scores(frame, by="outlet", model=None, min_mentions=1000, bootstrap=200)
    assert len(result.stance) == 2 * len(MEASURES) * 1 and result.stance["low_support"].all()
    assert result.differences["low_support"].all() and result.differences["q_value"].isna().all()
    assert result.differences["difference"].notna().all() and result.differences["p_value"].isna().all()  # no test of it
    assert any("low_support" in n for n in result.notes)
    few = compare_scores(pd.DataFrame(scored_rows(n_articles=5)), by="outlet", model=None, bootstrap=200)
    assert few.devices["low_support"].all() and few.devices["ci_low"].isna().all()  # devices say why too
    many = compare_scores(pd.DataFrame(scored_rows(n_articles=12)), by="outlet", model=None, bootstrap=200)
    assert not many.devices["low_support"].any() and many.devices["ci_low"].notna().all()


def test_devices_boilerplate_truncation_and_rollup():
    result = compare_scores(
        pd.DataFrame(scored_rows()), by="outlet", rollup="affiliation", model=None, bootstrap=300, min_mentions=5
    )
    # boilerplate rows are skipped (4 sentences per article remain); truncated mentions are skipped and noted
    assert result.groups["n_sentences"].tolist() == [120, 120] and result.groups["n_mentions"].tolist() == [120, 120]
    assert any("without a stance" in n for n in result.notes)
    # Vladimir Putin is counted under Russia
    assert set(result.stance["actor"]) == {"Russia", "China"}
    assert set(result.methods) == {"cc", "pa"} and result.method == "cc"
    # scare quotes in sentences 0 and 2, unsourced claims in sentence 1: 500 and 250 per 1,000 sentences
    dev = result.devices.set_index(["group", "device"])
    assert dev.at[("Ledger", "scare_quotes"), "estimate"] == pytest.approx(500.0)
    assert dev.at[("Ledger", "unsourced_claim"), "estimate"] == pytest.approx(250.0)
    assert dev.at[("Ledger", "scare_quotes"), "rank"] == 1 and dev.at[("Ledger", "scare_quotes"), "n_spans"] == 60
    # Ledger is more negative toward Russia than the other outlet
    net = result.shown("net").set_index(["group", "actor"])["estimate"]
    assert net["Ledger", "Russia"] < net["Courier <&> Post", "Russia"]
    ex = result.examples
    assert ex.groupby(["group", "actor"]).size().max() <= 3
    assert all(s["kind"] in ("mention", "device") for spans in ex["spans"] for s in spans)


def test_rollup_follows_the_affiliation_chain():
    from stance.analysis.groups import affiliation_map
    from stance.pipeline.actor_registry import ActorRegistry

    mapping = affiliation_map(["Sergei Lavrov", "UNHCR", "Kremlin watcher"], ActorRegistry.load())
    assert mapping == {"Sergei Lavrov": "Russia", "UNHCR": "United Nations", "Kremlin watcher": "Kremlin watcher"}


def test_groups_by_date_period_keep_the_local_day():
    rows = pd.DataFrame(
        {
            "doc_id": ["a", "a", "b", "c", "d"],
            "date": ["2024-01-31T23:30:00-05:00", None, "2024-02-01", "Tue, 31 Dec 2024 23:00:00 +0100", "not a date"],
        }
    )
    assert group_labels(rows, "date:month").tolist() == ["2024-01", "2024-01", "2024-02", "2024-12", None]
    assert group_labels(rows, "date:week").tolist()[:4] == ["2024-W05", "2024-W05", "2024-W05", "2025-W01"]
    assert group_labels(rows, "date:year").tolist()[:3] == ["2024", "2024", "2024"]
    assert parse_dates(pd.Series(["2024-03-05"])).dt.month.tolist() == [3]
    with pytest.raises(ValueError, match="PERIOD one of"):
        group_labels(rows, "date:fortnight")


def test_deterministic_for_a_seed():
    frame = pd.DataFrame(scored_rows(n_articles=12))
    kw = {"by": "outlet", "confusion": CONFUSION_JSON, "bootstrap": 200, "min_mentions": 5}
    a, b, c = (compare_scores(frame, seed=s, **kw) for s in (7, 7, 8))
    for name in ("stance", "devices", "differences", "examples"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert np.allclose(a.stance["estimate"], c.stance["estimate"])
    assert not np.allclose(a.stance["ci_low"], c.stance["ci_low"], equal_nan=True)


def test_reads_parquet_jsonl_csv_shards_alike(tmp_path):
    rows = scored_rows(n_articles=10)
    kw = {"by": "date:month", "model": None, "bootstrap": 200, "min_mentions": 5}
    reference = compare_scores(pd.DataFrame(rows), **kw)
    assert list(reference.groups["group"]) == ["2024-01", "2024-02", "2024-03"]
    for fmt in ("parquet", "jsonl", "csv"):
        folder = tmp_path / fmt
        folder.mkdir()
        write_shard(rows[:25], folder / f"part-00000.{fmt}", fmt)
        write_shard(rows[25:], folder / f"part-00001.{fmt}", fmt)
        (folder / "errors-00000.jsonl").write_text('{"reason": "not scored"}\n')
        for source in (folder, sorted(folder.glob(f"part-*.{fmt}"))):
            result = compare_scores(source, **kw)
            for name in ("stance", "devices", "differences"):
                pd.testing.assert_frame_equal(getattr(result, name), getattr(reference, name), check_dtype=False)


def test_confusion_matrix_sources(tmp_path):
    frame = pd.DataFrame(scored_rows(n_articles=8))
    kw = {"by": "outlet", "bootstrap": 200, "min_mentions": 5}
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    evaluation = {"datasets": {"newsmtsc:dev_rw": {"stance": {"confusion": CONFUSION_JSON}}}}
    (model / "evaluation.json").write_text(json.dumps(evaluation))
    result = compare_scores(frame, model=str(model), **kw)
    assert result.method == "acc" and result.confusion.source == str(model / "evaluation.json")
    assert not any("no correction" in n for n in result.notes)
    assert np.allclose(result.confusion.rates, CONFUSION, atol=1e-3)

    (model / "evaluation.json").unlink()
    result = compare_scores(frame, model=str(model), **kw)
    assert result.method == "cc" and any("evaluation.json does not exist" in n for n in result.notes)

    singular = {
        "labels": list(STANCE_LABELS),
        "matrix": [[0, 15, 4], [0, 31, 4], [0, 8, 2]],
    }  # a model that never says 'negative'
    result = compare_scores(frame, confusion=singular, **kw)
    assert result.method == "cc" and any("never predicts 'negative'" in n for n in result.notes)

    reordered = tmp_path / "confusion.json"
    order = [2, 0, 1]
    reordered.write_text(
        json.dumps({"labels": [STANCE_LABELS[i] for i in order], "matrix": (CONFUSION[np.ix_(order, order)] * 100).tolist()})
    )
    assert np.allclose(Confusion.from_file(reordered).rates, CONFUSION)
    assert compare_scores(frame, confusion=reordered, **kw).method == "acc"
    reordered.write_text('{"labels": ["neg", "neu", "pos"], "matrix": [[1]]}')
    with pytest.raises(ValueError, match="'labels' must list"):
        compare_scores(frame, confusion=reordered, **kw)


# --------------------------------------------------------------------------- bad input
def _missing_columns(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"doc_id": ["a"], "text": ["x"], "outlet": ["o"]}).to_csv(path, index=False)
    return path


def _empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    return path


def _blank_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n\n")
    return path


def _single_article_group(tmp_path: Path) -> Path:
    rows = scored_rows(n_articles=3)
    rows = [r for r in rows if r["outlet"] == "Ledger" or r["doc_id"].endswith("-0")]
    path = tmp_path / "single.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _bad_stance(tmp_path: Path) -> Path:
    rows = scored_rows(n_articles=2)
    rows[0]["mentions"][0]["stance"] = "furious"
    path = tmp_path / "stance.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


BAD_INPUTS = [
    (_missing_columns, [], "missing column(s) 'sentence_id', 'mentions', 'devices'"),
    (_empty_file, [], "the file is empty"),
    (_blank_jsonl, [], "the input is empty"),
    (_single_article_group, [], "1 group(s) have a single article"),
    (_bad_stance, [], "'furious' is not one of negative, neutral, positive"),
    (lambda p: p / "nowhere.parquet", [], "no such file"),
    (_single_article_group, ["--by", "publisher"], "no column 'publisher'"),
]


@pytest.mark.parametrize(("make", "extra", "message"), BAD_INPUTS)
def test_bad_input_gives_a_clear_message(tmp_path, make, extra, message):
    path = make(tmp_path)
    by = extra[1] if extra else "outlet"
    with pytest.raises(ValueError) as info:
        compare_scores(path, by=by, model=None)
    assert message in str(info.value)
    r = CliRunner().invoke(app, ["compare", str(path), "--out", str(tmp_path / "out"), *extra])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_single_article_groups_can_be_dropped(tmp_path):
    path = _single_article_group(tmp_path)
    result = compare_scores(path, model=None, drop_small_groups=True, bootstrap=200)
    assert list(result.groups["group"]) == ["Ledger"] and result.differences.empty
    assert any("single article were left out: 'Courier <&> Post'" in n for n in result.notes)


# --------------------------------------------------------------------------- CLI and report
def test_highlight_escapes_and_nests_spans():
    text = "<i>Putin</i> & the so-called plan"
    spans = [
        {"kind": "mention", "start": 3, "end": 8, "label": "negative"},
        {"kind": "device", "start": 5, "end": 13, "label": "x<y"},
        {"kind": "device", "start": 50, "end": 60, "label": "outside"},
    ]
    out = highlight(text, spans)
    assert out.startswith('&lt;i&gt;<mark class="m-negative" title="stance: negative">Pu</mark>')
    assert '<mark class="m-negative" title="stance: negative"><span class="dev" title="device: x&lt;y">tin</span></mark>' in out
    assert "&amp; the so-called plan" in out and "outside" not in out


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("compare")
    rows = scored_rows(n_articles=15)
    for row in rows:
        row["text"] += " <script>alert('x')</script>"  # appended: the span offsets stay valid
    write_shard(rows[:70], tmp / "a.parquet", "parquet")
    write_shard(rows[70:], tmp / "b.parquet", "parquet")
    (tmp / "confusion.json").write_text(json.dumps(CONFUSION_JSON))
    out = tmp / "report"
    r = CliRunner().invoke(
        app,
        [
            "compare",
            str(tmp / "a.parquet"),
            str(tmp / "b.parquet"),
            "--by",
            "outlet",
            "--out",
            str(out),
            "--rollup",
            "affiliation",
            "--confusion",
            str(tmp / "confusion.json"),
            "--bootstrap",
            "300",
            "--min-mentions",
            "10",
            "--seed",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "adjusted classify-and-count" in r.output
    return out


def test_cli_writes_tables_figures_and_a_self_contained_report(cli_report):
    out = cli_report
    for name in ("stance", "devices", "differences", "groups"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists()
    stance = pd.read_csv(out / "stance.csv")
    assert list(stance.columns) == [
        "group",
        "actor",
        "measure",
        "method",
        "estimate",
        "ci_low",
        "ci_high",
        "n_mentions",
        "n_articles",
        "low_support",
    ]
    assert set(stance["method"]) == {"acc", "cc", "pa"} and set(stance["measure"]) == set(MEASURES)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "stance.parquet"), stance, check_dtype=False)
    diffs = pd.read_csv(out / "differences.csv")
    assert {"group_a", "group_b", "actor", "measure", "difference", "ci_low", "ci_high", "p_value", "q_value"} <= set(
        diffs.columns
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "acc" and summary["seed"] == 3 and summary["rollup"] == "affiliation"
    for png in ("net_stance_heatmap.png", "device_rates.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "<script" not in page and "&lt;script&gt;" in page and "Courier &lt;&amp;&gt; Post" in page
    assert "http://" not in page and 'src="http' not in page and '<link rel="stylesheet"' not in page
    assert "adjusted classify-and-count" in page and "Differences between groups" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(cli_report, tmp_path):
    import matplotlib.image

    shot = tmp_path / "shot.png"
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,900",
        "--enable-logging=stderr",
        "--v=0",
        (cli_report / "report.html").resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = [
        line for line in proc.stderr.splitlines() if "Uncaught" in line or ":CONSOLE" in line or "Failed to load resource" in line
    ]
    assert not problems, problems
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1200)
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50  # text, tables and a figure
    assert (pixels < 0.9).any(axis=2).mean() > 0.02  # not a blank page


def test_a_100k_mention_comparison_takes_seconds():
    frame = simulate(10, 2500, [0.3, 0.4, 0.3], seed=9, mean_mentions=4.0)
    started = time.perf_counter()
    result = compare_scores(frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=1000)
    elapsed = time.perf_counter() - started
    assert result.groups["n_mentions"].sum() > 95_000
    assert elapsed < 120, f"{elapsed:.1f} s"  # seconds on an idle 2-core machine; generous for a loaded CI


# --------------------------------------------------------------------------- issue 16: the everyday workflow
def test_the_recorded_model_gives_the_confusion_matrix(tmp_path):
    """The correction uses the model named in the scores' run metadata, and says which matrix it used."""
    model = tmp_path / "retrained"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "evaluation.json").write_text(
        json.dumps({"datasets": {"newsmtsc:dev_rw": {"stance": {"confusion": CONFUSION_JSON}}}})
    )
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps(r) + "\n" for r in scored_rows(n_articles=8)))
    (tmp_path / "scores.run.json").write_text(json.dumps({"model": {"name": "active", "path": str(model), "version": "abc"}}))
    result = compare_scores(scores, by="outlet", bootstrap=200, min_mentions=5)
    assert result.method == "acc" and result.confusion.source == str(model / "evaluation.json")
    assert any("recorded in scores.run.json" in n for n in result.notes)
    assert any("corrected with the confusion matrix of" in n and "retrained" in n for n in result.notes)
    (tmp_path / "scores.run.json").unlink()  # unknown model: no other model's matrix corrects these scores
    result = compare_scores(scores, by="outlet", bootstrap=200, min_mentions=5)
    assert result.method == "cc" and result.confusion is None
    assert any("no run metadata beside" in n and "give --model or --confusion" in n for n in result.notes)
    assert any("classify-and-count is shown instead" in n for n in result.notes)
    assert compare_scores(scores, by="outlet", model="default", bootstrap=200, min_mentions=5).method == "acc"
    # a record written for another output of the same stem (scores.parquet) is not this file's
    (tmp_path / "scores.run.json").write_text(
        json.dumps(
            {"output": str(tmp_path / "scores.parquet"), "model": {"name": "active", "path": str(model), "version": "abc"}}
        )
    )
    result = compare_scores(scores, by="outlet", bootstrap=200, min_mentions=5)
    assert result.method == "cc" and any("is the run record of scores.parquet, not of it" in n for n in result.notes)


def test_a_model_named_on_the_command_line_that_is_not_there_is_an_error(tmp_path):
    """`stance compare --model nosuch` printed a note and showed classify-and-count, exit 0."""
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps(r) + "\n" for r in scored_rows(n_articles=8)))
    r = CliRunner().invoke(app, ["compare", str(scores), "--model", str(tmp_path / "nosuch"), "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "--model:" in r.output and "not a local directory" in " ".join(r.output.split()), r.output
    assert not (tmp_path / "c").exists()


def test_own_labels_evaluation_is_accepted_and_few_labels_widen_intervals(tmp_path):
    """An evaluation of the user's own labels (one dataset, not NewsMTSC) gives the matrix; a matrix from
    150 labels gives wider corrected intervals than the same rates from 1,500."""
    own = {"datasets": {"my_labels.jsonl": {"stance": {"confusion": CONFUSION_JSON}}}}
    assert np.allclose(Confusion.from_dict(own).rates, CONFUSION, atol=1e-3)
    two = {
        "datasets": {"a.jsonl": {"stance": {"confusion": CONFUSION_JSON}}, "b.jsonl": {"stance": {"confusion": CONFUSION_JSON}}}
    }
    with pytest.raises(ValueError, match="2 stance confusion matrices"):
        Confusion.from_dict(two)
    frame = simulate(2, 60, (0.3, 0.4, 0.3), confusion=CONFUSION, seed=4)
    widths = {}
    for total in (150, 1500):
        matrix = {"labels": list(STANCE_LABELS), "matrix": (CONFUSION * total / 3).round().tolist()}
        result = compare_scores(
            frame, by="outlet", method="acc", model=None, confusion=matrix, bootstrap=400, differences=False, examples=0
        )
        net = result.stance.query("method == 'acc' and measure == 'net'")
        widths[total] = float((net["ci_high"] - net["ci_low"]).mean())
    assert widths[150] > 1.2 * widths[1500]


def test_tiny_cells_get_no_interval(tmp_path):
    frame = simulate(2, 3, (0.0, 0.0, 1.0), mean_mentions=2.0, seed=1)  # every mention positive, few of them
    result = compare_scores(
        frame, by="outlet", method="cc", model=None, bootstrap=200, min_mentions=20, differences=False, examples=0
    )
    rows = result.stance.query("method == 'cc'")
    assert rows["low_support"].all() and rows["ci_low"].isna().all() and rows["estimate"].notna().all()
    from stance.analysis.report import write_report

    report = write_report(result, tmp_path / "r")
    assert "[+1.00, +1.00]" not in Path(report).read_text(encoding="utf-8")


def test_ambiguous_dates_and_unknown_only_actors_are_named():
    rows = scored_rows(n_articles=6)
    for r in rows:
        r["date"] = "09/03/2026" if r["outlet"] == "Ledger" else "2026-03-10"
    result = compare_scores(pd.DataFrame(rows), by="date:month", method="cc", model=None, bootstrap=200, examples=0)
    note = next(n for n in result.notes if "09/03/2026" in n)
    assert "month first (2026-09-03)" in note and "YYYY-MM-DD" in note
    result = compare_scores(
        pd.DataFrame(rows), by="outlet", method="cc", model=None, bootstrap=200, examples=0, only=["Russia", "Rusia"]
    )
    assert any("'Rusia'" in n and "Russia" in n for n in result.notes)
    with pytest.raises(ValueError, match="none of the --only actors"):
        compare_scores(pd.DataFrame(rows), by="outlet", method="cc", model=None, bootstrap=200, only=["Atlantis"])


def test_device_rate_differences_cc_beside_acc_and_write_report_writes_everything(tmp_path):
    from stance.analysis.report import write_report

    result = compare_scores(
        pd.DataFrame(scored_rows(n_articles=20)), by="outlet", confusion=CONFUSION_JSON, model=None, bootstrap=300, min_mentions=5
    )
    d = result.device_differences
    assert set(d["device"]) == {"scare_quotes", "unsourced_claim"} and list(d.columns[:4]) == [
        "group_a",
        "group_b",
        "device",
        "measure",
    ]
    assert d["q_value"].between(0, 1).all() and (d["ci_low"] <= d["difference"]).all() and (d["difference"] <= d["ci_high"]).all()
    report = write_report(result, tmp_path / "api")
    written = {p.name for p in (tmp_path / "api").iterdir()}
    assert {
        "stance.csv",
        "devices.csv",
        "differences.csv",
        "device_differences.csv",
        "groups.csv",
        "summary.json",
        "report.html",
    } <= written
    html = report.read_text(encoding="utf-8")
    assert "Differences in device rates" in html and "(cc " in html
    assert "PTC's annotation" not in html  # no propaganda spans: no note about them
    rows = scored_rows(n_articles=20)
    for row in rows[::3]:
        row["devices"] = [*row["devices"], {"label": "propaganda", "text": "x", "start": 0, "end": 1, "score": 0.5}]
    with_propaganda = compare_scores(pd.DataFrame(rows), by="outlet", model=None, bootstrap=100, min_mentions=5)
    html = write_report(with_propaganda, tmp_path / "p").read_text(encoding="utf-8")
    assert "PTC's annotation" in html and "across groups" in html  # the README's caveat, where readers see the rates


# --------------------------------------------------------------------------- small samples, honest notes
def test_cells_with_fewer_than_min_articles_get_no_interval_nor_test():
    """Three articles with many mentions each: a bootstrap interval from them covers at most 75% of the time,
    so the cell is low support (no interval), its differences untested, and the group's device rates bare."""
    frame = simulate(2, 3, (0.4, 0.3, 0.3), mean_mentions=12.0)
    frame.loc[frame["sentence_id"] == 0, "devices"] = pd.Series(
        [[{"label": "loaded_language", "start": 0, "end": 9}]] * len(frame)
    )
    result = compare_scores(frame, by="outlet", method="cc", model=None, bootstrap=200, min_mentions=5, examples=0)
    net = result.shown("net")
    assert (net["n_mentions"] >= 5).all() and (net["n_articles"] == 3).all()
    assert net["low_support"].all() and net["ci_low"].isna().all()
    d = result.differences
    assert len(d) == 1 and d["low_support"].all() and d[["ci_low", "ci_high", "p_value", "q_value"]].isna().all(axis=None)
    assert result.devices["ci_low"].isna().all() and result.device_differences["q_value"].isna().all()
    assert any("fewer than 10 articles" in n for n in result.notes)

    looser = compare_scores(
        frame, by="outlet", method="cc", model=None, bootstrap=200, min_mentions=5, min_articles=3, examples=0
    )
    assert looser.shown("net")["ci_low"].notna().all() and looser.differences["p_value"].notna().all()
    assert looser.devices.loc[looser.devices["device"] == "loaded_language", "ci_low"].notna().all()
    with pytest.raises(ValueError, match="--min-articles must be at least 2"):
        compare_scores(frame, by="outlet", model=None, min_articles=1)


def test_device_differences_with_no_span_on_either_side_are_not_tested():
    frame = simulate(2, 10, (0.4, 0.3, 0.3))
    first = frame["outlet"] == "outlet0000"
    frame.loc[first & (frame["sentence_id"] == 0), "devices"] = pd.Series(
        [[{"label": "loaded_language", "start": 0, "end": 9}]] * int((first & (frame["sentence_id"] == 0)).sum()),
        index=frame.index[first & (frame["sentence_id"] == 0)],
    )
    frame.loc[~first & (frame["sentence_id"] == 1), "devices"] = pd.Series(
        [[{"label": "scare_quotes", "start": 0, "end": 9}]] * int((~first & (frame["sentence_id"] == 1)).sum()),
        index=frame.index[~first & (frame["sentence_id"] == 1)],
    )
    result = compare_scores(frame, by="outlet", method="cc", model=None, bootstrap=200, examples=0)
    dd = result.device_differences.set_index("device")
    assert dd.loc["loaded_language", "q_value"] < 0.05 and dd.loc["scare_quotes", "q_value"] < 0.05
    assert set(dd.index[dd["q_value"].isna()]) == set(dd.index) - {"loaded_language", "scare_quotes"}


def test_a_confusion_matrix_of_rates_is_said_to_carry_no_uncertainty_and_counts_do():
    frame = simulate(2, 20, (0.4, 0.3, 0.3), confusion=CONFUSION, seed=3)
    counts = compare_scores(frame, by="outlet", confusion=CONFUSION_JSON, model=None, bootstrap=200, examples=0)
    assert counts.confusion.is_counts
    assert any("3,000 labelled targets; its uncertainty is in the intervals" in n for n in counts.notes)
    rates = compare_scores(
        frame,
        by="outlet",
        confusion={"labels": list(STANCE_LABELS), "matrix": CONFUSION.tolist()},
        model=None,
        bootstrap=200,
        examples=0,
    )
    assert not rates.confusion.is_counts
    assert any("given as rates" in n and "not in the intervals" in n for n in rates.notes)
    # counts with one gold row of a single label are still counts: redrawn (varying), and named in a note
    few = Confusion(np.array([[80.0, 15, 5], [10, 80, 10], [0, 0, 1]]))
    draws = few.resampled_rates(50, np.random.default_rng(0))
    assert few.is_counts and draws[:, 0].std(axis=0).max() > 0
    sparse = compare_scores(
        frame,
        by="outlet",
        confusion={"labels": list(STANCE_LABELS), "matrix": few.counts.tolist()},
        model=None,
        bootstrap=200,
        examples=0,
    )
    assert any("only 1 labelled targets whose gold stance is positive" in n for n in sparse.notes)


def test_a_confusion_cell_never_seen_in_the_labels_still_varies_and_fewer_labels_vary_more():
    """Multinomial redraws kept an observed zero at zero in every replicate: a rate known from 0 of 100
    labels was treated as exactly zero."""
    seen = np.array([[90.0, 10, 0], [10, 80, 10], [0, 10, 90]])
    draws = Confusion(seen).resampled_rates(2000, np.random.default_rng(0))
    assert np.allclose(draws.sum(axis=2), 1.0)
    assert draws[:, 0, 2].min() > 0 and 0.001 < draws[:, 0, 2].mean() < 0.02  # about 0.5 / 101.5
    assert abs(draws[:, 1, 1].mean() - 0.8) < 0.01
    tenth = Confusion(seen / 10).resampled_rates(2000, np.random.default_rng(0))
    assert tenth[:, 1, 1].std() > 2.5 * draws[:, 1, 1].std()


def test_one_doc_id_in_two_groups_is_an_error_not_a_duplicate():
    """Two outlets' files numbered alike: before, the second outlet's sentences were dropped as duplicates."""
    frame = simulate(2, 5, (0.4, 0.3, 0.3))
    frame["doc_id"] = frame["doc_id"].str.replace(r"^g\d+-", "", regex=True)  # g0-a0 and g1-a5 ... -> a0 ... a9
    frame.loc[frame["outlet"] == "outlet0001", "doc_id"] = frame.loc[frame["outlet"] == "outlet0000", "doc_id"].to_numpy()
    with pytest.raises(ValueError, match=r"doc_id 'a0' has 2 values of 'outlet' \('outlet0000', 'outlet0001'\)"):
        compare_scores(frame, by="outlet", model=None, bootstrap=200)


def test_the_cli_default_of_min_articles_is_the_librarys():
    import inspect

    from stance.analysis.quantify import MIN_ARTICLES
    from stance.cli.compare import compare as compare_command

    assert inspect.signature(compare_command).parameters["min_articles"].default == MIN_ARTICLES
    assert inspect.signature(compare_scores).parameters["min_articles"].default == MIN_ARTICLES
