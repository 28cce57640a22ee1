"""BABE / MBIC (Spinde et al. 2021): news sentences with a bias label and the words that make them biased.

Layout: ``data_dir/babe/final_labels_SG2.csv``, ``;``-separated, UTF-8 with a BOM, columns
``text;news_link;outlet;topic;type;label_bias;label_opinion;biased_words``, where ``biased_words``
is a Python list literal such as ``['bizarre', 'characteristically']``.

Conversion: one record per CSV row (the dataset's sentence), ``doc_id`` = ``news_link`` (or
``sha1:<hash of the text>`` where the link is empty), ``source`` = ``babe``, meta ``outlet`` and
``label_bias``. Raw label ``biased_word`` on every whole-word, case-insensitive occurrence of
each listed word in the sentence, whatever the row's ``label_bias``; ``device_labels`` =
``("biased_word",)`` for every row (rows without words are negatives). List items are cleaned
first (see ``clean_biased_words``); words that do not occur (misspelt in the list) are skipped.
The file has no split: ``train`` (~90%) and ``dev`` (~10%) are made per article from a SHA-1 hash
of the ``doc_id`` (so every sentence of one article lands in the same split).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from training.convert.splits import split_of

SOURCE = "babe"
SPLITS = ("train", "dev")
FILE_NAME = "final_labels_SG2.csv"
LABEL = "biased_word"
DEVICE_LABELS = (LABEL,)
COLUMNS = ("text", "news_link", "outlet", "label_bias", "biased_words")
BIAS_LABELS = frozenset({"Biased", "Non-biased", "No agreement"})

_OPEN_QUOTES = '"“'
_CLOSE_QUOTES = '"”'
_APOSTROPHE = re.compile(r"\\?['’‘]")


def parse_biased_words(raw: str) -> list[str]:
    """The ``biased_words`` cell as a list of strings (``ast.literal_eval``, never ``eval``).

    Raises ValueError when the cell is not a list literal of strings.

    Example:
        >>> parse_biased_words("['bizarre', 'characteristically']")
        ['bizarre', 'characteristically']
    """
    raw = raw.strip()
    if not raw:
        return []
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(f"biased_words is not a list literal: {raw[:60]!r}") from None
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise ValueError(f"biased_words is not a list of strings: {raw[:60]!r}")
    return value


def clean_biased_words(words: list[str]) -> list[str]:
    """Clean the listed words: strip outer quotes and punctuation, rejoin quoted phrases split into items.

    ``'"a'``, ``'method"'`` becomes ``'a method'``; empty items are dropped.

    Example:
        >>> clean_biased_words(['"experts"', '"gender', 'identity"', 'radical', ''])
        ['experts', 'gender identity', 'radical']
    """
    out: list[str] = []
    pending: list[str] | None = None
    for word in (w.strip() for w in words):
        if pending is not None:
            pending.append(word)
            if word.endswith(tuple(_CLOSE_QUOTES)):
                out.append(" ".join(pending))
                pending = None
            continue
        if len(word) > 1 and word[0] in _OPEN_QUOTES and word[-1] not in _CLOSE_QUOTES:
            pending = [word]
            continue
        out.append(word)
    if pending is not None:
        out.extend(pending)
    cleaned = (re.sub(r"^\W+|\W+$", "", w) for w in out)
    return [w for w in cleaned if w]


def find_words(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Sorted, distinct ``(start, end)`` of every whole-word, case-insensitive occurrence of each word.

    Spaces in a word match any whitespace; straight and curly apostrophes match each other.

    Example:
        >>> text = "Radical plans, radically radical."
        >>> [text[s:e] for s, e in find_words(text, ["radical"])]
        ['Radical', 'radical']
    """
    found: set[tuple[int, int]] = set()
    for word in words:
        body = r"\s+".join(_APOSTROPHE.sub("['’‘]", re.escape(part)) for part in word.split())
        if not body:
            continue
        for m in re.finditer(rf"(?<!\w){body}(?!\w)", text, flags=re.IGNORECASE):
            found.add((m.start(), m.end()))
    return sorted(found)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of each CSV row (``;``-separated, BOM tolerated).

    Raises ValueError naming the file if it is missing or lacks a needed column.

    Example:
        >>> next(read_rows(Path("/work/shared/data/babe/final_labels_SG2.csv")))[0]  # doctest: +SKIP
        2
    """
    if not path.is_file():
        raise ValueError(f"{path}: file not found")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=";")
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing columns {missing} (is it ';'-separated?)")
        line = reader.line_num
        for row in reader:
            yield line + 1, row
            line = reader.line_num


def row_record(row: dict[str, str], where: str = "") -> LabelRecord:
    """The label record of one CSV row; ValueError (prefixed with ``where``) for a bad row.

    Example:
        >>> r = row_record({"text": "A shameful vote.", "news_link": "https://x.example/1", "outlet": "X",
        ...                 "label_bias": "Biased", "biased_words": "['shameful']"})
        >>> [(r.text[d.start:d.end], d.label) for d in r.devices]
        [('shameful', 'biased_word')]
    """
    prefix = f"{where}: " if where else ""
    if any(row.get(c) is None for c in COLUMNS):
        raise ValueError(f"{prefix}row has too few fields")
    if None in row:  # DictReader puts surplus fields under the key None
        raise ValueError(f"{prefix}row has too many fields")
    text = row["text"].strip()
    if not text:
        raise ValueError(f"{prefix}empty text")
    label_bias = row["label_bias"].strip()
    if label_bias not in BIAS_LABELS:
        raise ValueError(f"{prefix}unexpected label_bias {label_bias!r}")
    try:
        words = clean_biased_words(parse_biased_words(row["biased_words"]))
    except ValueError as exc:
        raise ValueError(f"{prefix}{exc}") from None
    link = row["news_link"].strip()
    doc_id = link or "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return LabelRecord(
        text=text,
        devices=tuple(DeviceLabel(s, e, LABEL) for s, e in find_words(text, words)),
        device_labels=DEVICE_LABELS,
        source=SOURCE,
        doc_id=doc_id,
        meta={"outlet": row["outlet"].strip(), "label_bias": label_bias},
    )


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Records of the ``train`` or ``dev`` part (by article hash) of ``data_dir/babe/final_labels_SG2.csv``.

    Example:
        >>> recs = list(convert(Path("/work/shared/data"), "train"))  # doctest: +SKIP
        >>> recs[0].device_labels  # doctest: +SKIP
        ('biased_word',)
    """
    if split not in SPLITS:
        raise ValueError(f"babe has splits {', '.join(SPLITS)}, not {split!r}")
    path = Path(data_dir) / "babe" / FILE_NAME
    for lineno, row in read_rows(path):
        record = row_record(row, f"{path}:{lineno}")
        if split_of(record.doc_id) == split:
            yield record
