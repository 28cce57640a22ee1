"""Compare how groups of articles (outlets, months, ...) treat actors: stance shares and net stance per
group and actor, framing-device rates per group, and differences between groups, each with a 95%
bootstrap interval over articles. Works on ``stance score`` output (Parquet, JSONL or CSV, one or more
shards) or on a DataFrame of such rows.

Shares are estimated two ways: classify-and-count (``cc``: the share of mentions the model labels
negative / neutral / positive) and adjusted classify-and-count (``acc``: corrected for the model's
errors on its dev set, from the confusion matrix stored in the model directory). ``pa``
(probabilistic averaging: the mean predicted probabilities) is added when the input has them.

This module runs the steps, each in its own module: reading (:mod:`stance.io.score_files`), grouping
(:mod:`stance.analysis.groups`), the confusion matrix (:mod:`stance.analysis.confusion`), the bootstrap
(:mod:`stance.analysis.estimates`, over the measures of :mod:`stance.analysis.measures`), differences
(:mod:`stance.analysis.differences`) and example sentences (:mod:`stance.analysis.examples`).

Example:
    >>> from stance.analysis.compare import compare_scores
    >>> result = compare_scores("scores.parquet", by="outlet", rollup="affiliation")  # doctest: +SKIP
    >>> result.method  # the estimate the report shows  # doctest: +SKIP
    'acc'
    >>> net = result.shown("net")  # doctest: +SKIP
    >>> net.pivot(index="actor", columns="group", values="estimate")  # doctest: +SKIP
    >>> result.differences.query("q_value < 0.05")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stance.analysis.confusion import RECORDED, ConfusionSource, matrix_for
from stance.analysis.differences import DEVICE_DIFFERENCE_COLUMNS, DIFFERENCE_COLUMNS, device_differences, stance_differences
from stance.analysis.estimates import STANCE_COLUMNS, estimate
from stance.analysis.examples import draw_examples
from stance.analysis.groups import (
    ROLLUPS,
    cell_counts,
    check_group_sizes,
    group_counts,
    keep_actors,
    prepare_table,
    rename_actors,
)
from stance.analysis.measures import MEASURES, METHODS
from stance.analysis.quantify import MIN_ARTICLES, Confusion
from stance.io.score_files import REPEATED_IN, Source, describe_source, read_scores
from stance.labels.format import STANCE_LABELS

if TYPE_CHECKING:
    from stance.pipeline.actor_registry import ActorRegistry


@dataclass(frozen=True, eq=False)
class CompareResult:
    """What :func:`compare_scores` returns. All tables are tidy (one row per group x actor x measure x method, etc.).

    - ``stance``: group, actor, measure (share_negative, share_neutral, share_positive, net), method (acc, cc, pa),
      estimate, ci_low, ci_high, n_mentions, n_articles, low_support
    - ``devices``: group, device, measure (rate_per_1000_sentences), estimate, ci_low, ci_high, n_spans,
      n_sentences, n_articles, rank (1 = the group's most frequent device), low_support (fewer than ``min_articles``
      articles: no interval)
    - ``differences``: group_a, group_b, actor, measure (net), method, difference (a - b), ci_low, ci_high,
      p_value, q_value (Benjamini-Hochberg over the rows without low support; low-support rows have no interval
      or p-value), n_mentions_a/b, low_support
    - ``device_differences``: group_a, group_b, device, measure (rate_per_1000_sentences), difference (a - b),
      ci_low, ci_high, p_value, q_value (Benjamini-Hochberg over the rows where both groups have enough articles
      and either has a span), n_spans_a/b
    - ``groups``: group, n_articles, n_sentences, n_mentions
    - ``examples``: up to ``examples`` sentences per group x actor, with the spans to highlight
    - ``method``: the method shown and used for differences; ``notes``: what the reader should know

    Example:
        >>> result = compare_scores("scores.parquet", by="date:month")  # doctest: +SKIP
        >>> result.shown("net").sort_values("estimate").head()  # doctest: +SKIP
    """

    by: str
    method: str
    methods: tuple[str, ...]
    stance: pd.DataFrame
    devices: pd.DataFrame
    differences: pd.DataFrame
    groups: pd.DataFrame
    examples: pd.DataFrame
    confusion: Confusion | None
    notes: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    device_differences: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DEVICE_DIFFERENCE_COLUMNS))

    def shown(self, measure: str = "net") -> pd.DataFrame:
        """Rows of ``stance`` for the shown method and one measure.

        Example:
            >>> result.shown("share_negative")[["group", "actor", "estimate"]]  # doctest: +SKIP
        """
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
        rows = self.stance[(self.stance["method"] == self.method) & (self.stance["measure"] == measure)]
        return rows.reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """Settings, counts and notes as a JSON-ready dict (written as ``summary.json``).

        Example:
            >>> result.summary()["method_name"]  # doctest: +SKIP
            'adjusted classify-and-count'
        """
        return {
            "by": self.by,
            "method": self.method,
            "method_name": METHODS[self.method].title,
            "methods": list(self.methods),
            "confusion": None
            if self.confusion is None
            else {"source": self.confusion.source, "labels": list(STANCE_LABELS), "matrix": self.confusion.counts.tolist()},
            "groups": int(len(self.groups)),
            "articles": int(self.groups["n_articles"].sum()),
            "sentences": int(self.groups["n_sentences"].sum()),
            "mentions": int(self.groups["n_mentions"].sum()),
            "notes": list(self.notes),
            **self.settings,
        }

    def write_tables(self, out_dir: str | Path) -> list[Path]:
        """Write stance, devices, differences and groups as CSV and Parquet, plus summary.json.

        Example:
            >>> result.write_tables("report/")  # doctest: +SKIP
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("stance", "devices", "differences", "device_differences", "groups"):
            table: pd.DataFrame = getattr(self, name)
            for suffix in (".csv", ".parquet"):
                path = out / f"{name}{suffix}"
                table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path, index=False)
                written.append(path)
        path = out / "summary.json"
        path.write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False), encoding="utf-8")
        return [*written, path]


