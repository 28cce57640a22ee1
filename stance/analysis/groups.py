"""The articles of a comparison, in groups: scored rows made into a :class:`Table` of sentences, mentions
and devices with a group and an article number per sentence (:func:`prepare_table`); the group of an
article from a metadata column or a date period (:func:`group_labels`, :func:`parse_dates`); the names
mentions are counted under (actor-file merges, affiliation rollup, ``only``); and group and cell sizes.

Example:
    >>> from stance.analysis.groups import prepare_table
    >>> from stance.io.score_files import read_scores
    >>> notes: list[str] = []
    >>> table = prepare_table(read_scores("scores.parquet"), "date:month", notes)  # doctest: +SKIP
    >>> table.groups  # group, n_articles, n_sentences, n_mentions  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stance.io.score_files import (
    REPEATED_IN,
    REQUIRED_COLUMNS,
    as_bool,
    as_list,
    without_duplicate_sentences,
    without_repeated_sentences,
)
from stance.labels.format import STANCE_LABELS

if TYPE_CHECKING:
    from stance.pipeline.actor_registry import ActorRegistry

PERIODS = ("day", "week", "month", "quarter", "year")
ROLLUPS = ("none", "affiliation")
MENTION_COLUMNS = ["row", "actor", "label", "p_negative", "p_neutral", "p_positive", "start", "end"]
DEVICE_SPAN_COLUMNS = ["row", "device", "start", "end"]

_NO_PROBS = [float("nan")] * 3
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")
_SLASH_DATE = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")


@dataclass(frozen=True)
class Table:
    """Sentences, mentions and devices of the kept sentences, with group and article codes. ``row`` in
    ``mentions`` and ``devices`` is the sentence's row in ``sentences``; ``label`` indexes STANCE_LABELS.
    Each step of ``stance compare`` returns a new table (``dataclasses.replace``), never changes one."""

    sentences: pd.DataFrame  # doc_id, sentence_id, text, group, article
    mentions: pd.DataFrame  # row, actor, label, p_negative, p_neutral, p_positive, start, end
    devices: pd.DataFrame  # row, device, start, end
    groups: pd.DataFrame  # group, n_articles, n_sentences, n_mentions


def prepare_table(frame: pd.DataFrame, by: str, notes: list[str], repeated_in: int = REPEATED_IN) -> Table:
    """The :class:`Table` of ``stance score`` rows grouped ``by`` a column or ``COLUMN:PERIOD``: boilerplate
    and duplicate sentences left out, page furniture repeated across an outlet's articles counted once
    (:func:`~stance.io.score_files.without_repeated_sentences`, ``repeated_in``), articles without a usable group left out, mentions without a stance
    (truncated sentences) skipped. What the reader should know is appended to ``notes``. ValueError on rows
    that are not valid scores, or when no article has a usable group.

    Example:
        >>> rows = pd.DataFrame({"doc_id": ["a", "b"], "sentence_id": [0, 0], "text": ["Hi.", "Yo."],
        ...                      "mentions": [[], []], "devices": [[], []], "outlet": ["X", "Y"]})
        >>> prepare_table(rows, "outlet", []).groups["group"].tolist()
        ['X', 'Y']
    """
    frame = frame.copy()
    frame["doc_id"] = frame["doc_id"].astype(str)
    sid = pd.to_numeric(frame["sentence_id"], errors="coerce")
    if sid.isna().any():
        bad = frame.loc[sid.isna(), "sentence_id"].iloc[0]
        raise ValueError(f"'sentence_id' must be integers, found {bad!r}")
    frame["sentence_id"] = sid.astype(int)
    if "boilerplate" in frame.columns:
        frame = frame[~as_bool(frame["boilerplate"])]
        if frame.empty:
            raise ValueError("every sentence in the input is marked boilerplate: nothing to compare")
    frame["group"] = group_labels(frame, by)  # before duplicates go: one id in two groups is an error, not a duplicate
    frame = without_repeated_sentences(without_duplicate_sentences(frame, notes), notes, repeated_in)
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
    for row, (doc, sid_, mentions, devices) in enumerate(
        zip(frame["doc_id"], frame["sentence_id"], frame["mentions"], frame["devices"], strict=True)
    ):
        where = f"doc {doc!r} sentence {sid_}"
        for m in as_list(mentions, where, "mentions"):
            stance = m.get("stance") if isinstance(m, Mapping) else None
            if not isinstance(m, Mapping) or not isinstance(m.get("actor"), str) or not m["actor"]:
                raise ValueError(f"{where}: every mention needs an 'actor' name, got {m!r}")
            if stance is None or (isinstance(stance, float) and np.isnan(stance)):
                truncated += 1
                continue
            if stance not in STANCE_LABELS:
                raise ValueError(f"{where}: mention stance {stance!r} is not one of {', '.join(STANCE_LABELS)} or null")
            probs = m.get("probs")
            p = [_float(probs.get(k)) for k in STANCE_LABELS] if probs and isinstance(probs, Mapping) else _NO_PROBS
            mention_rows.append((row, m["actor"], STANCE_LABELS.index(stance), *p, _int(m.get("start")), _int(m.get("end"))))
        for d in as_list(devices, where, "devices"):
            if not isinstance(d, Mapping) or not isinstance(d.get("label"), str):
                raise ValueError(f"{where}: every device needs a 'label', got {d!r}")
            device_rows.append((row, d["label"], _int(d.get("start")), _int(d.get("end"))))
    if truncated:
        notes.append(f"{truncated} mentions without a stance (sentence cut at the model's maximum length) were skipped")
    mentions = pd.DataFrame(mention_rows, columns=MENTION_COLUMNS)
    mentions = mentions.astype(
        {
            "row": int,
            "actor": object,
            "label": int,
            "p_negative": float,
            "p_neutral": float,
            "p_positive": float,
            "start": int,
            "end": int,
        }
    )
    devices = pd.DataFrame(device_rows, columns=DEVICE_SPAN_COLUMNS).astype(
        {"row": int, "device": object, "start": int, "end": int}
    )
    sentences = frame[["doc_id", "sentence_id", "text", "group", "article"]]
    if mentions.empty:
        notes.append("no actor mentions with a stance in the input")
    return Table(sentences, mentions, devices, group_counts(sentences, mentions))


def group_counts(sentences: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """Per group (sorted): n_articles, n_sentences, n_mentions.

    Example:
        >>> sentences = pd.DataFrame({"group": ["X", "X", "Y"], "article": [0, 1, 2]})
        >>> group_counts(sentences, pd.DataFrame({"row": [0, 0]})).to_dict("records")[0]
        {'group': 'X', 'n_articles': 2, 'n_sentences': 2, 'n_mentions': 2}
    """
    groups = sentences.groupby("group").agg(n_articles=("article", "nunique"), n_sentences=("article", "size"))
    groups["n_mentions"] = mentions.groupby(sentences["group"].to_numpy()[mentions["row"].to_numpy()]).size()
    groups = groups.fillna({"n_mentions": 0}).astype(int).reset_index()
    return groups.astype({"group": object}).sort_values("group", ignore_index=True)


def cell_counts(table: Table) -> pd.DataFrame:
    """Per group x actor: n_mentions and n_articles (the support of a cell).

    Example:
        >>> cell_counts(table).query("actor == 'Russia'")  # doctest: +SKIP
    """
    m = table.mentions
    s = table.sentences
    frame = pd.DataFrame(
        {"group": s["group"].to_numpy()[m["row"]], "actor": m["actor"].to_numpy(), "article": s["article"].to_numpy()[m["row"]]}
    )
    counts = (
        frame.groupby(["group", "actor"]).agg(n_mentions=("article", "size"), n_articles=("article", "nunique")).reset_index()
    )
    return counts.astype({"group": object, "actor": object})


def group_labels(frame: pd.DataFrame, by: str) -> pd.Series:
    """The group of each row: the ``by`` column (``COLUMN`` or ``COLUMN:PERIOD``), made constant per article
    (its first non-missing value). Missing or unparseable values give NA. An article id with two different
    values (the same id in two inputs, say two outlets' files numbered 1, 2, ...) is a ValueError: its sentences
    would be merged into one article of one group.

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
        raise ValueError(
            f"--by {by}: no column {column!r} in the input (metadata columns: {', '.join(map(str, meta)) or 'none'})"
        )
    values = frame[column].astype(object).where(frame[column].notna(), None)
    values = values.map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else str(v))
    if period:
        values = _periods(values, period)
    by_article = pd.Series(values.to_numpy(), index=frame["doc_id"].to_numpy()).groupby(level=0)
    if len(spread := by_article.nunique()) and spread.max() > 1:
        doc = str(spread.idxmax())
        seen = sorted(v for v in by_article.get_group(doc).dropna().unique())
        raise ValueError(
            f"doc_id {doc!r} has {len(seen)} values of {column!r} ({', '.join(map(repr, seen[:3]))}): the same id in "
            f"{int((spread > 1).sum())} article(s) of different inputs? doc_ids must be unique across what is compared "
            "(give each collection ids of its own, or score them with --id-from line, which ids each article by file:line)"
        )
    per_article = by_article.first()
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


