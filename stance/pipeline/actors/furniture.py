"""Page furniture: text around a story that is not a mention of an actor, or that must be read differently.
Title-case headlines (and the words an article writes only there), transcript speaker tags, the signature of an
embedded post, and a news site's inline hover cards that repeat a name and run it into headlines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from stance.pipeline.actors.mention import Candidate
from stance.pipeline.actors.words import CONNECTORS, STOPS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


def headline_lines(text: str) -> list[tuple[int, int]]:
    r"""Character ranges of title-case lines (see :func:`is_headline`).

    Example:
        >>> headline_lines("Musk Buys Twitter\n\nElon Musk said so.")
        [(0, 17)]
    """
    out, pos = [], 0
    for line in text.split("\n"):
        if is_headline(line, first=pos == 0 and len(line) < len(text)):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


_LOWER_IN_TITLES = frozenset("a an the and or but nor of in on at to for by with from as vs via into per".split())


def is_headline(line: str, first: bool) -> bool:
    """Whether a line is a title-case headline: four or more words of which at least 3 in 4 of the longer ones
    are capitalised ("Beijing Charms Brussels While Its Factories Flood Europe"), or three words, each in
    title case ("Musk Buys Twitter", "Senate Passes Budget"); no final full stop, but for the ``first`` line of
    several, a title, when every word but the short ones titles keep lower-case is capitalised ("... Keeps
    Handing Trump Immigration Victories. They Just Did It Again."; not a first sentence "Nikolai Patrushev met
    Chinese officials in Beijing on Monday.")."""
    tokens = line.split()
    if len(tokens) < 3 or (line.rstrip().endswith(".") and not (first and _title_case(tokens))):
        return False
    if len(tokens) == 3:
        return all(w[:1].isalpha() for w in tokens) and _title_case(tokens)
    words = [w for w in tokens if len(w) > 3 and w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def _title_case(words: Sequence[str]) -> bool:
    """Whether every word that starts with a letter is capitalised, but for the short words titles keep lower-case."""
    return all(w[0].isupper() or not w[0].isalpha() or w.lower() in _LOWER_IN_TITLES for w in words)


def capitalised_outside(doc: Doc, words: Sequence[str], ranges: list[tuple[int, int]]) -> frozenset[str]:
    """Capitalised words of ``doc`` (its token texts ``words``) outside the character ``ranges``."""
    from spacy.attrs import IDX

    starts = doc.to_array([IDX]).ravel() if len(doc) else ()
    return frozenset(w for w, at in zip(words, starts) if w[:1].isupper() and not any(s <= at < e for s, e in ranges))


def longest_name_run(words: Sequence[str], named: frozenset[str]) -> tuple[int, int] | None:
    """The longest run of ``words`` that the article names outside its headlines (connectors may join them,
    not end them), as a (start, end) index pair; None when there is none.

    Example:
        >>> longest_name_run(["Nimesh", "Patel", "Stand", "-", "Up"], frozenset({"Nimesh", "Patel", "Up"}))
        (0, 2)
    """
    best = None
    i = 0
    while i < len(words):
        if words[i] not in named:
            i += 1
            continue
        j = i + 1
        while j < len(words) and (words[j] in named or words[j].lower() in CONNECTORS):
            j += 1
        while words[j - 1] not in named:
            j -= 1
        if best is None or j - i > best[1] - best[0]:
            best = (i, j)
        i = j
    return best


def _caps_word(tok: Token) -> bool:
    """Whether ``tok`` is a word in capitals ("INSKEEP", "F.", "VICE")."""
    return tok.is_upper and any(ch.isalpha() for ch in tok.text)


def in_speaker_tag(doc: Doc, first: int, last: int) -> bool:
    """Whether tokens ``first``..``last`` lie in a transcript's speaker tag, before its colon: a name at the start
    of a line ("Harris: Thank you."); or, in capitals, a name and role at the start of a line ("STEVE INSKEEP,
    HOST: Good morning.") or a name after a sentence's end within a line ("Thank you. TRUMP: You're welcome.")."""
    after = doc[last + 1] if last + 1 < len(doc) else None
    before = doc[first - 1] if first > 0 else None
    if after is not None and after.text == ":" and line_start(before):
        return True
    end = last + 1
    while end < len(doc) and (_caps_word(doc[end]) or doc[end].text == ","):
        end += 1
    start = first - 1
    while start >= 0 and (_caps_word(doc[start]) or doc[start].text == ","):
        start -= 1
    tag = doc[start + 1 : end]
    commas = sum(t.text == "," for t in tag)
    if end >= len(doc) or doc[end].text != ":" or commas > 1 or tag[0].text == ",":
        return False
    boundary = doc[start] if start >= 0 else None
    if line_start(boundary):
        return commas == 1  # "STEVE INSKEEP, HOST:"; not an all-caps headline "BIDEN SIGNS BILL: WHAT IT MEANS"
    return boundary is not None and boundary.text in STOPS


def capitals_lines(words: Sequence[str], min_words: int = 3) -> set[int]:
    """The token indices of the lines written in capitals ("TRUMP MOVES TO DELAY FRAUD TRIAL"): lines of at least
    ``min_words`` words, every one in capitals; ``words``: the document's token texts, read once (the document's
    own tokens are costly to build, and a long one-line document would be walked once per name)."""
    out: set[int] = set()
    start = 0
    for i in range(len(words) + 1):
        if i == len(words) or "\n" in words[i]:
            letters = [w for w in words[start:i] if w.isalpha()]
            if len(letters) >= min_words and all(w.isupper() for w in letters):
                out.update(range(start, i))
            start = i + 1
    return out


def line_start(before: Token | None) -> bool:
    """Whether the token after ``before`` (None: the document's start) starts a line."""
    return before is None or "\n" in before.text or before.is_space


SIGNATURE = re.compile(r"\s*\(@\w+\)")
"""A name followed by a social-media handle in brackets: the signature of an embedded post ("— Donald J. Trump
(@realDonaldTrump) May 5, 2019"), page furniture like a byline, not a mention."""


_HOVER_CARD = re.compile(r"\b([A-Z][a-z'’\-]{2,})(?=[A-Z0-9])\S*[^\n]{0,600}?\bMORE\b")
"""A name run into a headline ("...TrumpGOP senators balk"), up to a "MORE" link: see :func:`hover_cards`."""


def hover_cards(text: str) -> list[tuple[int, int]]:
    """Character ranges of a news site's inline hover cards: after a person's name in the story, the page
    repeats the full name, runs it into three headlines about them and ends with a "MORE" link ("Sen. Bernie
    Sanders Bernie Sanders2020 Democrats push for gun control ... MORE (I-Vt.) at 15 percent"; about 2,500
    cards in 490 of 15,000 AllSides articles, nearly all from The Hill). The range starts at the repeated name, after the story's
    own last occurrence of the surname, and ends after "MORE"; names inside it are not mentions."""
    if "MORE" not in text:
        return []
    out = []
    m = _HOVER_CARD.search(text)
    while m is not None:
        before = text[max(0, m.start() - 80) : m.start()]
        story = list(re.finditer(rf"\b{re.escape(m.group(1))}\b", before))
        copy = text[m.start() - len(before) + story[-1].end() : m.start()] if story else ""
        words = copy.split()
        if story and len(words) <= 5 and all(w[:1].isupper() or w[:1] == "(" for w in words):
            out.append((m.start() - len(copy.lstrip()), m.end()))
            m = _HOVER_CARD.search(text, m.end())
        else:  # not a card: look again from the next word, not past this "MORE"
            m = _HOVER_CARD.search(text, m.start() + 1)
    return out


def cut_before(c: Candidate, text: str, cards: list[tuple[int, int]]) -> Candidate:
    """A candidate that runs into a hover card ("President Trump Donald John TrumpGOP ...", read by NER as
    "Trump Donald"), cut where the card starts."""
    start = next((s for s, _ in cards if c.start < s < c.end), None)
    if start is None:
        return c
    kept = text[c.start : start].rstrip()
    return replace(c, end=c.start + len(kept), words=tuple(kept.split()))
