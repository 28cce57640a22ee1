"""Compare how groups of articles (outlets, months, ...) treat actors: stance shares and net stance per
group and actor, framing-device rates per group, and differences between groups, each with a 95%
bootstrap interval over articles. Works on ``stance score`` output (Parquet, JSONL or CSV, one or more
shards) or on a DataFrame of such rows.

Shares are estimated two ways: classify-and-count (``cc``: the share of mentions the model labels
negative / neutral / positive) and adjusted classify-and-count (``acc``: corrected for the model's
errors on its dev set, from the confusion matrix stored in the model directory). ``pa``
(probabilistic averaging: the mean predicted probabilities) is added when the input has them.

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

import difflib
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stance.analysis.quantify import (
    LABELS,
    NOISY_CONDITION,
    Confusion,
    adjust_shares,
    adjust_shares_each,
    benjamini_hochberg,
    bootstrap_sums,
    interval,
    wald_p_values,
)

if TYPE_CHECKING:
    from stance.pipeline.actors import ActorRegistry

REQUIRED_COLUMNS = ("doc_id", "sentence_id", "text", "mentions", "devices")
FORMATS = (".parquet", ".jsonl", ".ndjson", ".csv")
PERIODS = ("day", "week", "month", "quarter", "year")
METHODS = {"acc": "adjusted classify-and-count", "cc": "classify-and-count", "pa": "probabilistic averaging"}
MEASURES = ("share_negative", "share_neutral", "share_positive", "net")
STANCE_COLUMNS = ["group", "actor", "measure", "method", "estimate", "ci_low", "ci_high", "n_mentions", "n_articles", "low_support"]
DEVICE_COLUMNS = ["group", "device", "measure", "estimate", "ci_low", "ci_high", "n_spans", "n_sentences", "n_articles", "rank"]
DIFFERENCE_COLUMNS = [
    "group_a", "group_b", "actor", "measure", "method", "difference", "ci_low", "ci_high", "p_value", "q_value",
    "n_mentions_a", "n_mentions_b", "low_support",
]
DEVICE_DIFFERENCE_COLUMNS = [
    "group_a", "group_b", "device", "measure", "difference", "ci_low", "ci_high", "p_value", "q_value", "n_spans_a", "n_spans_b",
]

_NO_PROBS = [float("nan")] * 3
_EXAMPLES_STREAM = 0x5EED  # keeps example draws apart from any other use of the same seed
_CONFUSION_STREAM = 0xC0F  # likewise for the confusion matrix's resamples
RECORDED = "recorded"  # compare_scores(model=...): the model named in the inputs' run metadata
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")

Source = pd.DataFrame | str | Path | Sequence[str | Path]


@dataclass(frozen=True, eq=False)
class CompareResult:
    """What :func:`compare_scores` returns. All tables are tidy (one row per group x actor x measure x method, etc.).

    - ``stance``: group, actor, measure (share_negative, share_neutral, share_positive, net), method (acc, cc, pa),
      estimate, ci_low, ci_high, n_mentions, n_articles, low_support
    - ``devices``: group, device, measure (rate_per_1000_sentences), estimate, ci_low, ci_high, n_spans,
      n_sentences, n_articles, rank (1 = the group's most frequent device)
    - ``differences``: group_a, group_b, actor, measure (net), method, difference (a - b), ci_low, ci_high,
      p_value, q_value (Benjamini-Hochberg over the rows without low support), n_mentions_a/b, low_support
    - ``device_differences``: group_a, group_b, device, measure (rate_per_1000_sentences), difference (a - b),
      ci_low, ci_high, p_value, q_value (Benjamini-Hochberg over these rows), n_spans_a/b
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
        """Settings, counts and notes as a JSON-ready dict (written as ``summary.json``)."""
        return {
            "by": self.by,
            "method": self.method,
            "method_name": METHODS[self.method],
            "methods": list(self.methods),
            "confusion": None if self.confusion is None else {"source": self.confusion.source, "labels": list(LABELS),
                                                             "matrix": self.confusion.counts.tolist()},
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
    confusion: Confusion | Mapping[str, Any] | str | Path | None = None,
    bootstrap: int = 1000,
    min_mentions: int = 20,
    seed: int = 0,
    level: float = 0.95,
    only: Iterable[str] | None = None,
    registry: ActorRegistry | None = None,
    drop_small_groups: bool = False,
    differences: bool = True,
    examples: int = 3,
    merges: Mapping[str, str] | None = None,
) -> CompareResult:
    """Compare groups of scored articles: stance toward each actor, device rates, differences.

    ``data``: a DataFrame of ``stance score`` rows, or paths (files or directories of shards).
    ``by``: a metadata column (``outlet``), or ``COLUMN:PERIOD`` with PERIOD one of day, week, month, quarter,
    year (``date:month``). ``merges``: actor name -> the name to count it under, applied first (from an actor file
    reviewed after `stance actors`: :func:`stance.analysis.actor_table.merge_map`). ``rollup="affiliation"`` counts a person under the state or organisation they
    serve (from the actor registry; ``registry`` overrides the shipped one). ``method``: the estimate shown and
    used for differences: ``acc`` (default; needs a confusion matrix from ``model``'s evaluation.json or
    ``confusion``, else falls back to ``cc`` with a note), ``cc`` or ``pa``. ``model="recorded"`` (default) is
    the model named in the inputs' run metadata (:func:`recorded_model`). Intervals: percentile bootstrap
    over articles within each group (``bootstrap`` resamples, deterministic for a given ``seed``), expanded
    for small numbers of articles (see :func:`stance.analysis.quantify.expanded_tail`); for ``acc`` each resample also
    redraws the confusion matrix's labelled targets, so a matrix from few labels widens the intervals. Cells
    with fewer than ``min_mentions`` mentions (or a single article) are flagged ``low_support`` and get no
    interval (NaN). ``only``: keep
    these actors (names after rollup). A group with a single article cannot be resampled: ValueError, unless
    ``drop_small_groups``. Bad input raises ValueError saying what is wrong.

    Example:
        >>> from stance.analysis.compare import compare_scores
        >>> result = compare_scores(["scores/part-0.parquet", "scores/part-1.parquet"], by="outlet",
        ...                         rollup="affiliation", bootstrap=1000, seed=0)  # doctest: +SKIP
        >>> result.shown("net")[["group", "actor", "estimate", "ci_low", "ci_high", "low_support"]]  # doctest: +SKIP
        >>> result.devices.query("rank <= 3")  # the leading devices of each group  # doctest: +SKIP
    """
    _check_options(method, bootstrap, min_mentions, level, rollup, examples)
    notes: list[str] = []
    frame = read_scores(data)
    table = _prepare(frame, by, notes)
    if merges:
        merged = table.mentions["actor"].isin(list(merges))
        table.mentions["actor"] = table.mentions["actor"].map(lambda a: merges.get(a, a))
        notes.append(f"{int(merged.sum()):,} mentions counted under another name by the actor file's merges")
    if rollup == "affiliation":
        if registry is None:
            from stance.pipeline.actors import ActorRegistry

            registry = ActorRegistry.load()
        table.mentions["actor"] = table.mentions["actor"].map(affiliation_map(table.mentions["actor"].unique(), registry))
    if only is not None:
        wanted = set(only)
        names = sorted(set(table.mentions["actor"]))
        unknown = sorted(wanted - set(names))
        for name in unknown:
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f" (actors with a close name: {', '.join(close)})" if close else ""
            notes.append(f"--only {name!r}: no actor of that name in the input{hint}")
        if unknown and not wanted & set(names):
            raise ValueError(f"none of the --only actors is in the input: {', '.join(unknown)}")
        table.mentions = table.mentions[table.mentions["actor"].isin(wanted)].reset_index(drop=True)
    table.groups = _group_counts(table.sentences, table.mentions)
    _check_group_sizes(table, by, drop_small_groups, notes)

    conf = None
    if method == "acc" or confusion is not None:
        if model == RECORDED and confusion is None:
            model, how = recorded_model(data)
            notes.append(how)
        conf, problem = resolve_confusion(model, confusion)
        if problem:
            shown_instead = "; classify-and-count is shown instead" if method == "acc" else ""
            notes.append(f"no correction for the model's errors ({problem}){shown_instead}")
        elif conf is not None and conf.condition > NOISY_CONDITION:
            notes.append(f"the confusion matrix is poorly conditioned (condition number {conf.condition:.0f}): corrected shares are noisy")
        if conf is not None:
            n = int(conf.counts.sum())
            notes.append(f"corrected with the confusion matrix of {conf.source or 'the given matrix'} ({n:,} labelled targets; its uncertainty is in the intervals)")
    methods = ["cc"] + (["acc"] if conf is not None else [])
    has_probs = not table.mentions.empty and bool(table.mentions[["p_negative", "p_neutral", "p_positive"]].notna().all(axis=None))
    if has_probs:
        methods.append("pa")
    shown = method
    if method == "acc" and conf is None:
        shown = "cc"
    if method == "pa" and not has_probs:
        raise ValueError("--method pa needs 'probs' for every mention; some mentions have none")

    engine = _Engine(table, conf, methods, shown, bootstrap, seed, level)
    stance, devices, replicates, device_replicates = engine.run()
    counts = _cell_counts(table)
    stance = stance.merge(counts, on=["group", "actor"], how="left")
    stance["low_support"] = (stance["n_mentions"] < min_mentions) | (stance["n_articles"] < 2)
    # Below the minimum support the bootstrap has too little to resample (7 mentions, all positive, give
    # "+1.00 [+1.00, +1.00]"): such a cell gets its estimate and no interval.
    stance.loc[stance["low_support"], ["ci_low", "ci_high"]] = np.nan
    stance["_order"] = stance["measure"].map({m: i for i, m in enumerate(MEASURES)})
    stance = stance.sort_values(["group", "actor", "method", "_order"], ignore_index=True)[STANCE_COLUMNS]
    diffs = _differences(replicates, counts, min_mentions, shown, level) if differences else pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    device_diffs = _device_differences(device_replicates, engine.device_names, level) if differences else pd.DataFrame(columns=DEVICE_DIFFERENCE_COLUMNS)
    if differences and table.groups.shape[0] < 2:
        notes.append("only one group: no differences between groups")
    low = int(stance.loc[stance["method"] == shown, "low_support"].sum() // len(MEASURES))
    if low:
        notes.append(f"{low} group x actor cells have fewer than {min_mentions} mentions or a single article (flagged low_support)")
    return CompareResult(
        by=by,
        method=shown,
        methods=tuple(methods),
        stance=stance,
        devices=devices,
        differences=diffs,
        groups=table.groups,
        examples=_examples(table, examples, seed) if examples else pd.DataFrame(),
        device_differences=device_diffs,
        confusion=conf,
        notes=tuple(notes),
        settings={"bootstrap": bootstrap, "seed": seed, "level": level, "min_mentions": min_mentions, "rollup": rollup,
                  "requested_method": method, "inputs": _describe_source(data)},
    )


# --------------------------------------------------------------------------- reading
def read_scores(source: Source) -> pd.DataFrame:
    """``stance score`` rows as one DataFrame, from a DataFrame, files, or directories of shards
    (``.parquet``, ``.jsonl``, ``.csv``; ``*errors*`` files are skipped). ValueError when a file cannot be
    read, lacks a required column, or when there are no rows at all.

    Example:
        >>> frame = read_scores(["scores.parquet", "more_scores.jsonl"])  # doctest: +SKIP
    """
    if isinstance(source, pd.DataFrame):
        _check_columns(source, "the DataFrame")
        frames, names = [source], ["the DataFrame"]
    else:
        paths = _expand(source)
        frames, names = [], [str(p) for p in paths]
        for path in paths:
            frame = _read_file(path)
            _check_columns(frame, str(path))
            frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"no scored sentences in {', '.join(names)}: the input is empty")
    return frame


def _expand(source: str | Path | Sequence[str | Path]) -> list[Path]:
    items = [source] if isinstance(source, (str, Path)) else list(source)
    if not items:
        raise ValueError("no input given")
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in FORMATS and "errors" not in p.name)
            if not found:
                raise ValueError(f"{path}: no .parquet, .jsonl or .csv files in this directory")
            paths += found
        elif path.is_file():
            if path.suffix.lower() not in FORMATS:
                raise ValueError(f"{path}: unknown format {path.suffix or '(no suffix)'}; expected .parquet, .jsonl or .csv")
            paths.append(path)
        else:
            raise ValueError(f"{path}: no such file or directory")
    return paths