def affiliation_map(actors: Iterable[str], registry: ActorRegistry) -> dict[str, str]:
    """Each actor name -> the top of its affiliation chain in the registry (a leader -> their state, an
    agency -> its parent organisation); names outside the registry map to themselves.

    Example:
        >>> from stance.pipeline.actor_registry import ActorRegistry
        >>> affiliation_map(["Sergei Lavrov", "Russia", "Acme Corp"], ActorRegistry.load())
        {'Sergei Lavrov': 'Russia', 'Russia': 'Russia', 'Acme Corp': 'Acme Corp'}
    """
    out = {}
    for name in actors:
        current, seen = name, {name}
        while current in registry and (parent := registry[current].affiliation) and parent not in seen:
            current = parent
            seen.add(current)
        out[name] = current
    return out


def rename_actors(
    table: Table,
    notes: list[str],
    *,
    merges: Mapping[str, str] | None = None,
    rollup: str | None = None,
    registry: ActorRegistry | None = None,
) -> Table:
    """The table with each mention counted under its final name: first the actor file's ``merges`` (name -> the name
    to count it under), then with ``rollup="affiliation"`` the top of its affiliation chain in ``registry``
    (the shipped registry when None). ValueError for another ``rollup``.

    Example:
        >>> table = rename_actors(table, notes, merges={"Putin": "Vladimir Putin"}, rollup="affiliation")  # doctest: +SKIP
    """
    if rollup not in (None, *ROLLUPS):
        raise ValueError(f"--rollup must be 'none' or 'affiliation', got {rollup!r}")
    actors = table.mentions["actor"]
    if merges:
        merged = actors.isin(list(merges))
        actors = actors.map(lambda a: merges.get(a, a))
        notes.append(f"{int(merged.sum()):,} mentions counted under another name by the actor file's merges")
    if rollup == "affiliation":
        if registry is None:
            from stance.pipeline.actor_registry import ActorRegistry

            registry = ActorRegistry.load()
        actors = actors.map(affiliation_map(actors.unique(), registry))
    return replace(table, mentions=table.mentions.assign(actor=actors))


