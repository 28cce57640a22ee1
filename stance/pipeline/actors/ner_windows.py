"""Where the NER runs: rough sentences of a document's tokens, and in each only the windows of tokens around the
capitalised words that no registry alias, title, stop word or date explains, each made a document of its own.
The rest of a document cannot hold a further entity, so this saves most of the NER's cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stance.pipeline.actors.words import CALENDAR, HONORIFICS, STOPS, TITLES

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


NER_CONTEXT = 4
"""Tokens of context either side of a word the NER must look at (see ``ner_windows``)."""
_CLOSERS = frozenset({'"', "”", "'", "’", ")"})
_OPENERS = frozenset({'"', "“", "'", "‘", "("})


def sentences(words: Sequence[str]) -> list[tuple[int, int]]:
    """Rough sentence token ranges of a document's token texts: a break after . ! ? (and a closing
    quote) before a capital or a quote."""
    parts, start = [], 0
    for i in range(1, len(words)):
        prev, tok = words[i - 1], words[i]
        ends = prev in STOPS or (prev in _CLOSERS and i > 1 and words[i - 2] in STOPS)
        if ends and (tok[:1].isupper() or tok[:1] in _OPENERS) and not (prev in STOPS and tok in _CLOSERS):
            parts.append((start, i))
            start = i
    parts.append((start, len(words)))
    return parts


def _needs_ner(tok: Token, covered: set[int]) -> bool:
    """Whether ``tok`` may be part of an entity the registry did not match: a capitalised word outside
    the ``covered`` tokens of registry aliases (ignore phrases may well be entities) that is not a
    stop word, title or date."""
    if tok.i in covered or not tok.text[:1].isupper() or tok.is_stop:
        return False
    return not (tok.lower_ in TITLES or tok.lower_ in HONORIFICS or tok.lower_ in CALENDAR)


def ner_windows(
    doc: Doc, words: Sequence[str], start: int, end: int, covered: set[int], context: int | None
) -> list[tuple[int, int]]:
    """The token ranges of ``doc[start:end]`` the NER must see: none if no word there needs it
    (:func:`_needs_ner`); with ``context=None`` the whole range; else ``context`` tokens either side
    of each such word, widened so that no run of capitalised words (a name) is cut, and merged where
    they touch.

    The NER (en_core_web_sm) decides a token's label from about four tokens either side of it
    (its convolutional encoder's reach), so windows of :data:`NER_CONTEXT` (4) give nearly the
    entities the whole sentence would, at a fraction of the tokens: on 200 real PTC articles 99.1%
    the same mentions (99.4% with 8 tokens, for about 25% more time; the differences are mostly
    where an entity ends, either way; ``bench/ner_windows.py``).
    """
    windows: list[tuple[int, int]] = []
    for i in range(start, end):
        if not words[i][:1].isupper() or not _needs_ner(doc[i], covered):
            continue
        if context is None:
            return [(start, end)]
        lo, hi = max(start, i - context), min(end, i + context + 1)
        while lo > start and words[lo][:1].isupper():
            lo -= 1
        while hi < end and words[hi - 1][:1].isupper():
            hi += 1
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    return windows


def window_doc(doc: Doc, start: int, end: int, norms: Any) -> Doc:
    """``doc[start:end]`` as a document of its own, for the NER: its words with the norms the
    tokenizer gave them ("Calif." -> "california"; ``norms`` is ``doc.to_array([NORM])``), which is
    all an unannotated document holds that the NER reads. Gives the entities ``Span.as_doc`` would, 5-10x
    faster: that copies every attribute of the whole document, its vector and entities per call."""
    from spacy.attrs import NORM
    from spacy.tokens import Doc

    tokens = doc[start:end]
    window = Doc(doc.vocab, words=[t.text for t in tokens], spaces=[bool(t.whitespace_) for t in tokens])
    window.from_array([NORM], norms[start:end])
    return window