def _read_file(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes); expected `stance score` output")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None
    if suffix == ".csv":
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    from stance.io.readers import json_objects

    rows = [row for _, row in json_objects(path)]
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=list(REQUIRED_COLUMNS))


def _check_columns(frame: pd.DataFrame, where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; expected `stance score` output with "
            f"{', '.join(REQUIRED_COLUMNS)} and metadata columns (found: {', '.join(map(str, frame.columns)) or 'none'})"
        )


def _describe_source(data: Source) -> list[str]:
    if isinstance(data, pd.DataFrame):
        return ["<DataFrame>"]
    return [str(p) for p in ([data] if isinstance(data, (str, Path)) else data)]


# --------------------------------------------------------------------------- preparing
@dataclass
class _Table:
    """Sentences, mentions and devices of the kept sentences, with group and article codes."""

    sentences: pd.DataFrame  # doc_id, sentence_id, text, group, article
    mentions: pd.DataFrame  # row, actor, label, p_negative, p_neutral, p_positive, start, end
    devices: pd.DataFrame  # row, device, start, end
    groups: pd.DataFrame  # group, n_articles, n_sentences, n_mentions


def _prepare(frame: pd.DataFrame, by: str, notes: list[str]) -> _Table:
    frame = frame.copy()
    frame["doc_id"] = frame["doc_id"].astype(str)
    sid = pd.to_numeric(frame["sentence_id"], errors="coerce")
    if sid.isna().any():
        bad = frame.loc[sid.isna(), "sentence_id"].iloc[0]
        raise ValueError(f"'sentence_id' must be integers, found {bad!r}")
    frame["sentence_id"] = sid.astype(int)
    if "boilerplate" in frame.columns:
        frame = frame[~_as_bool(frame["boilerplate"])]
        if frame.empty:
            raise ValueError("every sentence in the input is marked boilerplate: nothing to compare")
    dupes = frame.duplicated(["doc_id", "sentence_id"])
    if dupes.any():
        notes.append(f"{int(dupes.sum())} duplicate sentences (same doc_id and sentence_id) were counted once")
        frame = frame[~dupes]
    frame["group"] = group_labels(frame, by)
    if ":" in by:
        ambiguous = _day_month_ambiguous(frame[by.partition(":")[0]])
        if ambiguous:
            example = ambiguous[0]
            read = parse_dates(pd.Series([example])).iloc[0]
            notes.append(
                f"{len(ambiguous)} distinct date(s) such as {example!r} could be day/month or month/day; they were read "
                f"month first ({read:%Y-%m-%d}). Write dates as YYYY-MM-DD to be sure"
            )
    missing = frame["group"].isna()
    if missing.all():
        raise ValueError(f"--by {by}: no article has a usable value (all missing or unparseable)")
    if missing.any():
        notes.append(f"{frame.loc[missing, 'doc_id'].nunique()} articles without a usable '{by}' value were left out")
        frame = frame[~missing]
    frame = frame.reset_index(drop=True)
    frame["article"] = pd.factorize(frame["doc_id"])[0]

    mention_rows: list[tuple] = []
    device_rows: list[tuple] = []
    truncated = 0
    for row, (doc, sid_, mentions, devices) in enumerate(zip(frame["doc_id"], frame["sentence_id"], frame["mentions"], frame["devices"], strict=True)):
        where = f"doc {doc!r} sentence {sid_}"
        for m in as_list(mentions, where, "mentions"):
            stance = m.get("stance") if isinstance(m, Mapping) else None
            if not isinstance(m, Mapping) or not isinstance(m.get("actor"), str) or not m["actor"]:
                raise ValueError(f"{where}: every mention needs an 'actor' name, got {m!r}")
            if stance is None or (isinstance(stance, float) and np.isnan(stance)):
                truncated += 1
                continue
            if stance not in LABELS:
                raise ValueError(f"{where}: mention stance {stance!r} is not one of {', '.join(LABELS)} or null")
            probs = m.get("probs")
            p = [_float(probs.get(k)) for k in LABELS] if probs and isinstance(probs, Mapping) else _NO_PROBS
            mention_rows.append((row, m["actor"], LABELS.index(stance), *p, _int(m.get("start")), _int(m.get("end"))))
        for d in as_list(devices, where, "devices"):
            if not isinstance(d, Mapping) or not isinstance(d.get("label"), str):
                raise ValueError(f"{where}: every device needs a 'label', got {d!r}")
            device_rows.append((row, d["label"], _int(d.get("start")), _int(d.get("end"))))
    if truncated:
        notes.append(f"{truncated} mentions without a stance (sentence cut at the model's maximum length) were skipped")
    mentions = pd.DataFrame(mention_rows, columns=["row", "actor", "label", "p_negative", "p_neutral", "p_positive", "start", "end"])
    mentions = mentions.astype({"row": int, "actor": object, "label": int, "p_negative": float, "p_neutral": float,
                                "p_positive": float, "start": int, "end": int})
    devices = pd.DataFrame(device_rows, columns=["row", "device", "start", "end"]).astype({"row": int, "device": object, "start": int, "end": int})
    sentences = frame[["doc_id", "sentence_id", "text", "group", "article"]]
    if mentions.empty:
        notes.append("no actor mentions with a stance in the input")
    return _Table(sentences, mentions, devices, _group_counts(sentences, mentions))