def keep_actors(table: Table, only: Iterable[str], notes: list[str]) -> Table:
    """The table with the mentions of the actors in ``only`` alone; a name not in the input gets a note (with
    the closest names), and ValueError when none is.

    Example:
        >>> table = keep_actors(table, ["Russia", "Ukraine"], notes)  # doctest: +SKIP
    """
    wanted = set(only)
    names = sorted(set(table.mentions["actor"]))
    unknown = sorted(wanted - set(names))
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f" (actors with a close name: {', '.join(close)})" if close else ""
        notes.append(f"--only {name!r}: no actor of that name in the input{hint}")
    if unknown and not wanted & set(names):
        raise ValueError(f"none of the --only actors is in the input: {', '.join(unknown)}")
    return replace(table, mentions=table.mentions[table.mentions["actor"].isin(wanted)].reset_index(drop=True))


def check_group_sizes(table: Table, by: str, drop: bool, notes: list[str]) -> Table:
    """Groups with a single article cannot be resampled: ValueError naming them, or with ``drop`` the table
    without them (with a note); ValueError when every group has a single article.

    Example:
        >>> table = check_group_sizes(table, "outlet", drop=True, notes=notes)  # doctest: +SKIP
    """
    small = table.groups[table.groups["n_articles"] < 2]
    if small.empty:
        return table
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
    sentences = table.sentences[keep].reset_index(drop=True)
    kept = {}
    for name in ("mentions", "devices"):
        part = getattr(table, name)
        part = part[part["row"].isin(renumber.index)].copy()
        part["row"] = renumber[part["row"]].to_numpy()
        kept[name] = part.reset_index(drop=True)
    notes.append(f"{len(small)} group(s) with a single article were left out: {listed}")
    return Table(sentences, kept["mentions"], kept["devices"], group_counts(sentences, kept["mentions"]))


def _day_month_ambiguous(values: pd.Series) -> list[str]:
    """Distinct dates like ``09/03/2026`` whose first two numbers could each be the day or the month."""
    out = []
    for value in values.dropna().astype(str).unique():
        m = _SLASH_DATE.match(value)
        if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 12 and m.group(1) != m.group(2):
            out.append(value)
    return out


def _periods(values: pd.Series, period: str) -> pd.Series:
    """Each date's period label: ``2024-03-05``, ``2024-W10``, ``2024-03``, ``2024-Q1`` or ``2024``."""
    dates = parse_dates(values)
    if period == "week":
        iso = dates.dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    elif period == "quarter":
        labels = dates.dt.year.astype("Int64").astype(str) + "-Q" + dates.dt.quarter.astype("Int64").astype(str)
    else:
        labels = dates.dt.strftime({"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period])
    return labels.astype(object).where(dates.notna(), None)


def _float(value: Any) -> float:
    """``value`` as a float, NaN when it is none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _int(value: Any) -> int:
    """``value`` as an int, -1 when it is none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
