"""Reading ``stance score`` output back: one DataFrame from files, directories of shards or a DataFrame
(``.parquet``, ``.jsonl``/``.ndjson``, ``.csv``), checked for the columns every scored row has, and the
cell readers that make its ``mentions`` / ``devices`` lists and ``boilerplate`` flags alike whatever the
format (Parquet and JSONL give lists and booleans, CSV gives JSON text and strings).

Example:
    >>> from stance.io.score_files import as_list, read_scores
    >>> frame = read_scores(["scores/part-0.parquet", "scores/part-1.jsonl"])  # doctest: +SKIP
    >>> as_list('[{"actor": "Russia", "stance": "negative"}]')
    [{'actor': 'Russia', 'stance': 'negative'}]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("doc_id", "sentence_id", "text", "mentions", "devices")
FORMATS = (".parquet", ".jsonl", ".ndjson", ".csv")
TRUE_TEXTS = frozenset({"true", "1", "yes"})
FALSE_TEXTS = frozenset({"false", "0", "no", "", "none", "nan", "<na>"})

Source: TypeAlias = pd.DataFrame | str | Path | Sequence[str | Path]


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


def describe_source(source: Source) -> list[str]:
    """The inputs as written in a summary: the paths given, or ``<DataFrame>``.

    Example:
        >>> describe_source("scores.parquet")
        ['scores.parquet']
    """
    if isinstance(source, pd.DataFrame):
        return ["<DataFrame>"]
    return [str(p) for p in ([source] if isinstance(source, (str, Path)) else source)]


def as_list(value: Any, where: str = "a row", column: str = "mentions") -> list:
    """A ``mentions`` or ``devices`` cell as a list: Parquet and JSONL give lists, CSV gives JSON text;
    a missing or blank cell is an empty list. ValueError (naming ``where`` and ``column``) for text that
    is not JSON or a value that is not a list.

    Example:
        >>> as_list('[{"label": "scare_quotes"}]', "doc 'a' sentence 0", "devices")
        [{'label': 'scare_quotes'}]
        >>> as_list(None)
        []
    """
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


def without_duplicate_sentences(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """``frame`` with each sentence (``doc_id``, ``sentence_id``) once, as re-scored or overlapping shards repeat
    them; a note appended to ``notes`` says how many rows were dropped. The one rule of ``stance compare`` and
    ``stance actors``.

    Example:
        >>> rows = pd.DataFrame({"doc_id": ["a", "a", "a"], "sentence_id": [0, "0", 1]})
        >>> notes = []
        >>> len(without_duplicate_sentences(rows, notes)), notes
        (2, ['1 duplicate sentences (same doc_id and sentence_id) were counted once'])
    """
    keys = pd.DataFrame(
        {
            "doc_id": frame["doc_id"].astype(str).to_numpy(),
            "sentence_id": pd.to_numeric(frame["sentence_id"], errors="coerce").to_numpy(),
        }
    )
    dupes = keys.duplicated().to_numpy()
    if not dupes.any():
        return frame
    notes.append(f"{int(dupes.sum())} duplicate sentences (same doc_id and sentence_id) were counted once")
    return frame[~dupes]


REPEATED_IN = 5  # a sentence found (case and spacing aside) in at least this many articles of one outlet ...
REPEATED_SHARE = 0.05  # ... and in at least this share of them is page furniture


def without_repeated_sentences(frame: pd.DataFrame, notes: list[str], repeated_in: int = REPEATED_IN) -> pd.DataFrame:
    """``frame`` with page furniture the sentence splitter did not catch (a newsletter box, "Story Continued Below",
    "Slideshow (5 Images)") counted once per outlet: a sentence whose text (case and spacing aside) recurs in at
    least ``repeated_in`` articles of one ``outlet``, and in at least 5% of that outlet's articles, is kept only in
    the first of them, so that it no longer counts as the outlet's own text once per article, while an article
    republished under several ids keeps one copy. Without an ``outlet`` column the whole input is one outlet;
    ``repeated_in`` 0 keeps everything. A note appended to ``notes`` says how many sentences went, with an example.
    The one rule of ``stance compare`` and ``stance actors``; ValueError for a negative ``repeated_in``.

    Example:
        >>> rows = pd.DataFrame({"doc_id": list("abcdef"), "sentence_id": 0, "outlet": "X",
        ...                      "text": ["View all newsletters."] * 5 + ["Kyiv said no."]})
        >>> notes = []
        >>> without_repeated_sentences(rows, notes)["doc_id"].tolist()
        ['a', 'f']
    """
    if isinstance(repeated_in, bool) or not isinstance(repeated_in, (int, np.integer)) or repeated_in < 0:
        raise ValueError(f"repeated_in must be a whole number of articles, 0 or more (0 keeps all), got {repeated_in!r}")
    if repeated_in == 0 or frame.empty or "text" not in frame.columns:
        return frame
    has_outlet = "outlet" in frame.columns
    outlet = frame["outlet"].astype(str).to_numpy() if has_outlet else np.full(len(frame), "")
    text = frame["text"].astype(str).str.lower().str.split().str.join(" ").to_numpy()
    keys = pd.DataFrame({"outlet": outlet, "text": text, "doc": frame["doc_id"].astype(str).to_numpy()})
    articles = keys.groupby(["outlet", "text"])["doc"].nunique()
    outlet_articles = keys.groupby("outlet")["doc"].nunique()
    needed = np.maximum(repeated_in, np.ceil(REPEATED_SHARE * outlet_articles.reindex(articles.index.get_level_values(0))))
    furniture = articles.index[articles.to_numpy() >= needed.to_numpy()]
    repeated = pd.MultiIndex.from_arrays([keys["outlet"], keys["text"]]).isin(furniture)
    first_doc = keys[repeated].groupby(["outlet", "text"])["doc"].transform("first")
    drop = np.zeros(len(frame), dtype=bool)
    drop[np.flatnonzero(repeated)] = (keys.loc[repeated, "doc"] != first_doc).to_numpy()
    if not drop.any():
        return frame
    example = frame["text"].to_numpy()[np.flatnonzero(drop)[0]]
    outlets = sorted(set(furniture.get_level_values(0)))
    more = f" and {len(outlets) - 3} more" if len(outlets) > 3 else ""
    where = f"one outlet's articles ({', '.join(outlets[:3])}{more})" if has_outlet else "the input's articles"
    notes.append(
        f"{int(drop.sum())} sentences were left out as page furniture: {len(furniture)} text(s), such as "
        f"{str(example)[:80]!r}, recur in at least {repeated_in} and {REPEATED_SHARE:.0%} of {where}, each kept once "
        "(--repeated-in 0 keeps them all)"
    )
    return frame[~drop]


def as_bool(series: pd.Series, column: str = "boilerplate") -> pd.Series:
    """A true/false column (``boilerplate``) as booleans, whatever the format wrote: booleans, numbers 1 and 0,
    or text such as ``True``/``false``/``1``/``0``/``yes``/``no``; missing values are false. ValueError for
    any other value.

    Example:
        >>> as_bool(pd.Series(["True", "false", None, "1"])).tolist()
        [True, False, False, True]
    """
    if series.dtype == bool:
        return series
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        unknown = pd.Series(~(np.isnan(values) | np.isin(values, (0.0, 1.0))), index=series.index)
        if unknown.any():
            raise ValueError(f"'{column}' must be true or false, found {series[unknown].iloc[0]!r}")
        return pd.Series(values == 1.0, index=series.index)
    text = series.astype(object).where(series.notna(), "").astype(str).str.strip().str.lower()  # missing: false
    unknown = ~text.isin(TRUE_TEXTS | FALSE_TEXTS)
    if unknown.any():
        raise ValueError(f"'{column}' must be true or false, found {series[unknown].iloc[0]!r}")
    return text.isin(TRUE_TEXTS)


def _expand(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files named by ``source``: files as given, directories as their score shards (sorted)."""
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
    """One score file as a DataFrame (CSV cells as text); ValueError when it cannot be read."""
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
    from stance.io.lines import json_objects

    rows = [row for _, row in json_objects(path)]
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=list(REQUIRED_COLUMNS))


def _check_columns(frame: pd.DataFrame, where: str) -> None:
    """ValueError naming the missing columns when ``frame`` is not ``stance score`` output."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; expected `stance score` output with "
            f"{', '.join(REQUIRED_COLUMNS)} and metadata columns (found: {', '.join(map(str, frame.columns)) or 'none'})"
        )