def _group_counts(sentences: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    groups = sentences.groupby("group").agg(n_articles=("article", "nunique"), n_sentences=("article", "size"))
    groups["n_mentions"] = mentions.groupby(sentences["group"].to_numpy()[mentions["row"].to_numpy()]).size()
    groups = groups.fillna({"n_mentions": 0}).astype(int).reset_index()
    return groups.astype({"group": object}).sort_values("group", ignore_index=True)


def group_labels(frame: pd.DataFrame, by: str) -> pd.Series:
    """The group of each row: the ``by`` column (``COLUMN`` or ``COLUMN:PERIOD``), made constant per article
    (its first non-missing value). Missing or unparseable values give NA.

    Example:
        >>> rows = pd.DataFrame({"doc_id": ["a", "a", "b"], "date": ["2024-01-31", None, "2024-02-01T09:00:00Z"]})
        >>> group_labels(rows, "date:month").tolist()
        ['2024-01', '2024-01', '2024-02']
    """
    column, _, period = by.partition(":")
    if not column or (period and period not in PERIODS):
        raise ValueError(f"--by {by!r}: expected a column name, or COLUMN:PERIOD with PERIOD one of {', '.join(PERIODS)}")
    if column not in frame.columns:
        meta = [c for c in frame.columns if c not in (*REQUIRED_COLUMNS, "start", "end", "section", "boilerplate")]
        raise ValueError(f"--by {by}: no column {column!r} in the input (metadata columns: {', '.join(map(str, meta)) or 'none'})")
    values = frame[column].astype(object).where(frame[column].notna(), None)
    values = values.map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else str(v))
    if period:
        values = _periods(values, period)
    per_article = pd.Series(values.to_numpy(), index=frame["doc_id"].to_numpy()).groupby(level=0).first()
    labels = pd.Series(frame["doc_id"].map(per_article).to_numpy(), index=frame.index, dtype=object)
    return labels.where(labels.notna(), None)


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates as written (local wall-clock time; a time-zone offset does not move the day): ISO dates
    (``2024-03-05``, ``2024-03-05T23:10:00-05:00``) fast, other formats ("5 March 2024", RFC 2822) one
    distinct value at a time. Unparseable values give NaT.

    Example:
        >>> parse_dates(pd.Series(["2024-03-05T23:10:00-05:00", "Tue, 05 Mar 2024 10:00:00 +0100", "soon"])).dt.day.tolist()
        [5.0, 5.0, nan]
    """
    text = values.astype(object).where(values.notna(), None)
    iso = text.map(lambda v: v.strip()[:10] if isinstance(v, str) and _ISO_DATE.match(v.strip()) else None)
    dates = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    rest = dates.isna() & text.notna()
    if rest.any():
        parsed = {}
        for value in text[rest].unique():
            try:
                stamp = pd.Timestamp(value)
                parsed[value] = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
            except (ValueError, TypeError, OverflowError):
                parsed[value] = pd.NaT
        dates = dates.where(~rest, pd.to_datetime(text[rest].map(parsed)))
    return dates


_SLASH_DATE = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")


def _day_month_ambiguous(values: pd.Series) -> list[str]:
    """Distinct dates like ``09/03/2026`` whose first two numbers could each be the day or the month."""
    out = []
    for value in values.dropna().astype(str).unique():
        m = _SLASH_DATE.match(value)
        if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 12 and m.group(1) != m.group(2):
            out.append(value)
    return out


def _periods(values: pd.Series, period: str) -> pd.Series:
    dates = parse_dates(values)
    if period == "week":
        iso = dates.dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    elif period == "quarter":
        labels = dates.dt.year.astype("Int64").astype(str) + "-Q" + dates.dt.quarter.astype("Int64").astype(str)
    else:
        labels = dates.dt.strftime({"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period])
    return labels.astype(object).where(dates.notna(), None)


def affiliation_map(actors: Iterable[str], registry: ActorRegistry) -> dict[str, str]:
    """Each actor name -> the top of its affiliation chain in the registry (a leader -> their state, an
    agency -> its parent organisation); names outside the registry map to themselves.

    Example:
        >>> from stance.pipeline.actors import ActorRegistry
        >>> affiliation_map(["Sergei Lavrov", "Russia", "Acme Corp"], ActorRegistry.load())
        {'Sergei Lavrov': 'Russia', 'Russia': 'Russia', 'Acme Corp': 'Acme Corp'}
    """
    out = {}
    for name in actors:
        current, seen = name, {name}
        while current in registry and registry[current].affiliation and registry[current].affiliation not in seen:
            current = registry[current].affiliation
            seen.add(current)
        out[name] = current
    return out


def as_list(value: Any, where: str = "a row", column: str = "mentions") -> list:
    """A ``mentions`` or ``devices`` cell as a list: Parquet and JSONL give lists, CSV gives JSON text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"{where}: '{column}' is not valid JSON: {value[:80]!r}") from None
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    raise ValueError(f"{where}: '{column}' must be a list, got {type(value).__name__}")