def compare_scores(
    data: Source,
    by: str = "outlet",
    *,
    rollup: str | None = None,
    method: str = "acc",
    model: str | None = RECORDED,
    confusion: ConfusionSource | None = None,
    bootstrap: int = 1000,
    min_mentions: int = 20,
    min_articles: int = MIN_ARTICLES,
    seed: int = 0,
    level: float = 0.95,
    only: Iterable[str] | None = None,
    registry: ActorRegistry | None = None,
    drop_small_groups: bool = False,
    differences: bool = True,
    examples: int = 3,
    merges: Mapping[str, str] | None = None,
    repeated_in: int = REPEATED_IN,
) -> CompareResult:
    """Compare groups of scored articles: stance toward each actor, device rates, differences.

    ``data``: a DataFrame of ``stance score`` rows, or paths (files or directories of shards).
    ``by``: a metadata column (``outlet``), or ``COLUMN:PERIOD`` with PERIOD one of day, week, month, quarter,
    year (``date:month``). ``merges``: actor name -> the name to count it under, applied first (from an actor file
    reviewed after `stance actors`: :func:`stance.analysis.actor_table.merge_map`). ``rollup="affiliation"`` counts a person under the state or organisation they
    serve (from the actor registry; ``registry`` overrides the shipped one). ``method``: the estimate shown and
    used for differences: ``acc`` (default; needs a confusion matrix from ``model``'s evaluation.json or
    ``confusion``, else falls back to ``cc`` with a note), ``cc`` or ``pa``. ``model="recorded"`` (default) is
    the model named in the inputs' run metadata (:func:`stance.analysis.confusion.recorded_model`). Intervals: percentile bootstrap
    over articles within each group (``bootstrap`` resamples, deterministic for a given ``seed``), expanded
    for small numbers of articles (see :func:`stance.analysis.quantify.expanded_tail`); for ``acc`` each resample also
    redraws the confusion matrix's labelled targets, so a matrix from few labels widens the intervals. Cells
    with fewer than ``min_mentions`` mentions or fewer than ``min_articles`` articles are flagged ``low_support``
    and get no interval (NaN); so do device rows of groups with fewer than ``min_articles`` articles (below ten
    articles the bootstrap interval falls well short of its level: measured, 95% intervals cover 73% of the time
    from 3 articles, 91% from 5). ``only``: keep
    these actors (names after rollup). A group with a single article cannot be resampled: ValueError, unless
    ``drop_small_groups``. ``repeated_in``: a sentence found in at least this many articles (and 5%) of one
    outlet is page furniture, counted once (:func:`stance.io.score_files.without_repeated_sentences`; 0 keeps every
    copy). Bad input raises ValueError saying what is wrong.

    Example:
        >>> from stance.analysis.compare import compare_scores
        >>> result = compare_scores(["scores/part-0.parquet", "scores/part-1.parquet"], by="outlet",
        ...                         rollup="affiliation", bootstrap=1000, seed=0)  # doctest: +SKIP
        >>> result.shown("net")[["group", "actor", "estimate", "ci_low", "ci_high", "low_support"]]  # doctest: +SKIP
        >>> result.devices.query("rank <= 3")  # the leading devices of each group  # doctest: +SKIP
    """
    _check_options(method, bootstrap, min_mentions, min_articles, level, rollup, examples)
    notes: list[str] = []
    frame = read_scores(data)
    table = prepare_table(frame, by, notes, repeated_in)
    table = rename_actors(table, notes, merges=merges, rollup=rollup, registry=registry)
    if only is not None:
        table = keep_actors(table, only, notes)
    table = replace(table, groups=group_counts(table.sentences, table.mentions))
    table = check_group_sizes(table, by, drop_small_groups, notes)

    conf = matrix_for(data, method=method, model=model, confusion=confusion, notes=notes)
    methods = ["cc"] + (["acc"] if conf is not None else [])
    has_probs = not table.mentions.empty and bool(
        table.mentions[["p_negative", "p_neutral", "p_positive"]].notna().all(axis=None)
    )
    if has_probs:
        methods.append("pa")
    shown = method
    if method == "acc" and conf is None:
        shown = "cc"
    if method == "pa" and not has_probs:
        raise ValueError("--method pa needs 'probs' for every mention; some mentions have none")

    found = estimate(table, conf, methods, shown, bootstrap, seed, level)
    counts = cell_counts(table)
    stance = found.stance.merge(counts, on=["group", "actor"], how="left")
    stance["low_support"] = (stance["n_mentions"] < min_mentions) | (stance["n_articles"] < min_articles)
    # Below the minimum support the bootstrap has too little to resample (7 mentions, all positive, give
    # "+1.00 [+1.00, +1.00]"): such a cell gets its estimate and no interval.
    stance.loc[stance["low_support"], ["ci_low", "ci_high"]] = np.nan
    stance["_order"] = stance["measure"].map({m: i for i, m in enumerate(MEASURES)})
    stance = stance.sort_values(["group", "actor", "method", "_order"], ignore_index=True)[STANCE_COLUMNS]
    devices = found.devices.copy()
    devices["low_support"] = devices["n_articles"] < min_articles  # as in the stance table, so a reader sees why
    devices.loc[devices["low_support"], ["ci_low", "ci_high"]] = np.nan
    diffs = (
        stance_differences(found.net, counts, min_mentions, shown, level, min_articles=min_articles)
        if differences
        else pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    )
    device_diffs = (
        device_differences(found.device_replicates, level, min_articles=min_articles)
        if differences
        else pd.DataFrame(columns=DEVICE_DIFFERENCE_COLUMNS)
    )
    if differences and table.groups.shape[0] < 2:
        notes.append("only one group: no differences between groups")
    low = int(stance.loc[stance["method"] == shown, "low_support"].sum() // len(MEASURES))
    if low:
        notes.append(
            f"{low} group x actor cells have fewer than {min_mentions} mentions or {min_articles} articles (flagged low_support)"
        )
    if few := int((table.groups["n_articles"] < min_articles).sum()):
        notes.append(f"{few} group(s) have fewer than {min_articles} articles: their device rates get no interval")
    return CompareResult(
        by=by,
        method=shown,
        methods=tuple(methods),
        stance=stance,
        devices=devices,
        differences=diffs,
        groups=table.groups,
        examples=draw_examples(table, examples, seed) if examples else pd.DataFrame(),
        device_differences=device_diffs,
        confusion=conf,
        notes=tuple(notes),
        settings={
            "bootstrap": bootstrap,
            "seed": seed,
            "level": level,
            "min_mentions": min_mentions,
            "min_articles": min_articles,
            "rollup": rollup,
            "requested_method": method,
            "inputs": describe_source(data),
        },
    )


def _check_options(
    method: str, bootstrap: int, min_mentions: int, min_articles: int, level: float, rollup: str | None, examples: int
) -> None:
    """ValueError naming the first of compare_scores' options that is out of range."""
    if method not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if not isinstance(bootstrap, int) or bootstrap < 100:
        raise ValueError(f"--bootstrap must be an integer of at least 100, got {bootstrap!r}")
    if min_mentions < 1:
        raise ValueError(f"--min-mentions must be at least 1, got {min_mentions}")
    if min_articles < 2:
        raise ValueError(f"--min-articles must be at least 2 (one article cannot be resampled), got {min_articles}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    if rollup not in (None, *ROLLUPS):
        raise ValueError(f"--rollup must be 'none' or 'affiliation', got {rollup!r}")
    if examples < 0:
        raise ValueError("examples must be >= 0")
