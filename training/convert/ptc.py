"""Propaganda Techniques Corpus v2, training part (SemEval-2020 Task 11) -> label format.

Articles ``ptc/train-articles/article<ID>.txt`` (one sentence per line, title first), spans in
``train-task-flc-tc.labels`` (technique) and ``train-task-si.labels`` (label-agnostic, raw label
``SI``), offsets into the article file. Each non-empty line becomes a record; a span that
crosses lines is cut at the line ends. Raw labels are the PTC technique names.

Only the training part of PTC is available here, so it is split by article with a stable hash:
``train`` (75%), ``dev`` (10%, for early stopping and thresholds) and ``test`` (15%, never
trained or tuned on: the held-out measure of span identification).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from training.convert.splits import sha256_percent

TECHNIQUES = (
    "Appeal_to_Authority",
    "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy",
    "Causal_Oversimplification",
    "Doubt",
    "Exaggeration,Minimisation",
    "Flag-Waving",
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Slogans",
    "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)
RAW_LABELS = TECHNIQUES + ("SI",)
SPLITS = ("train", "dev", "test", "all")


def article_split(article_id: str) -> str:
    """The stable split of an article: ``train``, ``dev`` or ``test``.

    Example:
        >>> article_split("111111111") in ("train", "dev", "test")
        True
    """
    bucket = sha256_percent(article_id)
    return "train" if bucket < 75 else "dev" if bucket < 85 else "test"


def read_spans(path: Path, label: str | None = None) -> dict[str, list[tuple[int, int, str]]]:
    """Spans per article from a PTC labels file (``id label start end`` or ``id start end``)."""
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            try:
                if label is None:
                    art, lab, s, e = parts
                else:
                    art, s, e = parts
                    lab = label
                spans[art].append((int(s), int(e), lab))
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected tab-separated id, [label,] start, end") from None
    return spans


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Sentence records of the articles in one split (``all`` for every article)."""
    if split not in SPLITS:
        raise ValueError(f"PTC splits are {SPLITS}, not {split!r}")
    root = Path(data_dir) / "ptc"
    spans = read_spans(root / "train-task-flc-tc.labels")
    for art, items in read_spans(root / "train-task-si.labels", label="SI").items():
        spans[art].extend(items)
    for path in sorted((root / "train-articles").glob("article*.txt")):
        art = path.stem.removeprefix("article")
        if split != "all" and article_split(art) != split:
            continue
        yield from article_records(path.read_text(encoding="utf-8"), spans.get(art, []), art)


def article_records(text: str, spans: list[tuple[int, int, str]], article_id: str) -> Iterator[LabelRecord]:
    """One record per non-empty line of an article, spans cut to the line."""
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        s0, e0 = start + lead, start + lead + len(stripped)
        devices = sorted(
            {
                DeviceLabel(max(s, s0) - s0, min(e, e0) - s0, lab)
                for s, e, lab in spans
                if s < e0 and e > s0 and min(e, e0) > max(s, s0)
            },
            key=lambda d: (d.start, d.end, d.label),
        )
        yield LabelRecord(
            text=stripped, devices=tuple(devices), device_labels=RAW_LABELS, source="ptc", doc_id=f"ptc-{article_id}"
        )
