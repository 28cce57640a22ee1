"""Szeged Uncertainty Corpus, Wikipedia part: uncertainty cues marked inside sentences.

Layout: ``data_dir/szeged/wiki.xml``::

    <Document type="Wikipedia_text_weasel"><DocID type="WIKIPEDIA_ARTICLE_ID">Some Article_12</DocID>
      <DocumentPart type="Title"><Sentence id="S1.1">Some Article</Sentence></DocumentPart>
      <DocumentPart type="Text"><Sentence id="S1.2">It <ccue type="speculation_modal_probable_">may</ccue>
        rain.</Sentence></DocumentPart></Document>

Conversion: one record per ``<Sentence>`` (titles included, meta ``part`` = Title/Text), ``doc_id`` =
the DocID, ``source`` = ``szeged``. Raw label = the cue ``type`` normalised (runs of spaces and
underscores become one underscore, none at either end: ``"speculation_hypo_doxastic _"`` ->
``speculation_hypo_doxastic``). ``device_labels`` = every cue type seen in the file, for every
sentence. The file has no split: ``train`` (~90%) and ``dev`` (~10%) are made per article from a
SHA-1 hash of the DocID (see ``split_of``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from training.convert.splits import split_of

SOURCE = "szeged"
SPLITS = ("train", "dev")
CUE_TAG = "ccue"


def normalise_type(raw: str) -> str:
    """The cue type without stray spaces and underscores.

    Example:
        >>> normalise_type("speculation_hypo_doxastic _")
        'speculation_hypo_doxastic'
    """
    return re.sub(r"[\s_]+", "_", raw).strip("_")


def _sentence(elem: ET.Element, where: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Rebuild a sentence's text from ``text``/``tail`` and the character spans of its cues."""
    parts = [elem.text or ""]
    length = len(parts[0])
    cues: list[tuple[int, int, str]] = []
    for child in elem:
        if child.tag != CUE_TAG:
            raise ValueError(f"{where}: unexpected element <{child.tag}> in a sentence")
        raw_type = child.get("type")
        label = normalise_type(raw_type or "")
        if not label:
            raise ValueError(f"{where}: <{CUE_TAG}> without a type")
        inner = "".join(child.itertext())
        cues.append((length, length + len(inner), label))
        parts.append(inner)
        length += len(inner)
        parts.append(child.tail or "")
        length += len(child.tail or "")
    return "".join(parts), cues


def _parse(path: Path) -> ET.Element:
    if not path.is_file():
        raise ValueError(f"{path}: file not found")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not well-formed XML: {exc}") from None


def read_documents(path: Path) -> Iterator[tuple[str, str, str, str, list[tuple[int, int, str]]]]:
    """``(doc_id, part, sentence_id, text, [(start, end, label)])`` per sentence, in file order.

    Text is stripped and cue spans are trimmed of whitespace (empty cues are dropped).
    Raises ValueError naming the file (and the document/sentence) for malformed input.

    Example:
        >>> next(read_documents(Path("/work/shared/data/szeged/wiki.xml")))[:3]  # doctest: +SKIP
        ('Tim Witherspoon_2358', 'Title', 'S1.1')
    """
    root = _parse(path)
    for n, doc in enumerate(root.iter("Document"), start=1):
        doc_id_elem = doc.find("DocID")
        doc_id = (doc_id_elem.text or "").strip() if doc_id_elem is not None else ""
        if not doc_id:
            raise ValueError(f"{path}: document #{n} has no DocID")
        for part in doc.iter("DocumentPart"):
            for sent in part.iter("Sentence"):
                sid = sent.get("id", "")
                text, cues = _sentence(sent, f"{path}: document {doc_id!r} sentence {sid!r}")
                lead = len(text) - len(text.lstrip())
                stripped = text.strip()
                if not stripped:
                    continue
                spans = []
                for start, end, label in cues:
                    while start < end and text[start].isspace():
                        start += 1
                    while end > start and text[end - 1].isspace():
                        end -= 1
                    if start < end:
                        spans.append((start - lead, end - lead, label))
                yield doc_id, part.get("type", ""), sid, stripped, spans


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Records of the ``train`` or ``dev`` part (by article hash) of ``data_dir/szeged/wiki.xml``.

    Example:
        >>> recs = list(convert(Path("/work/shared/data"), "dev"))  # doctest: +SKIP
        >>> recs[0].device_labels[:2]  # doctest: +SKIP
        ('speculation_hypo_condition', 'speculation_hypo_doxastic')
    """
    if split not in SPLITS:
        raise ValueError(f"szeged has splits {', '.join(SPLITS)}, not {split!r}")
    path = Path(data_dir) / "szeged" / "wiki.xml"
    sentences = list(read_documents(path))
    device_labels = tuple(sorted({label for *_, spans in sentences for _, _, label in spans}))
    for doc_id, part, sid, text, spans in sentences:
        if split_of(doc_id) != split:
            continue
        yield LabelRecord(
            text=text,
            devices=tuple(DeviceLabel(s, e, label) for s, e, label in spans),
            device_labels=device_labels,
            source=SOURCE,
            doc_id=doc_id,
            meta={"part": part, "sentence_id": sid},
        )
