"""NER entities as candidate actors: which entities name actors, and with what span and label. An entity is
trimmed of leading articles, titles, trailing lower-case words and quotation marks, split at a possessive ("Fox
News’ Sean Hannity"), retyped as a person where the article names its last word alone as one, checked against
headlines, descriptions ("the Court") and the shape of a name, and given a registry actor when it only wraps a
registry match in words such as "Foreign Ministry" or names a government body of a state."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from stance.pipeline.actor_registry import ActorRegistry
from stance.pipeline.actors.furniture import longest_name_run
from stance.pipeline.actors.mention import Candidate
from stance.pipeline.actors.names import (
    ArticleWords,
    chamber_in_title,
    common_word_at_start,
    leading_common_word,
    looks_like_name,
    other_given_name,
    state_body,
)
from stance.pipeline.actors.words import (
    ATTRIBUTION_OPENERS,
    CONNECTORS,
    HONORIFICS,
    INSTITUTION_WORDS,
    NAME_PARTICLES,
    POSSESSIVES,
    QUOTE_MARKS,
    TITLES,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


_ADJECTIVE_NORP = frozenset({"swiss", "seychellois"})  # NORP words ending in "s" that are not plurals
_DESCRIPTION_NOUNS = frozenset("court committee commission board agency bureau office tribunal panel".split())
_COLLECTIVE_OWNERS = frozenset("women men children people veterans workers farmers families".split())
_COMPANY_SUFFIXES = frozenset("corp corp. inc inc. co co. company corporation llc ltd ltd. plc group".split())


def entity_candidates(
    doc: Doc,
    article: ArticleWords,
    text: str,
    ents: list[Span],
    registry_matches: list[Candidate],
    headlines: list[tuple[int, int]],
    named_outside: frozenset[str],
    registry: ActorRegistry,
    ner_labels: frozenset[str],
    not_actors: frozenset[str],
) -> list[Candidate]:
    """The NER's entities ``ents`` in ``doc`` (its words ``article``, its text ``text``) that name actors, as
    candidates: of the labels in ``ner_labels``, trimmed, split at a possessive, and checked against the article's
    title-case ``headlines`` (``named_outside``: the capitalised words it writes elsewhere), the names that are
    never actors (``not_actors``, casefolded) and the shape of a name. An entity that wraps a registry match
    (``registry_matches``) in connector words, or names a body of its state, is that match's actor."""
    out = []
    in_entity = {i for ent in ents for i in range(ent.start, ent.end)}
    alone = _alone_labels(ents)
    people = _people_by_surname(ents, alone, registry)
    for ent in ents:
        ent_label = "PERSON" if ent.start in people else ent.label_
        if ent_label not in ner_labels:
            continue
        for k, toks in enumerate(_possessive_parts(list(ent), article.lowered)):  # "Fox News’ Sean Hannity": two names
            label = ent_label
            if k and label != "PERSON" and _names_person([t.text for t in toks], alone, registry, _SURNAME_AFTER_POSSESSIVE):
                label = "PERSON"  # the name after the organisation's possessive is a person
            while (
                len(toks) > 1
                and (
                    toks[0].lower_ in ("the", "a", "an", "'s", "’s")
                    or toks[0].is_punct
                    or toks[0].is_space
                    or (toks[0].text.islower() and not toks[0].text[0].isdigit() and toks[0].text not in NAME_PARTICLES)
                )
            ):  # "formal Democratic Party": no name starts with a lowercase word other than a particle ("de Blasio"); "9th Circuit" keeps its number
                toks.pop(0)
            if label == "PERSON":
                while len(toks) > 1 and (
                    toks[0].lower_ in TITLES
                    or (_plural_title(toks[0].lower_) and not toks[1].is_stop)
                    or leading_common_word(doc, toks, article)
                ):  # "President Biden", "Presidents Reagan and Obama", "Despite Hunter Biden's dismissal"
                    toks.pop(0)
                if (
                    not any(t.whitespace_ for t in toks[:-1])
                    and toks[0].i - 1 not in in_entity
                    and _given_name_left_out(doc, toks[0].i)
                ):
                    toks.insert(0, doc[toks[0].i - 1])  # "Pilar Gomez-Bravo knows": the NER took the surname alone
                if len(toks) == 1 and _common_word_alone(doc, toks[0], article):
                    continue
                while len(toks) > 1 and _acronym_after_name(toks, registry):
                    toks.pop()  # "Obama DOJ official": a person's name is not followed by a body's acronym
                nxt = doc[toks[-1].i + 1] if toks[-1].i + 1 < len(doc) else None
                if nxt is not None and toks[-1].whitespace_ and _APOSTROPHE_SURNAME.match(nxt.text) and nxt.i not in in_entity:
                    toks.append(nxt)  # "Mike O’Rielly": the NER stops before a surname written with a curly apostrophe
            while len(toks) > 1 and (
                toks[-1].lower_ in POSSESSIVES
                or toks[-1].is_punct
                or toks[-1].is_space
                or (toks[-1].text.islower() and toks[-1].text not in INSTITUTION_WORDS)
            ):
                # "Border Security Force of (Kurds and Arabs)", "Las Vegas city", "MGM hotel casinos": no name
                # ends in a lowercase word other than an institution's ("the Green party")
                toks.pop()
            words = tuple(t.text for t in toks)
            start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
            # a quotation mark the tokenizer left on a word ('”Graham said', 'the “Squad”')
            lead, trail = (
                len(words[0]) - len(words[0].lstrip(QUOTE_MARKS)),
                len(words[-1]) - len(words[-1].rstrip(QUOTE_MARKS)),
            )
            if lead + trail and start + lead < end - trail:
                start, end = start + lead, end - trail
                trimmed = [words[0][lead:], *words[1:]]
                trimmed[-1] = trimmed[-1][: len(trimmed[-1]) - trail]
                words = tuple(trimmed)
            if headlines and any(s <= start < e for s, e in headlines):
                # a title-case headline: only the names the article also writes elsewhere ("Nimesh Patel
                # Stand-Up Routine Cut Short" -> "Nimesh Patel")
                known = [w in named_outside or w.lower() in CONNECTORS for w in words]
                if not all(known):
                    run = longest_name_run(words, named_outside)
                    if run is None or run[1] - run[0] < 2 or lead + trail:
                        continue  # one capitalised word ("No", "Others") is too little to go on
                    toks = toks[run[0] : run[1]]
                    words = tuple(t.text for t in toks)
                    start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
            if all(w.lower() in CONNECTORS or not any(ch.isalpha() for ch in w) for w in words):
                continue  # "State", "Foreign Ministry": a title, not a name
            if len(words) == 1 and words[0].lower() in _DESCRIPTION_NOUNS:
                continue  # "the Court", "the Committee": a description of a body named elsewhere, not its name
            if not any(ch.isupper() for ch in "".join(words)):
                continue
            if label == "NORP" and not (words[-1].endswith("s") and words[-1].lower() not in _ADJECTIVE_NORP):
                continue  # adjectives ("Russian troops") are the registry's business
            if text[start:end].casefold() in not_actors or not looks_like_name(doc, toks, label):
                continue
            if len(toks) == 1 and chamber_in_title(doc, toks[0].i):
                continue
            cand = Candidate(start, end, words, 2, label=label)
            inside = [c for c in registry_matches if start <= c.start and c.end <= end and c.size < end - start]
            if inside and len({(c.actors, c.short) for c in inside}) == 1:
                rest = [t for t in toks if not any(c.start <= t.idx < c.end for c in inside)]
                if all(t.lower_ in CONNECTORS or t.lower_ in ATTRIBUTION_OPENERS or t.is_punct for t in rest):
                    # "Russian Defence Ministry" is Russia; "Biden administration" is whoever "Biden" is; "Said Macron,"
                    # (an inverted attribution) is Macron, where "Said Jalili", whom the registry lacks, keeps his name
                    cand.source, cand.actors, cand.short, cand.words = (
                        1,
                        inside[0].actors,
                        inside[0].short,
                        inside[0].words,
                    )
                elif state_body(inside[0], start, rest, registry) and not any(
                    c.start <= start and end <= c.end for c in registry_matches
                ):
                    # "U.S. Department of Agriculture", "U.S. Supreme Court": a body named through its state is the state
                    cand.source, cand.actors, cand.words = 1, inside[0].actors, inside[0].words
                elif (
                    not inside[0].short
                    and len(inside) == 1
                    and inside[0].end == end
                    and registry[inside[0].actors[0]].type == "person"
                ):
                    continue  # "Designate Nancy Pelosi" (a headline word before a registry person's full name): the registry's match stands
            out.append(cand)
    return out