def _as_bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    truthy, falsy = {"true", "1", "yes"}, {"false", "0", "no", "", "none", "nan", "<na>"}
    unknown = ~text.isin(truthy | falsy)
    if unknown.any():
        raise ValueError(f"'boilerplate' must be true or false, found {series[unknown].iloc[0]!r}")
    return text.isin(truthy)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _check_group_sizes(table: _Table, by: str, drop: bool, notes: list[str]) -> None:
    small = table.groups[table.groups["n_articles"] < 2]
    if small.empty:
        return
    listed = ", ".join(repr(g) for g in small["group"][:10]) + (" ..." if len(small) > 10 else "")
    if not drop:
        raise ValueError(
            f"--by {by}: {len(small)} group(s) have a single article, so their uncertainty cannot be estimated by "
            f"resampling articles: {listed}. Group more coarsely, or leave them out (--drop-small-groups)"
        )
    if len(small) == len(table.groups):
        raise ValueError(f"--by {by}: every group has a single article; nothing to compare")
    keep = ~table.sentences["group"].isin(set(small["group"]))
    rows = np.flatnonzero(keep.to_numpy())
    renumber = pd.Series(np.arange(len(rows)), index=rows)
    table.sentences = table.sentences[keep].reset_index(drop=True)
    for name in ("mentions", "devices"):
        part = getattr(table, name)
        part = part[part["row"].isin(renumber.index)].copy()
        part["row"] = renumber[part["row"]].to_numpy()
        setattr(table, name, part.reset_index(drop=True))
    table.groups = _group_counts(table.sentences, table.mentions)
    notes.append(f"{len(small)} group(s) with a single article were left out: {listed}")


