"""PolNeAR (Newell et al., LREC 2018): attribution relations in 2016 US election news, brat standoff.

Layout (``data_dir/polnear``)::

    metadata.tsv                      # filename, publisher, ... (one row per article)
    train/text/<article>.txt          # the article, title first
    train/attributions/<article>_<annotator>.ann
    dev/...                           # same layout

Brat lines: ``T<n>\\t<Type> <start> <end>[;<start> <end>...]\\t<text>`` for the span types Source,
Cue, Content, Attribution, Attribution-no-source, Discuss and Discard, and
``E<n>\\t<Attribution|Attribution-no-source>:T<n> Cue:T<n> Source:T<n> Content:T<n>`` linking them
(the event's trigger span is the cue span; some events lack a Cue or a Source argument).

Conversion (one record per sentence, ``doc_id`` = the article file name without ``.txt``,
``source`` = ``polnear``, meta ``outlet`` = the publisher from metadata.tsv and ``annotator``):

- Raw label ``cue``: every Cue span, plus the trigger span of an event that has no Cue argument.
- Raw label ``cue_no_source``: the cue (as above) of every event with **no Source argument**. This
  agrees with the event type ``Attribution-no-source`` except for a handful of annotator slips
  (an ``Attribution-no-source`` event that does name a Source counts as sourced).
- ``device_labels`` = ``("cue", "cue_no_source")`` for every sentence: both are exhaustive.
- Annotator: an article with several annotation files (one per annotator) uses only the
  **first by sorted file name**; the others are ignored.
- Discontinuous spans (``12 15;17 20``): only the **first fragment** is used.
- A span running over a sentence boundary joins the two sentences into one record (13 cues in
  train+dev, mostly "[HuffPost.]"-style source tags after a closing quote).
- Sentences lying wholly inside a Discard span (boilerplate the annotators skipped) are dropped.
- Sentences: split on newlines, then by spaCy's rule-based sentencizer (see ``split_sentences``).
- Continuation lines (the text field of a multi-line span runs over several lines) are skipped;
  any other unexpected line raises ValueError naming the file and line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from stance.labels.format import DeviceLabel, LabelRecord

SOURCE = "polnear"
SPLITS = ("train", "dev")
DEVICE_LABELS = ("cue", "cue_no_source")
SPAN_TYPES = frozenset({"Source", "Cue", "Content", "Attribution", "Attribution-no-source", "Discuss", "Discard"})
EVENT_TYPES = frozenset({"Attribution", "Attribution-no-source"})
EVENT_ROLES = frozenset({"Source", "Cue", "Content"})

_ID_LINE = re.compile(r"^(?:[TEARMN]\d+|#\d*|\*)\t")
_ANN_NAME = re.compile(r"^(?P<article>.+)_(?P<annotator>[^_]+)\.ann$")


@dataclass(frozen=True)
class _Span:
    type: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _sentencizer() -> Any:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character ``(start, end)`` of each sentence: lines first, then spaCy's sentencizer; stripped, none empty.

    Example:
        >>> t = "A title\\n\\nHe said it. She did not."
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['A title', 'He said it.', 'She did not.']
    """
    nlp = _sentencizer()
    out: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        if not line.group().strip():
            continue
        for sent in nlp(line.group()).sents:
            start, end = _strip(text, line.start() + sent.start_char, line.start() + sent.end_char)
            if start < end:
                out.append((start, end))
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _merge_across(sentences: list[tuple[int, int]], spans: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Join neighbouring sentences whenever a span runs over the boundary between them."""
    merged = list(sentences)
    for start, end, _ in spans:
        first = next((i for i, (a, b) in enumerate(merged) if a <= start < b), None)
        if first is None:
            continue
        last = first
        while last + 1 < len(merged) and merged[last][1] < end:
            last += 1
        if last > first:
            merged[first : last + 1] = [(merged[first][0], merged[last][1])]
    return merged


def parse_ann(path: Path, text_length: int) -> tuple[dict[str, _Span], list[tuple[str, str, list[tuple[str, str]]]]]:
    """Parse a brat .ann file into its spans (first fragment of each) and events ``(id, type, [(role, T-id)])``.

    Raises ValueError naming the file and line for anything malformed.

    Example:
        >>> spans, events = parse_ann(Path("article_4e07.ann"), text_length=5000)  # doctest: +SKIP
        >>> events[0]  # doctest: +SKIP
        ('E1', 'Attribution', [('Attribution', 'T4'), ('Cue', 'T2'), ('Source', 'T1'), ('Content', 'T3')])
    """
    spans: dict[str, _Span] = {}
    events: list[tuple[str, str, list[tuple[str, str]], int]] = []
    last_kind = ""
    with open(path, encoding="utf-8", newline="") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            if not _ID_LINE.match(line):
                if last_kind == "T":  # the text field of the previous span runs over several lines
                    continue
                raise ValueError(f"{where}: unexpected line {line[:60]!r}")
            ident, _, rest = line.partition("\t")
            last_kind = ident[0]
            if ident[0] == "T":
                spans[ident] = _parse_span(rest, text_length, where)
            elif ident[0] == "E":
                events.append((ident, *_parse_event(rest, where), lineno))
            # A, R, M, N, # (notes) and * lines carry nothing we use
    checked: list[tuple[str, str, list[tuple[str, str]]]] = []
    for ident, etype, args, lineno in events:
        for _, ref in args:
            if ref not in spans:
                raise ValueError(f"{path}:{lineno}: event {ident} refers to unknown span {ref}")
        checked.append((ident, etype, args))
    return spans, checked


def _parse_span(rest: str, text_length: int, where: str) -> _Span:
    head = rest.split("\t", 1)[0]
    typ, _, offsets = head.partition(" ")
    if typ not in SPAN_TYPES:
        raise ValueError(f"{where}: unknown span type {typ!r}")
    first = offsets.split(";", 1)[0].split()
    if len(first) != 2 or not all(x.isdigit() for x in first):
        raise ValueError(f"{where}: bad offsets {offsets!r}")
    start, end = int(first[0]), int(first[1])
    if not 0 <= start < end <= text_length:
        raise ValueError(f"{where}: span {start}-{end} is out of range for a text of {text_length} characters")
    return _Span(typ, start, end)


def _parse_event(rest: str, where: str) -> tuple[str, list[tuple[str, str]]]:
    args: list[tuple[str, str]] = []
    for part in rest.split("\t", 1)[0].split():
        role, sep, ref = part.partition(":")
        if not sep or not ref.startswith("T"):
            raise ValueError(f"{where}: bad event argument {part!r}")
        args.append((role.rstrip("0123456789"), ref))  # brat numbers repeated roles: Content2
    if not args or args[0][0] not in EVENT_TYPES:
        raise ValueError(f"{where}: unknown event type {args[0][0] if args else ''!r}")
    for role, _ in args[1:]:
        if role not in EVENT_ROLES:
            raise ValueError(f"{where}: unknown event role {role!r}")
    return args[0][0], args


def _cue_spans(spans: dict[str, _Span], events: list[tuple[str, str, list[tuple[str, str]]]]) -> set[tuple[int, int, str]]:
    out = {(s.start, s.end, "cue") for s in spans.values() if s.type == "Cue"}
    for _, _, args in events:
        trigger = args[0][1]
        cues = [ref for role, ref in args[1:] if role == "Cue"] or [trigger]
        has_source = any(role == "Source" for role, _ in args[1:])
        for ref in cues:
            out.add((spans[ref].start, spans[ref].end, "cue"))
            if not has_source:
                out.add((spans[ref].start, spans[ref].end, "cue_no_source"))
    return out


def read_metadata(path: Path) -> dict[str, dict[str, str]]:
    """metadata.tsv as ``{filename: row}``; raises ValueError naming the file when columns are missing.

    Example:
        >>> read_metadata(Path("polnear/metadata.tsv"))["nyt_2016-04-18_some-title"]["publisher"]  # doctest: +SKIP
        'nyt'
    """
    if not path.is_file():
        raise ValueError(f"{path}: metadata file not found")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = {"filename", "publisher"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return {row["filename"]: row for row in reader if row.get("filename")}


def convert_article(text_path: Path, ann_path: Path, *, outlet: str = "", annotator: str = "") -> Iterator[LabelRecord]:
    """Records of one article (one per sentence) from its text and one annotator's .ann file.

    Example:
        >>> recs = list(convert_article(Path("a.txt"), Path("a_4e07.ann"), outlet="nyt"))  # doctest: +SKIP
        >>> r = recs[2]; [(r.text[d.start:d.end], d.label) for d in r.devices]  # doctest: +SKIP
        [('says', 'cue')]
    """
    with open(text_path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    spans, events = parse_ann(ann_path, len(text))
    labelled = sorted({(*_strip(text, start, end), label) for start, end, label in _cue_spans(spans, events)})
    discards = [(s.start, s.end) for s in spans.values() if s.type == "Discard"]
    doc_id = text_path.stem
    meta = {"outlet": outlet, **({"annotator": annotator} if annotator else {})}
    for s_start, s_end in _merge_across(split_sentences(text), labelled):
        if any(d0 <= s_start and s_end <= d1 for d0, d1 in discards):
            continue
        devices = {
            DeviceLabel(start - s_start, end - s_start, label)
            for start, end, label in labelled
            if s_start <= start < s_end and start < end
        }
        yield LabelRecord(
            text=text[s_start:s_end],
            devices=tuple(sorted(devices, key=lambda d: (d.start, d.end, d.label))),
            device_labels=DEVICE_LABELS,
            source=SOURCE,
            doc_id=doc_id,
            meta=dict(meta),
        )


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Records of the PolNeAR ``train`` or ``dev`` split (``data_dir`` holds ``polnear/``).

    Example:
        >>> recs = list(convert(Path("/work/shared/data"), "dev"))  # doctest: +SKIP
        >>> recs[0].source, recs[0].device_labels  # doctest: +SKIP
        ('polnear', ('cue', 'cue_no_source'))
    """
    if split not in SPLITS:
        raise ValueError(f"polnear has splits {', '.join(SPLITS)}, not {split!r}")
    root = Path(data_dir) / "polnear"
    metadata = read_metadata(root / "metadata.tsv")
    split_dir = root / split
    text_dir, ann_dir = split_dir / "text", split_dir / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise ValueError(f"{split_dir}: expected folders text/ and attributions/")
    anns: dict[str, list[tuple[str, Path]]] = {}
    for ann in sorted(ann_dir.glob("*.ann")):
        m = _ANN_NAME.match(ann.name)
        if not m:
            raise ValueError(f"{ann}: expected a file name <article>_<annotator>.ann")
        anns.setdefault(m.group("article"), []).append((m.group("annotator"), ann))
    texts = sorted(text_dir.glob("*.txt"))
    orphans = sorted(set(anns) - {t.stem for t in texts})
    if orphans:
        raise ValueError(f"{anns[orphans[0]][0][1]}: no article text {orphans[0]}.txt in {text_dir}")
    for text_path in texts:
        article = text_path.stem
        if article not in anns:
            raise ValueError(f"{text_path}: no annotation file {article}_<annotator>.ann in {ann_dir}")
        if article not in metadata:
            raise ValueError(f"{root / 'metadata.tsv'}: no row for article {article!r}")
        annotator, ann_path = anns[article][0]  # several annotators: the first by sorted file name
        yield from convert_article(text_path, ann_path, outlet=metadata[article]["publisher"], annotator=annotator)