def _people_by_surname(ents: list[Span], alone: dict[str, list[str]], registry: ActorRegistry) -> set[int]:
    """The start tokens of the entities the NER typed as a place or an organisation that name a person: two
    or three capitalised words, not a registry name, whose last one the article also names alone as a
    person, or twice as a location ("Savannah Guthrie" typed a place, then "Guthrie" a person; "Louis
    Farrakhan" an organisation, then "Farrakhan" eleven times a location). ``alone``: :func:`_alone_labels`."""
    return {
        ent.start
        for ent in ents
        if ent.label_ not in ("PERSON", "NORP")
        and _names_person([t.text for t in ent if t.text not in POSSESSIVES], alone, registry, _SURNAME_EVIDENCE)
    }


def _alone_labels(ents: list[Span]) -> dict[str, list[str]]:
    """The labels the NER gave each word that it found as a one-word entity, once per time."""
    alone: dict[str, list[str]] = {}
    for ent in ents:
        if len(ent) == 1:
            alone.setdefault(ent.text, []).append(ent.label_)
    return alone


def _names_person(words: list[str], alone: dict[str, list[str]], registry: ActorRegistry, evidence: dict[str, int]) -> bool:
    """Whether two or three capitalised ``words`` typed a place or an organisation name a person: not a
    registry name, no place or body word in them, and their last word named alone elsewhere with one of
    the ``evidence`` labels at least as often as it says."""
    if not 2 <= len(words) <= 3 or words[0].lower() in _NOT_GIVEN_NAMES:
        return False
    if not all(w.isalpha() and w.istitle() and w.lower() not in _NOT_GIVEN_WORDS for w in words):
        return False
    if "GPE" in alone.get(words[0], []) or registry.lookup(words[0]) or registry.lookup(" ".join(words)):
        return False  # "Benghazi Clinton's 'drip, drip, drip problem'": a place before a surname
    labels = alone.get(words[-1], [])
    return any(labels.count(label) >= times for label, times in evidence.items())