def recorded_model(data: Source) -> tuple[str, str]:
    """The model the scores were made with, from each input's run metadata (``OUT.run.json``), and a
    note saying where it came from; ``default`` when there is none or the inputs disagree (the note says so).

    Example:
        >>> recorded_model(["scores.parquet"])  # doctest: +SKIP
        ('/home/me/.local/share/stance/models/v3', 'the confusion matrix comes from the model recorded in scores.run.json (v3)')
    """
    from stance.run.local import run_metadata_path

    if isinstance(data, pd.DataFrame):
        return "default", "a DataFrame carries no run metadata: the correction uses the shipped default model's matrix"
    items = [data] if isinstance(data, (str, Path)) else list(data)
    models = {}
    for item in items:
        meta = run_metadata_path(item)
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))["model"]
            models[(record["path"], record.get("version"))] = (meta.name, record)
        except (OSError, ValueError, KeyError, TypeError):
            return "default", f"no run metadata beside {item} ({meta.name}): the correction uses the shipped default model's matrix"
    if len(models) > 1:
        listed = "; ".join(f"{name}: {r['path']}" for name, r in models.values())
        return "default", f"the inputs were scored by different models ({listed}): the correction uses the shipped default model's matrix"
    (path, version), (name, record) = next(iter(models.items()))
    return path, f"the model is the one recorded in {name}: {record.get('name')} ({path}, version {version})"


