"""People named by their surname: the surnames of the people an article names in full, later mentions by the
surname alone that neither the registry nor the NER found, an entity that lists several such surnames as one name,
a one-word registry alias that is a person's surname ("Rep. Jordan", not "visited Jordan"), and a registry surname
after another given name ("Hunter Biden"), who is a different person."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from stance.pipeline.actor_registry import ActorRegistry, without_suffix
from stance.pipeline.actors.mention import Candidate
from stance.pipeline.actors.names import common_word_at_start, other_given_name
from stance.pipeline.actors.words import ATTRIBUTION_OPENERS, QUOTE_MARKS

if TYPE_CHECKING:
    from spacy.tokens import Doc


def introduced_surnames(chosen: list[Candidate], registry: ActorRegistry) -> dict[str, int]:
    """The surnames of the people a document names in full (by the NER or the registry), each with where
    the first full name bearing it starts; a name's suffix ("Jr.", "III") is not its surname."""
    surnames: dict[str, int] = {}
    for c in chosen:
        words = without_suffix(c.words)  # "Martin Luther King Jr."
        if len(words) > 1 and words[-1][:1].isupper():
            person = (
                c.label == "PERSON"
                if c.source == 2
                else (c.source == 1 and not c.short and len(c.actors) == 1 and registry[c.actors[0]].type == "person")
            )
            if person:
                surnames[words[-1]] = min(c.start, surnames.get(words[-1], c.start))
    return surnames


_PERSONAL_TITLE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Rep|Sen|Gov|Senator|Representative|Congressman|Congresswoman|Chairman|Chairwoman)\.?\s+$"
)
_PLACE_WORD = re.compile(
    r"\b(?:in|to|from|into|at|across|toward|towards|of|within|throughout|near|inside|outside|around|via|visit|"
    r"visits|visited|visiting)\s+$",
    re.IGNORECASE,
)


def surname_not_alias(c: Candidate, text: str, surnames: dict[str, int], registry: ActorRegistry) -> Candidate:
    """A one-word registry alias of a state, place or body ("Jordan", "Israel") that names a person: after
    a personal title ("Rep. Jordan", "Mr. Israel"), or after the article has named a person with that
    surname in full ("Jim Jordan ... Jordan said"; in the first line, the title, before it too), but not
    after a preposition ("visited Jordan"). Then it is a person's short name (resolved by
    :func:`stance.pipeline.actors.resolution.resolve`); any other candidate is returned as it is."""
    if c.source != 1 or c.short or c.member or c.lead or len(c.words) != 1 or len(c.actors) != 1:
        return c
    if registry[c.actors[0]].type == "person" or not c.words[0].istitle():
        return c
    before = text[max(0, c.start - 40) : c.start]
    first = surnames.get(c.words[0])
    named = first is not None and (first < c.start or c.start < text.find("\n"))  # the title may come first
    if _PERSONAL_TITLE.search(before) or (named and not _PLACE_WORD.search(before)):
        person = Candidate(c.start, c.end, c.words, 2, label="PERSON")
        person.token, person.token_end = c.token, c.token_end
        return person
    return c


def surname_mentions(
    doc: Doc,
    words: Sequence[str],
    chosen: list[Candidate],
    ignored: list[Candidate],
    surnames: dict[str, int],
    headlines: list[tuple[int, int]],
    named_outside: frozenset[str],
) -> list[Candidate]:
    """Later mentions of a person introduced in full, by surname alone, that neither the registry
    nor the NER found ("Nikolai Patrushev ... Patrushev told Wang"), at a sentence start too, after a
    common word that starts one ("Despite Patrushev's warning"), and in a title-case headline ("Musk Buys Twitter", where a capitalised word after the
    surname is no sign of a longer name unless the article writes it outside its headlines too)."""
    if not surnames:
        return []
    taken = sorted((c.start, c.end) for c in (*chosen, *ignored))
    out = []
    for i in (
        i for i, w in enumerate(words) if w.strip(QUOTE_MARKS) in surnames
    ):  # the token texts: no spaCy Token objects for the rest
        tok = doc[i]
        name = tok.text.strip(QUOTE_MARKS)  # '”Graham said': a closing quotation mark run into the name
        at = tok.idx + tok.text.index(name)
        if any(s <= tok.idx < e for s, e in taken):
            continue
        if tok.i > 0 and other_given_name(doc, tok.i - 1) and not common_word_at_start(doc, tok.i - 1):
            continue  # "Andrei Patrushev": someone else
        nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
        in_headline = any(s <= tok.idx < e for s, e in headlines)
        if nxt is not None and nxt.is_title and not nxt.is_stop and (not in_headline or nxt.text in named_outside):
            continue  # "Patrushev Foundation": part of another name
        cand = Candidate(at, at + len(name), (name,), 2, label="PERSON")
        cand.token, cand.token_end = tok.i, tok.i + 1
        out.append(cand)
    return out


def split_surnames(c: Candidate, text: str, surnames: Collection[str]) -> list[Candidate]:
    """An entity that lists people introduced in full by their surnames ("Lamb and Saccone", "Lamb, Saccone
    and Wolf") as one name: one person mention per surname. Any other candidate is returned as it is."""
    if c.source != 2 or len(c.words) < 3 or "and" not in c.words:
        return [c]
    names = [w for w in c.words if w not in ("and", ",")]
    if len(names) != len(c.words) - c.words.count("and") - c.words.count(",") or not all(w in surnames for w in names):
        return [c]
    out, at = [], c.start
    for name in names:
        start = text.index(name, at, c.end)
        out.append(Candidate(start, start + len(name), (name,), 2, label="PERSON"))
        at = start + len(name)
    return out


def given_names(doc: Doc, chosen: list[Candidate], not_given: set[str]) -> list[Candidate]:
    """Turn a registry surname preceded by other given names ("Hunter Biden") into a person of its own;
    not words in ``not_given``: those the article names as a place ("Benghazi Clinton's problem") and the
    words of its title-case headlines that it writes nowhere else ("... Keeps Handing Trump Immigration Victories");
    nor a common word that starts a sentence ("Despite Hunter Biden's dismissal")."""
    out = []
    for c in chosen:
        first = c.token
        while c.short and first > max(c.token - 2, 0) and other_given_name(doc, first - 1):
            if (
                any(o.start <= doc[first - 1].idx < o.end for o in chosen)
                or doc[first - 1].text in not_given
                or common_word_at_start(doc, first - 1)
                or doc[first - 1].lower_ in ATTRIBUTION_OPENERS  # "Said Tillerson:" before a registry name
            ):
                break
            first -= 1
        if first < c.token:
            span = doc[first : c.token_end]
            c = Candidate(span.start_char, span.end_char, tuple(t.text for t in span), 2, label="PERSON")
        out.append(c)
    return out