_SURNAME_EVIDENCE = {"PERSON": 1, "LOC": 2}
"""A whole entity typed a place or an organisation is a person when its last word is named alone as a person once, or
as a location twice (the NER often types a lone surname a location)."""
_SURNAME_AFTER_POSSESSIVE = {"PERSON": 1, "LOC": 1, "GPE": 1, "ORG": 1}
"""The name after a possessive inside such an entity ("Fox News’ Sean Hannity") is a person when its last word is
named alone anywhere, whatever its type: the possessive already says the owner is the organisation."""


_APOSTROPHE_SURNAME = re.compile(r"^[A-Z][’'][A-Z][a-z]+$")
"""A surname such as "O’Rielly" or "D’Amato"."""
_ROMAN = re.compile(r"^[IVXLC]+$")


def _acronym_after_name(toks: list[Token], registry: ActorRegistry) -> bool:
    """Whether a PERSON entity ends in a registry acronym after a name not written in capitals ("Obama DOJ
    official", "Susan Page USA"): the acronym names a body or a state, and the person is the rest. Not "Pope
    Benedict XVI", nor "Stop Hillary PAC" (no registry acronym), nor a name in capitals throughout."""
    last = toks[-1]
    return (
        len(last.text) >= 2
        and last.is_alpha
        and last.is_upper
        and not _ROMAN.match(last.text)
        and any(t.is_alpha and not t.is_upper for t in toks[:-1])
        and bool(registry.lookup(last.text))
    )


def _common_word_alone(doc: Doc, tok: Token, article: ArticleWords) -> bool:
    """Whether a one-word PERSON entity is a common word that only starts a sentence ("Lava spatters can
    weigh a ton.", "Skinny repeal might pass."): the article writes it capitalised nowhere else."""
    return common_word_at_start(doc, tok.i, article.lowered) and not article.capitalised_mid_sentence(tok.text)


def _plural_title(word: str) -> bool:
    """Whether a lower-cased word is a title or honorific in the plural ("presidents", "commissioners"): the
    title of several people named after it, never part of one person's name."""
    return word.endswith("s") and (word[:-1] in TITLES or word[:-1] in HONORIFICS)


_NOT_GIVEN_NAMES = frozenset("hurricane typhoon storm cyclone tropical fort mount lake port saint st camp cape".split())
_NOT_GIVEN_WORDS = CONNECTORS | INSTITUTION_WORDS  # words of a title or a body, never of a person's name


def _possessive_parts(toks: list[Token], lowered: frozenset[str]) -> list[list[Token]]:
    """An NER entity split at a possessive inside it: the owner is a name of its own, and what follows is one
    only when it is two or more capitalised words. "Fox News’ Sean Hannity" -> "Fox News", "Sean Hannity";
    "Donald Trump’s Inauguration" -> "Donald Trump"; "Politico’s Morning Education" -> "Politico", "Morning
    Education"; "McDonald's Corp", "Lloyd's of London" and "Women’s Voices Women’s Vote Action Fund" (an owner
    that is one word for people the article also writes in lower case, ``lowered``) stay one name."""
    for i in range(1, len(toks) - 1):
        tok = toks[i]
        attached = tok.text in POSSESSIVES and toks[i - 1].whitespace_ == ""
        if attached and (tok.text.endswith("s") or toks[i - 1].text.endswith("s")):
            after = toks[i + 1 :]
            if (
                (len(after) == 1 and after[0].lower_ in _COMPANY_SUFFIXES)
                or after[0].lower_ in NAME_PARTICLES
                or (i == 1 and toks[0].lower_ in lowered and toks[0].lower_ in _COLLECTIVE_OWNERS)
            ):
                return [toks]  # "McDonald's Corp", "Lloyd's of London", "Women’s Voices": one name
            owner = [toks[:i]]
            if (
                len(after) >= 2
                and after[0].text[:1].isupper()
                and all(t.text[:1].isupper() or t.lower_ in NAME_PARTICLES for t in after)
            ):
                return [*owner, *_possessive_parts(after, lowered)]
            return owner
    return [toks]


def _given_name_left_out(doc: Doc, i: int) -> bool:
    """Whether the token before a one-word PERSON entity starting at token ``i`` is the given name
    that the NER left out: a capitalised word one space before it, not a title, honorific or date, nor a
    common word that starts the sentence ("Despite Trump's claims"). The caller checks that it is in no other
    entity."""
    return i > 0 and doc[i - 1].whitespace_ == " " and other_given_name(doc, i - 1) and not common_word_at_start(doc, i - 1)