def resolve_confusion(model: str | None, confusion: Confusion | Mapping[str, Any] | str | Path | None) -> tuple[Confusion | None, str | None]:
    """The confusion matrix to correct with, and else why there is none. An explicit ``confusion`` (a
    :class:`Confusion`, a dict or a JSON file) must be valid (ValueError otherwise); the one stored in
    ``model``'s ``evaluation.json`` is used when present (the network is not loaded).

    Example:
        >>> conf, problem = resolve_confusion("default", None)  # doctest: +SKIP
    """
    if confusion is not None:
        if isinstance(confusion, Confusion):
            conf = confusion
        elif isinstance(confusion, Mapping):
            conf = Confusion.from_dict(confusion, "the given confusion matrix")
        else:
            conf = Confusion.from_file(confusion)
    elif model:
        model_dir = _model_dir(model)
        if isinstance(model_dir, str):
            return None, model_dir
        path = model_dir / "evaluation.json"
        if not path.exists():
            return None, f"{path} does not exist"
        try:
            conf = Confusion.from_file(path)
        except ValueError as exc:
            return None, str(exc)
    else:
        return None, "no model or confusion matrix given"
    problem = conf.problem()
    return (None, f"{conf.source}: {problem}") if problem else (conf, None)


def _model_dir(model: str) -> Path | str:
    """The model's local directory, or a reason why there is none."""
    from stance.store.model_files import resolve_model

    try:
        resolved = Path(resolve_model(model))
    except ValueError as exc:
        return str(exc)
    return resolved if resolved.is_dir() else f"model {model!r} is not a local directory (pass --confusion)"


def _check_options(method: str, bootstrap: int, min_mentions: int, level: float, rollup: str | None, examples: int) -> None:
    if method not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if not isinstance(bootstrap, int) or bootstrap < 100:
        raise ValueError(f"--bootstrap must be an integer of at least 100, got {bootstrap!r}")
    if min_mentions < 1:
        raise ValueError(f"--min-mentions must be at least 1, got {min_mentions}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    if rollup not in (None, "none", "affiliation"):
        raise ValueError(f"--rollup must be 'none' or 'affiliation', got {rollup!r}")
    if examples < 0:
        raise ValueError("examples must be >= 0")


# --------------------------------------------------------------------------- estimating
class _Engine:
    """Per group: one set of article resamples shared by every actor, method and device."""

    def __init__(self, table: _Table, conf: Confusion | None, methods: list[str], shown: str, replicates: int, seed: int, level: float):
        self.table, self.conf, self.methods, self.shown = table, conf, methods, shown
        self.replicates, self.seed, self.level = replicates, seed, level
        self.device_names = sorted(table.devices["device"].unique())
        # The confusion matrix is an estimate too: each replicate corrects with the matrix of its own
        # resample of the labelled sentences (the same draws for every group, as one matrix serves them all).
        self.rate_reps = conf.resampled_rates(replicates, np.random.default_rng([seed, _CONFUSION_STREAM])) if conf is not None else None

    def run(self) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], dict[str, tuple]]:
        from scipy import sparse

        t = self.table
        names = t.groups["group"].tolist()
        s_code = pd.Categorical(t.sentences["group"], categories=names).codes
        # article number within its group: 0 .. n_articles - 1
        s_local = t.sentences.groupby(s_code)["article"].rank(method="dense").to_numpy(dtype=int) - 1
        mentions = _split_by(t.mentions, s_code)
        devices = _split_by(t.devices, s_code)
        device_code = {d: i for i, d in enumerate(self.device_names)}
        n_dev = len(self.device_names)
        stance_parts: dict[str, list] = {name: [] for name in STANCE_COLUMNS[:7]}
        device_parts, net, device_reps = [], {}, {}
        for code, group in enumerate(names):
            n = int(t.groups.at[code, "n_articles"])
            ms, ds = mentions[code], devices[code]
            actors, actor_idx = np.unique(ms["actor"].to_numpy().astype(str), return_inverse=True)
            k = len(actors)
            m_art = s_local[ms["row"].to_numpy()]
            cell_articles = np.bincount(np.unique(m_art * k + actor_idx) % k, minlength=k) if k else np.zeros(0, int)
            counts = sparse.csr_matrix((np.ones(len(ms)), (m_art, actor_idx * 3 + ms["label"].to_numpy())), shape=(n, 3 * k))
            probs = np.nan_to_num(ms[["p_negative", "p_neutral", "p_positive"]].to_numpy(dtype=float))
            prob_cols = (actor_idx[:, None] * 3 + np.arange(3)).ravel()
            prob_mat = sparse.csr_matrix((probs.ravel(), (np.repeat(m_art, 3), prob_cols)), shape=(n, 3 * k))
            dev = np.zeros((n, n_dev + 1))
            np.add.at(dev, (s_local[ds["row"].to_numpy()], ds["device"].map(device_code).to_numpy(dtype=int)), 1.0)
            dev[:, n_dev] = np.bincount(s_local[s_code == code], minlength=n)
            data = sparse.hstack([counts, prob_mat, sparse.csr_matrix(dev)], format="csr")

            rng = np.random.default_rng([self.seed, zlib.crc32(str(group).encode("utf-8"))])
            reps = bootstrap_sums(data, self.replicates, rng)
            point = np.asarray(data.sum(axis=0)).ravel()[None, :]
            for name in self.methods:
                est, boot = self._measures(point, k, name), self._measures(reps, k, name)
                lo, hi = interval(boot, self.level, n=cell_articles[:, None])
                for column, values in _stance_rows(group, actors, name, est[0], lo, hi).items():
                    stance_parts[column].append(values)
                if name == self.shown:
                    net[group] = (actors, est[0, :, 3], boot[:, :, 3].astype(np.float32), cell_articles)
            if n_dev:
                def rate(x: np.ndarray, k: int = k) -> np.ndarray:
                    return 1000.0 * x[:, 6 * k : 6 * k + n_dev] / x[:, [6 * k + n_dev]]

                lo, hi = interval(rate(reps), self.level, n=n)
                device_parts.append(_device_rows(group, self.device_names, rate(point)[0], lo, hi, point[0, 6 * k :], n))
                device_reps[group] = (rate(point)[0], rate(reps).astype(np.float32), point[0, 6 * k : 6 * k + n_dev], n)
        stance = pd.DataFrame({column: np.concatenate(parts) if parts else [] for column, parts in stance_parts.items()})
        for column in ("group", "actor", "measure", "method"):
            stance[column] = stance[column].astype(object)
        devices = pd.concat(device_parts, ignore_index=True) if device_parts else pd.DataFrame(columns=DEVICE_COLUMNS)
        return stance, devices, net, device_reps

    def _measures(self, sums: np.ndarray, k: int, method: str) -> np.ndarray:
        """(replicates, actors, 4): the three shares and net stance."""
        b = sums.shape[0]
        counts = sums[:, : 3 * k].reshape(b, k, 3)
        total = counts.sum(axis=2, keepdims=True)
        numerator = sums[:, 3 * k : 6 * k].reshape(b, k, 3) if method == "pa" else counts
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = numerator / total
        if method == "acc":
            if self.rate_reps is not None and b == self.replicates:
                shares = adjust_shares_each(shares, self.rate_reps)
            else:
                shares = adjust_shares(shares, self.conf.rates)
        return np.concatenate([shares, shares[:, :, 2:3] - shares[:, :, 0:1]], axis=2)


