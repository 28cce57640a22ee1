"""Turn sentences and target spans into model inputs, and token predictions back into spans.

One encoder pass serves every target of a sentence: each distinct target span is wrapped in
marker tokens ``[TGT] ... [/TGT]`` inside the same sequence, and the stance head reads the
hidden states of that target's two markers. Markers are inserted as token ids after
tokenisation, so the character offsets of the real tokens stay those of the original text.

Device labels are aligned by character offsets: a token is inside a span when its
characters overlap it; the first such token is tagged B, the rest I (BIO per label, so
spans of different labels may overlap). Special and marker tokens get -100.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from stance.subwords import SubwordTokenizer

TARGET_START = "[TGT]"
TARGET_END = "[/TGT]"
MARKERS = (TARGET_START, TARGET_END)
OUTSIDE, BEGIN, INSIDE = 0, 1, 2
IGNORE = -100
NO_OFFSET = (-1, -1)


@dataclass
class Encoded:
    """One sentence, ready for the model.

    ``offsets[i]`` is the character span of token i in the sentence (``(-1, -1)`` for special
    and marker tokens); ``target_markers[k]`` the positions of the ``[TGT]`` and ``[/TGT]``
    tokens of the k-th distinct target span ``target_spans[k]``; ``target_slots[j]`` the
    distinct span that the j-th given target uses (``None`` if truncation cut it off).
    """

    input_ids: list[int]
    offsets: list[tuple[int, int]]
    target_spans: list[tuple[int, int]]
    target_markers: list[tuple[int, int]]
    target_slots: list[int | None]
    truncated: bool = False


def encode_batch(
    tokenizer,
    texts: Sequence[str],
    targets: Sequence[Sequence[tuple[int, int]]] | None = None,
    *,
    max_length: int = 256,
) -> list[Encoded]:
    """Tokenise sentences once (fast tokenizer, offsets) and insert target markers. ``tokenizer``:
    a :class:`~stance.subwords.SubwordTokenizer` or a transformers fast tokenizer.

    Example:
        >>> enc = encode_batch(tok, ["Putin met Xi."], [[(0, 5), (10, 12)]])  # doctest: +SKIP
        >>> enc[0].target_markers  # doctest: +SKIP
        [(1, 3), (5, 7)]
    """
    if targets is None:
        targets = [()] * len(texts)
    if len(targets) != len(texts):
        raise ValueError(f"got {len(texts)} texts but {len(targets)} target lists")
    tokenizer = SubwordTokenizer.of(tokenizer)
    start_id, end_id = (tokenizer.token_id(m) for m in MARKERS)
    if start_id == tokenizer.unk_token_id:
        raise ValueError("the tokenizer lacks the target marker tokens; load it with StanceModel")
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [
        _insert_markers(ids, offs, spans, cls_id, sep_id, start_id, end_id, max_length)
        for (ids, offs), spans in zip(tokenizer.encode(list(texts)), targets)
    ]


def _insert_markers(ids, offs, spans, cls_id, sep_id, start_id, end_id, max_length) -> Encoded:
    distinct: list[tuple[int, int]] = []
    slots: list[int | None] = []
    for span in spans:
        span = (int(span[0]), int(span[1]))
        if span not in distinct:
            distinct.append(span)
        slots.append(distinct.index(span))
    # Where each marker goes: before the first token overlapping the span, after the last one.
    opens: dict[int, list[int]] = {}
    closes: dict[int, list[int]] = {}
    for k, (s, e) in enumerate(distinct):
        inside = [i for i, (a, b) in enumerate(offs) if a < e and b > s]
        first, last = (inside[0], inside[-1]) if inside else (_position_of(offs, s), _position_of(offs, s) - 1)
        opens.setdefault(first, []).append(k)
        closes.setdefault(last, []).append(k)
    input_ids = [cls_id]
    offsets = [NO_OFFSET]
    markers = [[-1, -1] for _ in distinct]
    for i in range(len(ids) + 1):
        for k in closes.get(i - 1, ()):
            markers[k][1] = len(input_ids)
            input_ids.append(end_id)
            offsets.append(NO_OFFSET)
        for k in opens.get(i, ()):
            markers[k][0] = len(input_ids)
            input_ids.append(start_id)
            offsets.append(NO_OFFSET)
        if i < len(ids):
            input_ids.append(ids[i])
            offsets.append((int(offs[i][0]), int(offs[i][1])))
    truncated = len(input_ids) + 1 > max_length
    if truncated:
        input_ids, offsets = input_ids[: max_length - 1], offsets[: max_length - 1]
    input_ids.append(sep_id)
    offsets.append(NO_OFFSET)
    kept = [m[0] < len(input_ids) - 1 and m[1] < len(input_ids) - 1 for m in markers]
    remap, target_spans, target_markers = {}, [], []
    for k, ok in enumerate(kept):
        if ok:
            remap[k] = len(target_spans)
            target_spans.append(distinct[k])
            target_markers.append((markers[k][0], markers[k][1]))
    return Encoded(
        input_ids=input_ids,
        offsets=offsets,
        target_spans=target_spans,
        target_markers=target_markers,
        target_slots=[remap.get(k) for k in slots],
        truncated=truncated,
    )


def _position_of(offs, char: int) -> int:
    """Index of the first token starting at or after ``char`` (for spans that cover no token)."""
    for i, (a, _) in enumerate(offs):
        if a >= char:
            return i
    return len(offs)


def device_tags(
    enc: Encoded,
    spans: Iterable[tuple[int, int, str]],
    label_index: dict[str, int],
    annotated: Iterable[str],
) -> np.ndarray:
    """BIO tags, shape (tokens, labels): -100 for special tokens and for labels not annotated.

    Example:
        >>> device_tags(enc, [(0, 7, "loaded_language")], {"loaded_language": 0}, ["loaded_language"])  # doctest: +SKIP
    """
    tags = np.full((len(enc.input_ids), len(label_index)), IGNORE, dtype=np.int64)
    real = np.array([o != NO_OFFSET for o in enc.offsets])
    for label in annotated:
        if label in label_index:
            tags[real, label_index[label]] = OUTSIDE
    for s, e, label in spans:
        if label not in label_index:
            continue
        j = label_index[label]
        first = True
        for i, (a, b) in enumerate(enc.offsets):
            if (a, b) != NO_OFFSET and a < e and b > s:
                tags[i, j] = BEGIN if first else INSIDE
                first = False
    return tags


def decode_spans(
    probs: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    labels: Sequence[str],
    thresholds: dict[str, float] | None = None,
    text: str | None = None,
) -> list[tuple[int, int, str, float]]:
    """Spans from per-token BIO probabilities of shape (tokens, labels, 3).

    A token is inside a span of a label when P(B) + P(I) reaches the label's threshold (default
    0.5); a single outside token between two inside ones is taken as inside, and each run of
    inside tokens is one span (this keeps a scare quote's marks and word, or a word split into
    sub-words, together). With ``text``, a span that starts or ends inside a word (hyphenated
    words included) is widened to the whole word. The score is the mean inside-probability of
    the span's tokens. Returns ``(start, end, label, score)`` with character offsets.
    """
    thresholds = thresholds or {}
    real = [i for i, o in enumerate(offsets) if tuple(o) != NO_OFFSET]
    p_all = probs[real, :, BEGIN] + probs[real, :, INSIDE]  # (tokens, labels)
    limits = np.array([thresholds.get(label, 0.5) for label in labels])
    out = []
    for j in np.flatnonzero((p_all >= limits).any(axis=0)):  # most labels have no span: skip them at once
        label, p_in = labels[j], p_all[:, j]
        inside = p_in >= limits[j]
        inside[1:-1] |= inside[:-2] & inside[2:]
        pos = 0
        while pos < len(real):
            if not inside[pos]:
                pos += 1
                continue
            end = pos
            while end + 1 < len(real) and inside[end + 1]:
                end += 1
            out.append(_span(list(range(pos, end + 1)), offsets, p_in, real, label))
            pos = end + 1
    if text is not None:
        out = [(*_whole_words(text, s, e), label, score) for s, e, label, score in out]
    return sorted(out, key=lambda x: (x[0], x[1], x[2]))


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    def joined(i: int) -> bool:  # text[i] continues the word around it (letters, digits, inner - and ')
        return text[i].isalnum() or (text[i] in "-'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum())

    while start > 0 and joined(start - 1) and joined(start):
        start -= 1
    while end < len(text) and joined(end) and joined(end - 1):
        end += 1
    return start, end


def _span(current, offsets, p_in, real, label):
    start = offsets[real[current[0]]][0]
    end = offsets[real[current[-1]]][1]
    return (int(start), int(end), label, float(np.mean(p_in[current])))
