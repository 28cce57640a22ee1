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

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stance.model.subwords import SubwordTokenizer

TARGET_START = "[TGT]"
TARGET_END = "[/TGT]"
MARKERS = (TARGET_START, TARGET_END)
OUTSIDE, BEGIN, INSIDE = 0, 1, 2
IGNORE = -100
NO_OFFSET = (-1, -1)
DEFAULT_DEVICE_THRESHOLD = 0.5
"""A device label's span threshold where the model's config names none (a newly added device)."""


@dataclass(frozen=True)
class Encoded:
    """One sentence, ready for the model (made by :func:`encode_batch`).

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
    a :class:`~stance.model.subwords.SubwordTokenizer` or a transformers fast tokenizer.

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
    slots: list[int] = []
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
    remap: dict[int, int] = {}
    target_spans: list[tuple[int, int]] = []
    target_markers: list[tuple[int, int]] = []
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


def target_windows(
    tokenizer, texts: Sequence[str], spans: Sequence[tuple[int, int]], *, max_length: int = 256
) -> list[tuple[int, int]]:
    """For targets that truncation cut off a long sentence: a window ``(start, end)`` of characters
    of each text, centred on its target span, that fits ``max_length`` tokens with the markers.
    Windows start and end at word boundaries; the text is cut, the offsets are the original's.

    Example:
        >>> target_windows(tok, [long_sentence], [(900, 905)], max_length=128)  # doctest: +SKIP
        [(611, 1187)]
    """
    tokenizer = SubwordTokenizer.of(tokenizer)
    budget = max(8, max_length - 4 - 8)  # [CLS], [SEP], two markers; slack for re-tokenising the cut text
    # Each distinct text is tokenised once and its tokens found by bisection: a run-on "sentence" of
    # 200 KB holds thousands of targets, and a tokenisation per target grew time and memory with
    # targets x length (15 GB, found by a new user's trial).
    distinct = list(dict.fromkeys(texts))
    offsets = {text: offs for text, (_ids, offs) in zip(distinct, tokenizer.encode(distinct))}
    starts = {text: [a for a, _ in offs] for text, offs in offsets.items()}
    ends = {text: [b for _, b in offs] for text, offs in offsets.items()}
    out = []
    for text, (s, e) in zip(texts, spans):
        offs = offsets[text]
        if not offs:
            out.append((0, len(text)))
            continue
        first, last = bisect_right(ends[text], s), bisect_left(starts[text], e) - 1  # tokens overlapping [s, e)
        while first <= last and not (offs[first][0] < e and offs[first][1] > s):  # empty tokens inside the span
            first += 1
        inside = [first, last] if first <= last else [_position_of(offs, s) if s < len(text) else len(offs) - 1]
        lo, hi = inside[0], min(inside[-1], len(offs) - 1)
        while hi - lo + 1 < budget and (lo > 0 or hi < len(offs) - 1):
            if lo > 0:
                lo -= 1
            if hi < len(offs) - 1 and hi - lo + 1 < budget:
                hi += 1
        while lo < inside[0] and not _word_start(text, offs[lo][0]):  # do not start inside a word
            lo += 1
        while hi > inside[-1] and not _word_end(text, offs[hi][1]):
            hi -= 1
        out.append((offs[lo][0], offs[hi][1]))
    return out


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() and text[i].isalnum())


def _word_end(text: str, i: int) -> bool:
    return i >= len(text) or not (text[i - 1].isalnum() and text[i].isalnum())


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
    merged = _merge_overlaps([(s, e, label, 0.0) for s, e, label in spans])  # spans of one label sharing characters: one B
    for s, e, label, _ in merged:
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
    thresholds: Mapping[str, float] | None = None,
    text: str | None = None,
    min_scores: Mapping[str, float] | None = None,
) -> list[tuple[int, int, str, float]]:
    """Spans from per-token BIO probabilities of shape (tokens, labels, 3).

    A token is inside a span of a label when P(B) + P(I) reaches the label's threshold (default
    0.5); a single outside token between two inside ones is taken as inside, and each run of
    inside tokens is one span (this keeps a scare quote's marks and word, or a word split into
    sub-words, together). With ``text``, a span that starts or ends inside a word (hyphenated
    words included) is widened to the whole word. The score is the mean inside-probability of
    the span's tokens; a span whose score is below its label's ``min_scores`` entry is dropped (a label's low
    token threshold finds a span's whole extent, its minimum score keeps the spans it is sure of). Returns
    ``(start, end, label, score)`` with character offsets.
    """
    thresholds = thresholds or {}
    real = [i for i, o in enumerate(offsets) if tuple(o) != NO_OFFSET]
    p_all = probs[real, :, BEGIN] + probs[real, :, INSIDE]  # (tokens, labels)
    limits = np.array([thresholds.get(label, DEFAULT_DEVICE_THRESHOLD) for label in labels])
    out = []
    for j in np.flatnonzero((p_all >= limits).any(axis=0)):  # most labels have no span: skip them at once
        label, p_in = labels[int(j)], p_all[:, j]
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
        tidy = (_tidy(text, *_whole_words(text, s, e), label) for s, e, label, _ in out)
        out = sorted({(t[0], t[1], label): score for t, (_, _, label, score) in zip(tidy, out) if t is not None}.items())
        out = _merge_overlaps([(s, e, label, score) for (s, e, label), score in out])
    if min_scores:
        out = [span for span in out if span[3] >= min_scores.get(span[2], 0.0)]
    return sorted(out, key=lambda x: (x[0], x[1], x[2]))


def _merge_overlaps(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """One span where two spans of one label share characters, its score their length-weighted mean: in
    decoding, where widening to whole words made two runs inside one long word overlap (a device is never
    reported twice over the same characters); in training tags, where a dataset's spans of one label
    overlap (one B, not a B in mid-span)."""
    out: list[tuple[int, int, str, float]] = []
    for s, e, label, score in sorted(spans, key=lambda x: (x[2], x[0], x[1])):
        if out and out[-1][2] == label and s < out[-1][1]:
            ps, pe, _, pscore = out[-1]
            weight = (pe - ps) + (e - s)
            out[-1] = (ps, max(pe, e), label, (pscore * (pe - ps) + score * (e - s)) / weight if weight else pscore)
        else:
            out.append((s, e, label, score))
    return out


PROPAGANDA = "propaganda"  # the reported name of the label-agnostic PTC span
PROPAGANDA_SPAN = "propaganda_span"  # its training label


def decode_devices(
    probs: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    text: str,
    *,
    labels: Sequence[str],
    reported: Sequence[str],
    thresholds: dict[str, float] | None = None,
    fixed: Sequence[str] = (),
    min_scores: Mapping[str, float] | None = None,
) -> list[tuple[int, int, str, float, str | None]]:
    """The device spans a user gets, ``(start, end, label, score, technique)``: the ``fixed`` devices
    as decoded; and, where the model has the label-agnostic PTC span head, each of its spans as
    ``propaganda`` with the most likely PTC technique (any other reported label) as ``technique``,
    instead of separate technique spans, whose head finds fewer of them. A model without that head
    reports every reported label as before (technique None). The one decoding path of scoring and
    prediction.

    Example:
        >>> decode_devices(probs, enc.offsets, text, labels=labels, reported=labels, fixed=FIXED_DEVICES)  # doctest: +SKIP
        [(4, 11, 'scare_quotes', 0.91, None), (30, 52, 'propaganda', 0.62, 'loaded_language')]
    """
    spans = decode_spans(probs, offsets, labels, thresholds, text, min_scores)
    if PROPAGANDA_SPAN not in labels:
        allowed = set(reported)
        return [(s, e, label, score, None) for s, e, label, score in spans if label in allowed]
    technique_set = set(reported) - set(fixed)
    techniques = [j for j, label in enumerate(labels) if label in technique_set]
    out: list[tuple[int, int, str, float, str | None]] = []
    for s, e, label, score in spans:
        if label in fixed:
            out.append((s, e, label, score, None))
        elif label == PROPAGANDA_SPAN:  # the span's tokens' mean inside-probability of each technique
            rows = [i for i, o in enumerate(offsets) if tuple(o) != NO_OFFSET and o[0] < e and o[1] > s]
            inside = probs[rows][:, techniques, BEGIN] + probs[rows][:, techniques, INSIDE] if rows and techniques else None
            technique = labels[techniques[int(inside.mean(0).argmax())]] if inside is not None else None
            out.append((s, e, PROPAGANDA, score, technique))
    return out


OPENING_QUOTES = "\"“‘'«"
CLOSING_QUOTES = "\"”’'»"
# Words that alone never carry a device. Hand-written rather than spaCy's STOP_WORDS, which also
# holds words devices are made of ("say", "many", "some", "several", "serious").
FUNCTION_WORDS = frozenset(
    "a an the is are was were be been being am of to in on at by for with from as and or but nor if whether that this "
    "these those it its he she they we you i his her their our your my me him them us who whom which what when where "
    "not no so than then there here has have had do does did will would can could should may might must".split()
)
_PAUSES = frozenset(".,;:!?")  # the punctuation American style puts inside a closing quotation mark
SCARE_QUOTE_REACH = 40  # characters to look for a scare quote's missing mark


def _tidy(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """A decoded span made presentable, or None to drop it: scare quotes widened to hold both
    marks (dropped if they have none); other spans trimmed of edge punctuation, but for the mark of a
    quotation they hold only one of when the other was just at the edge ('a "rude awakening,"', '"very" excited'),
    and (but PTC's label-agnostic span, whose spans PTC marks across quotations) cut at a quotation mark whose
    pair is outside them; spans left with no letters, or only function words ("a", "is a", "Whether"), dropped."""
    if label == "scare_quotes":
        if start > 0 and text[start - 1] in OPENING_QUOTES and text[start] not in OPENING_QUOTES:
            start -= 1
        if end < len(text) and text[end] in CLOSING_QUOTES and text[end - 1] not in CLOSING_QUOTES:
            end += 1
        if text[start] in OPENING_QUOTES and (end - start < 2 or text[end - 1] not in CLOSING_QUOTES):
            close = next((i for i in range(end, min(len(text), end + SCARE_QUOTE_REACH)) if text[i] in CLOSING_QUOTES), None)
            end = close + 1 if close is not None else end
        elif text[end - 1] in CLOSING_QUOTES and text[start] not in OPENING_QUOTES:
            opening = next(
                (i for i in range(start - 1, max(-1, start - SCARE_QUOTE_REACH), -1) if text[i] in OPENING_QUOTES), None
            )
            start = opening if opening is not None else start
        if end - start < 3 or text[start] not in OPENING_QUOTES or text[end - 1] not in CLOSING_QUOTES:
            return None
    else:
        start, end = _trimmed(text, start, end)
        opened, closing = _unmatched_quotes(text, start, end)
        if opened:  # 'calling her "Nervous Nancy"', 'a "new generation of leadership,"': the closing mark the trim took off
            close = end + 1 if text[end : end + 1] in _PAUSES else end
            if close < len(text) and text[close] in '”»"':
                end = close + 1
        if closing is not None and start > 0 and text[start - 1] in '“«"':
            start -= 1  # '“very” excited': the opening mark the trim took off
        if label != PROPAGANDA_SPAN:  # PTC's spans keep their edges: they span quotations as PTC marks them
            start, end = _trimmed(text, *_outside_unmatched_quotes(text, start, end), keep='“«”»"')
    words = [w.strip(OPENING_QUOTES + CLOSING_QUOTES + ".,;:!?()[]-").lower() for w in text[start:end].split()]
    if not any(c.isalnum() for c in text[start:end]) or all(w in FUNCTION_WORDS or not w for w in words):
        return None
    return start, end


def _trimmed(text: str, start: int, end: int, keep: str = "") -> tuple[int, int]:
    """A span without punctuation or spaces at its edges, but for the characters in ``keep``."""
    while start < end and not (text[start].isalnum() or text[start] in keep):
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in keep):
        end -= 1
    return start, end


def _unmatched_quotes(text: str, start: int, end: int) -> tuple[list[int], int | None]:
    """The positions of a span's opening quotation marks left open, and of its first closing mark with no opening
    one (None), over the whole span. A straight double quote closes one left open before it ('"Yes,"he said'), else
    opens one where :func:`_opens` says so ('said,"Stop') and closes elsewhere ('Nancy"', 'great."The'). Single
    quotes are left alone (the apostrophe is the same character)."""
    opened: list[int] = []
    closing = None
    for i in range(start, end):
        ch = text[i]
        straight_open = any(text[j] == '"' for j in opened)
        if ch in "“«" or (ch == '"' and not straight_open and _opens(text, i)):
            opened.append(i)
        elif ch in '”»"':
            if opened:
                opened.pop()
            elif closing is None:
                closing = i
    return opened, closing


def _opens(text: str, i: int) -> bool:
    """Whether the straight double quote at ``i``, with no quotation open before it in the span, opens one: after a
    space, a bracket or a dash, or between a comma, colon or semicolon and a capital or digit ('said,"Stop'); not
    before a lower-case word ('"Yes,"he said') nor after a sentence's end ('great."The')."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return before.isspace() or before in "([{—–-" or (before in ",:;" and (after.isupper() or after.isdigit()))


def has_unpaired_quote(span: str) -> bool:
    """Whether ``span`` holds a double quotation mark without its pair, as decoding pairs them.

    Example:
        >>> has_unpaired_quote('calling her "Nervous Nancy'), has_unpaired_quote('calling her "Nervous Nancy"')
        (True, False)
    """
    opened, closing = _unmatched_quotes(span, 0, len(span))
    return bool(opened) or closing is not None


def _outside_unmatched_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    """A span cut so that it holds no quotation mark without its pair, keeping the quoted side: after an
    opening mark whose closing one lies outside the span ('a "so-called judge' -> 'so-called judge'),
    before a closing mark whose opening one does."""
    while True:
        opened, closing = _unmatched_quotes(text, start, end)
        if closing is not None:
            end = closing  # the quoted words are before it
        elif opened:
            start = opened[-1] + 1
        else:
            return start, end


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    def joined(i: int) -> bool:  # text[i] continues the word around it (letters, digits, inner - and ')
        return text[i].isalnum() or (
            text[i] in "-'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        )

    while start > 0 and joined(start - 1) and joined(start):
        start -= 1
    while end < len(text) and joined(end) and joined(end - 1):
        end += 1
    return start, end


def _span(current, offsets, p_in, real, label):
    start = offsets[real[current[0]]][0]
    end = offsets[real[current[-1]]][1]
    return (int(start), int(end), label, float(np.mean(p_in[current])))


def collate(
    batch: Sequence[Encoded], pad_id: int = 0, labels: Sequence[dict[str, Any]] | None = None, *, multiple_of: int = 1
) -> dict[str, np.ndarray]:
    """Pad encoded sentences into arrays (numpy: the exported backends take them as they are, torch
    wraps them without a copy); with ``labels`` (per sentence: ``stance`` ids and teacher
    ``stance_soft`` probabilities per distinct target, ``devices`` BIO array, optionally a teacher's
    ``stance_features`` per distinct target), add the training targets too.

    ``multiple_of`` rounds both the width and the number of rows up (extra rows attend to their
    first token only; their outputs are dropped). Inference uses 8: the CPU kernels (oneDNN) cache
    a compiled primitive per input shape, so a long run over sentences of every length would
    otherwise keep growing in memory; rounding bounds the shapes to a few dozen.
    """
    if labels is not None and multiple_of != 1:
        raise ValueError("collate: multiple_of is for inference batches, not for batches with labels")
    width = -(-max(len(e.input_ids) for e in batch) // multiple_of) * multiple_of
    rows = -(-len(batch) // multiple_of) * multiple_of
    n_targets = max((len(e.target_markers) for e in batch), default=0)
    input_ids = np.full((rows, width), pad_id, dtype=np.int64)
    attention = np.zeros((rows, width), dtype=np.int64)
    attention[len(batch) :, 0] = 1
    markers = np.full((rows, n_targets, 2), -1, dtype=np.int64)
    for b, e in enumerate(batch):
        input_ids[b, : len(e.input_ids)] = e.input_ids
        attention[b, : len(e.input_ids)] = 1
        if e.target_markers:
            markers[b, : len(e.target_markers)] = e.target_markers
    out: dict[str, np.ndarray] = {"input_ids": input_ids, "attention_mask": attention, "target_markers": markers}
    if labels is not None:
        n_dev = labels[0]["devices"].shape[1]
        stance = np.full((len(batch), n_targets), -100, dtype=np.int64)
        soft = np.zeros((len(batch), n_targets, 3), dtype=np.float32)
        devices = np.full((len(batch), width, n_dev), -100, dtype=np.int64)
        for b, lab in enumerate(labels):
            if len(lab["stance"]):
                stance[b, : len(lab["stance"])] = lab["stance"]
                soft[b, : len(lab["stance"])] = lab["stance_soft"]
            devices[b, : lab["devices"].shape[0]] = lab["devices"]
        out["stance_labels"] = stance
        out["device_labels"] = devices
        out["stance_soft_labels"] = soft
        widths = [lab["stance_features"].shape[1] for lab in labels if lab.get("stance_features") is not None]
        if widths:  # a teacher's stance-head features per distinct target (zero rows: none)
            feats = np.zeros((len(batch), n_targets, widths[0]), dtype=np.float32)
            for b, lab in enumerate(labels):
                if lab.get("stance_features") is not None:
                    feats[b, : len(lab["stance_features"])] = lab["stance_features"]
            out["stance_feature_targets"] = feats
    return out