def _split_by(part: pd.DataFrame, sentence_group: np.ndarray) -> list[pd.DataFrame]:
    """``part`` (mentions or devices, with a sentence ``row``) split by group code, in code order."""
    codes = sentence_group[part["row"].to_numpy()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(sentence_group.max(initial=-1) + 2))
    ordered = part.iloc[order]
    return [ordered.iloc[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _stance_rows(group: str, actors: np.ndarray, method: str, est: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of the stance rows of one group and method: actors x measures, flattened."""
    size = len(actors) * len(MEASURES)
    return {
        "group": np.full(size, group, dtype=object),
        "actor": np.repeat(np.asarray(actors, dtype=object), len(MEASURES)),
        "measure": np.tile(np.array(MEASURES, dtype=object), len(actors)),
        "method": np.full(size, method, dtype=object),
        "estimate": est.ravel(),
        "ci_low": lo.ravel(),
        "ci_high": hi.ravel(),
    }


def _device_rows(group: str, names: list[str], rate: np.ndarray, lo: np.ndarray, hi: np.ndarray, sums: np.ndarray, n: int) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "group": group,
            "device": names,
            "measure": "rate_per_1000_sentences",
            "estimate": rate,
            "ci_low": lo,
            "ci_high": hi,
            "n_spans": sums[: len(names)].astype(int),
            "n_sentences": int(sums[len(names)]),
            "n_articles": n,
        }
    )
    rows["rank"] = rows["estimate"].rank(ascending=False, method="first").astype(int)
    return rows


def _cell_counts(table: _Table) -> pd.DataFrame:
    m = table.mentions
    s = table.sentences
    frame = pd.DataFrame({"group": s["group"].to_numpy()[m["row"]], "actor": m["actor"].to_numpy(), "article": s["article"].to_numpy()[m["row"]]})
    counts = frame.groupby(["group", "actor"]).agg(n_mentions=("article", "size"), n_articles=("article", "nunique")).reset_index()
    return counts.astype({"group": object, "actor": object})


def _differences(
    net: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], counts: pd.DataFrame, min_mentions: int, method: str, level: float
) -> pd.DataFrame:
    """Net stance of group a minus group b for every actor both mention; independent resamples per group."""
    support = counts.set_index(["group", "actor"])["n_mentions"].to_dict()
    groups = sorted(net)
    columns: dict[str, list] = {name: [] for name in DIFFERENCE_COLUMNS if name != "q_value"}
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            actors_a, est_a, boot_a, n_art_a = net[a]
            actors_b, est_b, boot_b, n_art_b = net[b]
            common, ia, ib = np.intersect1d(actors_a, actors_b, return_indices=True)
            if not len(common):
                continue
            diff = est_a[ia] - est_b[ib]
            boot = boot_a[:, ia].astype(float) - boot_b[:, ib]
            units = np.minimum(n_art_a[ia], n_art_b[ib])  # conservative: the smaller side sets the correction
            lo, hi = interval(boot, level, n=units)
            n_a = np.array([support[(a, x)] for x in common])
            n_b = np.array([support[(b, x)] for x in common])
            values = {
                "group_a": [a] * len(common), "group_b": [b] * len(common), "actor": common.tolist(), "measure": ["net"] * len(common),
                "method": [method] * len(common), "difference": diff, "ci_low": lo, "ci_high": hi, "p_value": wald_p_values(diff, boot, n=units),
                "n_mentions_a": n_a, "n_mentions_b": n_b, "low_support": (np.minimum(n_a, n_b) < min_mentions) | (units < 2),
            }
            for name, value in values.items():
                columns[name].append(value)
    if not columns["actor"]:
        return pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    for name in ("group_a", "group_b", "actor"):
        out[name] = out[name].astype(object)
    tested = ~out["low_support"]
    out["q_value"] = np.nan
    out.loc[tested, "q_value"] = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy())
    return out[DIFFERENCE_COLUMNS].sort_values(["actor", "group_a", "group_b"], ignore_index=True)


def _device_differences(reps: dict[str, tuple], device_names: list[str], level: float) -> pd.DataFrame:
    """Device rate of group a minus group b for every device and pair of groups, with the same bootstrap
    intervals and p-values as net stance; q-values by Benjamini-Hochberg over all these rows. The
    device columns are the same for every group (``_Engine.device_names``)."""
    groups = sorted(reps)
    parts = []
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            (est_a, boot_a, spans_a, n_a), (est_b, boot_b, spans_b, n_b) = reps[a], reps[b]
            diff = est_a - est_b
            boot = boot_a.astype(float) - boot_b
            units = min(n_a, n_b)
            lo, hi = interval(boot, level, n=units)
            parts.append(pd.DataFrame({
                "group_a": a, "group_b": b, "device": device_names, "measure": "rate_per_1000_sentences", "difference": diff, "ci_low": lo,
                "ci_high": hi, "p_value": wald_p_values(diff, boot, n=units), "n_spans_a": spans_a.astype(int), "n_spans_b": spans_b.astype(int),
            }))
    if not parts:
        return pd.DataFrame(columns=DEVICE_DIFFERENCE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    return out[DEVICE_DIFFERENCE_COLUMNS]


def _examples(table: _Table, per_cell: int, seed: int) -> pd.DataFrame:
    """Up to ``per_cell`` sentences per group x actor, from different articles, drawn at random (seeded)."""
    m, s = table.mentions, table.sentences
    if m.empty:
        return pd.DataFrame(columns=["group", "actor", "doc_id", "sentence_id", "text", "spans"])
    pick = pd.DataFrame({"row": m["row"], "actor": m["actor"], "group": s["group"].to_numpy()[m["row"]], "article": s["article"].to_numpy()[m["row"]]})
    pick["key"] = np.random.default_rng([seed, _EXAMPLES_STREAM]).random(len(pick))
    pick = pick.sort_values("key").drop_duplicates(["group", "actor", "article"]).groupby(["group", "actor"], sort=False).head(per_cell)
    rows = set(pick["row"])
    spans: dict[int, list[dict[str, Any]]] = {}
    near = m[m["row"].isin(rows)]
    for row, actor, label, start, end in zip(near["row"], near["actor"], near["label"], near["start"], near["end"], strict=True):
        spans.setdefault(row, []).append({"kind": "mention", "actor": actor, "start": int(start), "end": int(end), "label": LABELS[label]})
    near = table.devices[table.devices["row"].isin(rows)]
    for row, device, start, end in zip(near["row"], near["device"], near["start"], near["end"], strict=True):
        spans.setdefault(row, []).append({"kind": "device", "start": int(start), "end": int(end), "label": device})
    doc_ids, sentence_ids, texts = s["doc_id"].to_numpy(), s["sentence_id"].to_numpy(), s["text"].to_numpy()
    records = []
    for row, actor, group in zip(pick["row"], pick["actor"], pick["group"], strict=True):
        cell_spans = [x for x in spans[row] if x["kind"] == "device" or x["actor"] == actor]
        records.append({"group": group, "actor": actor, "doc_id": doc_ids[row], "sentence_id": int(sentence_ids[row]),
                        "text": texts[row], "spans": [{k: v for k, v in x.items() if k != "actor"} for x in cell_spans]})
    return pd.DataFrame.from_records(records).sort_values(["group", "actor", "doc_id", "sentence_id"], ignore_index=True)
