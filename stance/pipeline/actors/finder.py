"""Actors: the finder of actor mentions in text, with the registry of known actors (stance.pipeline.actor_registry).

The registry (``configs/actors.yaml``, extended with ``--actors FILE``) lists states, organisations,
blocs and people with their aliases: metonyms ("Beijing", "Kremlin"), adjectival demonyms ("Chinese
officials") and short forms of people's names ("Lavrov"). The finder matches those aliases with spaCy's
PhraseMatcher and, optionally, adds actors the registry does not know from spaCy's named entities.

Rules the finder follows:

- Matching is case-sensitive: "US" and "UN" never match "us" and "un". An alias starting lower-case
  ("the West") also matches with a capital first letter, and ' and ’ are interchangeable.
- Mentions never overlap; the longest wins, a registry alias beats an entity of the same length.
  A leading "the" is not part of a reported span.
- A phrase in the registry's ``ignore`` list blocks aliases inside it ("Washington" in "Washington Post").
  A name in its ``not_actors`` list (programmes, laws, religions, credit lines: "Medicaid", "Islam",
  "Getty Images") is never an actor: it blocks aliases inside it and a named entity with that name is dropped.
- An entity that wraps a registry match in words such as "Foreign Ministry" or "government" is that
  actor: "the Russian Defence Ministry" -> Russia.
- A short name (one or more leading or trailing words of a longer person or organisation name) takes the
  actor of the fuller name in the same document: "Sergei Lavrov ... Lavrov", "Wang Yi ... Wang". With
  no fuller name in the document, a registry short form ("Biden") gives its registry actor. When two
  different fuller names qualify, or two registry entries share the short form, it stays unresolved:
  the actor is the short form itself. A registry surname right after another given name ("Hunter Biden",
  "Mike Johnson") is a different person, with or without NER. A one-word alias of a state or body is a
  person's surname after a personal title ("Rep. Jordan") or after the article names that person in full
  ("Jim Jordan ... Jordan said"), but not after a preposition ("visited Jordan").
- Datelines ("BRUSSELS (Reuters) - ") at the start of a document are not mentions (:func:`outside_dateline`).
- Entities outside the registry: PERSON -> person, ORG -> organisation, GPE and LOC -> place, NORP only
  in the plural ("Palestinians", "Democrats") -> group. LOC is off unless asked for (``ner_labels``).
  The NER runs sentence by sentence, and only on sentences with a capitalised word that no alias, title,
  stop word or date explains (the others cannot hold a further entity), which saves most of its cost.

Example:
    >>> finder = ActorFinder(use_ner=False)
    >>> [(m.actor, m.text) for m in finder.find("Beijing warned the Kremlin.")]
    [('China', 'Beijing'), ('Russia', 'Kremlin')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from stance.pipeline.actor_registry import ActorRegistry, is_name_suffix
from stance.pipeline.actors.entities import entity_candidates
from stance.pipeline.actors.furniture import (
    SIGNATURE,
    capitalised_outside,
    capitals_lines,
    cut_before,
    headline_lines,
    hover_cards,
    in_speaker_tag,
)
from stance.pipeline.actors.mention import Candidate, Mention, outside_dateline
from stance.pipeline.actors.names import ArticleWords, acronym_candidates, chamber_in_title, names_us_state
from stance.pipeline.actors.ner_windows import NER_CONTEXT, ner_windows, sentences, window_doc
from stance.pipeline.actors.resolution import resolve
from stance.pipeline.actors.spacy_pipeline import DEFAULT_NER_LABELS, NER_TYPES, load_pipeline
from stance.pipeline.actors.surnames import given_names, introduced_surnames, split_surnames, surname_mentions, surname_not_alias
from stance.pipeline.actors.words import INSTITUTION_WORDS
from stance.run.settings import PARTY_MEMBERS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span


class ActorFinder:
    """Finds actor mentions: registry aliases, plus (``use_ner``) named entities the registry lacks.

    Example:
        >>> finder = ActorFinder()
        >>> for m in finder.find("Sergei Lavrov met Wang Yi. Lavrov said Washington erred."):
        ...     print(m.start, m.end, m.text, "->", m.actor)
        0 13 Sergei Lavrov -> Sergei Lavrov
        18 25 Wang Yi -> Wang Yi
        27 33 Lavrov -> Sergei Lavrov
        39 49 Washington -> United States
    """

    def __init__(
        self,
        registry: ActorRegistry | None = None,
        *,
        use_ner: bool = True,
        nlp: Language | None = None,
        ner_labels: Iterable[str] = DEFAULT_NER_LABELS,
        party_members: str = "party",
    ) -> None:
        """``registry`` defaults to the shipped one; ``nlp`` defaults to :func:`load_pipeline` (loaded on first use).
        ``party_members``: ``"party"`` counts a party's members ("Republicans") as the party; ``"separate"``
        reports them as a group of their own ("Republicans", type group).

        Example:
            >>> ActorFinder(use_ner=False, ner_labels=["PERSON", "LOC"]).use_ner
            False
        """
        if registry is not None and not isinstance(registry, ActorRegistry):
            raise ValueError(f"registry must be an ActorRegistry, got {type(registry).__name__}")
        labels = frozenset([ner_labels] if isinstance(ner_labels, str) else ner_labels)
        if unknown := sorted(labels - set(NER_TYPES)):
            raise ValueError(f"unknown NER label(s) {unknown} (expected some of {', '.join(NER_TYPES)})")
        if use_ner and nlp is not None and "ner" not in nlp.pipe_names:
            raise ValueError(f"use_ner=True needs a pipeline with 'ner'; this one has {nlp.pipe_names}")
        if party_members not in PARTY_MEMBERS:
            raise ValueError(f"party_members must be one of {', '.join(PARTY_MEMBERS)}, got {party_members!r}")
        self.party_members = party_members
        self.registry = registry if registry is not None else ActorRegistry.load()
        self.use_ner = use_ner
        self.ner_labels = labels
        self._nlp = nlp
        self._matcher: Any = None
        self._keys: list[
            tuple[tuple[str, ...], bool, bool]
        ] = []  # match key -> (actors, short form?, member plural?); () = ignore
        self._not_actors = frozenset(p.casefold() for p in self.registry.not_actors)
        self._single: dict[str, int] = {}  # one-token alias -> key, for tokens such as "U.S.-led"
        self._native_caps: set[str] = set()  # aliases written in capitals ("NATO"): no headline needed
        self._ner_context: int | None = (
            NER_CONTEXT  # ... and only on windows around the words that need it (None: whole sentences)
        )

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline (loaded on first use)."""
        if self._nlp is None:
            self._nlp = load_pipeline(self.use_ner)
        return self._nlp

    def find(self, text: str) -> list[Mention]:
        """Actor mentions in one document, sorted by start and non-overlapping.

        Example:
            >>> [(m.actor, m.text) for m in ActorFinder(use_ner=False).find("Let us ask the US.")]
            [('United States', 'US')]
        """
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        return self._find_batch([text])[0]

    def find_many(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[Mention]]:
        """Mentions for each document, one list per text, in order; streamed in batches of ``batch_size``.

        Documents are tokenised and matched against the registry first; only those with a capitalised word
        that no alias, title or stop word explains go through the NER (``nlp.pipe``), as the rest cannot
        contain a further entity.

        Example:
            >>> [len(ms) for ms in ActorFinder(use_ner=False).find_many(["NATO met.", "Nothing here."])]
            [1, 0]
        """
        if isinstance(texts, str):
            raise ValueError("texts must be an iterable of strings, not a single string (use find())")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self._stream(_checked(texts), batch_size)

    def find_doc(self, doc: Doc) -> list[Mention]:
        """Mentions in a Doc made with :attr:`nlp`'s vocab; its entities are used as they are (``use_ner``).

        Example:
            >>> finder = ActorFinder(use_ner=False)
            >>> finder.find_doc(finder.nlp("Kyiv replied."))[0].actor
            'Ukraine'
        """
        words = [t.text for t in doc]
        text = doc.text
        return self._mentions(doc, self._registry_candidates(doc, words, text), doc.ents, text, words)

    def _stream(self, texts: Iterator[str], batch_size: int) -> Iterator[list[Mention]]:
        while batch := list(islice(texts, batch_size)):
            yield from self._find_batch(batch)

    def _find_batch(self, texts: list[str]) -> list[list[Mention]]:
        from spacy.attrs import NORM
        from spacy.tokens import Span

        nlp = self.nlp
        docs = [nlp.tokenizer(t) for t in texts]  # not make_doc: its 1,000,000-character limit guards the parser, unused here
        words = [[t.text for t in d] for d in docs]  # read once: each spaCy token access builds an object
        found = [self._registry_candidates(d, w, t) for d, w, t in zip(docs, words, texts, strict=True)]
        ents: list[list[Span]] = [[] for _ in docs]
        if self.use_ner:
            # NER runs on the parts of sentences that need it (see find_many), each as a document of its own.
            jobs: list[tuple[int, int, Doc]] = []
            for i, (doc, cands) in enumerate(zip(docs, found, strict=True)):
                covered = {t for c in cands if c.source == 1 for t in range(c.token, c.token_end)}
                # only the windows that may hold an entity the registry did not match
                parts = [
                    w
                    for start, end in sentences(words[i])
                    for w in ner_windows(doc, words[i], start, end, covered, self._ner_context)
                ]
                whole = [(0, len(doc))]
                norms = doc.to_array([NORM]) if parts and parts != whole else None  # read once per document, for its windows
                for start, end in parts:
                    jobs.append((i, start, doc if parts == whole else window_doc(doc, start, end, norms)))
            tagged = nlp.pipe([job[2] for job in jobs], batch_size=max(len(jobs), 1))
            for (i, offset, _), part in zip(jobs, tagged, strict=True):
                ents[i].extend(Span(docs[i], offset + e.start, offset + e.end, label=e.label) for e in part.ents)
        return [self._mentions(*args) for args in zip(docs, found, ents, texts, words, strict=True)]

    def _mentions(self, doc: Doc, found: list[Candidate], ents: Iterable[Span], text: str, words: Sequence[str]) -> list[Mention]:
        first = _select(found + acronym_candidates(doc, words))
        ignored = [c for c in first if c.source == 0]
        ents = list(ents)
        headlines = headline_lines(text)  # the string itself: Doc.text rebuilds it from the tokens on every access
        named_outside = capitalised_outside(doc, words, headlines) if headlines else frozenset()
        places = {e.text for e in ents if e.label_ in ("GPE", "LOC", "FAC")}
        in_headlines = {t.text for s, e in headlines for t in doc.char_span(s, e, alignment_mode="expand") or ()}
        not_given = places | (in_headlines - named_outside)
        chosen = given_names(doc, [c for c in first if c.source != 0], not_given)
        if self.use_ner:
            entities = [
                e
                for e in entity_candidates(
                    doc,
                    ArticleWords(doc, words),
                    text,
                    ents,
                    [c for c in chosen if c.source == 1],
                    headlines,
                    named_outside,
                    self.registry,
                    self.ner_labels,
                    self._not_actors,
                )
                if not any(g.start <= e.start and e.end <= g.end and e.size < g.size for g in ignored)
            ]
            chosen = _select(chosen + entities)
        surnames = introduced_surnames(chosen, self.registry)
        chosen = [part for c in chosen for part in split_surnames(c, text, surnames)]
        chosen += surname_mentions(doc, words, chosen, ignored, surnames, headlines, named_outside)
        chosen = [c for c in chosen if not SIGNATURE.match(text, c.end)]
        cards = hover_cards(text)
        if cards:
            chosen = [cut_before(c, text, cards) for c in chosen if not any(s <= c.start < e for s, e in cards)]
            registry_at = {(c.start, c.end): c for c in first if c.source == 1}  # what a cut name ("Trump") is
            chosen = [registry_at.get((c.start, c.end), c) for c in chosen]
        chosen = [surname_not_alias(c, text, surnames, self.registry) for c in chosen]
        chosen.sort(key=lambda c: c.start)
        lead = len(text) - len(text.lstrip())
        return outside_dateline(list(resolve(chosen, text, self.registry, self.party_members)), text[lead:], lead)

    # -- matching --------------------------------------------------------------------------------------

    def _build_matcher(self) -> None:
        from spacy.matcher import PhraseMatcher

        nlp = self.nlp
        matcher = PhraseMatcher(nlp.vocab)
        table = self.registry.alias_table()
        for alias, names in table.items():
            actors = [self.registry[n] for n in names]
            short = all(alias in a.short_forms for a in actors)
            self._add(matcher, alias, (tuple(names), short, self.registry.is_member_form(alias)))
        for phrase in (*self.registry.ignore, *self.registry.not_actors):
            self._add(matcher, phrase, ((), False, False))
        self._matcher = matcher

    def _add(self, matcher: Any, phrase: str, info: tuple[tuple[str, ...], bool, bool]) -> None:
        key = len(self._keys)
        self._keys.append(info)
        variants = {phrase, phrase.replace("'", "’"), phrase.replace("’", "'")}
        variants |= {v[0].upper() + v[1:] for v in variants if v[0].islower()}
        from spacy.lang.en.stop_words import STOP_WORDS

        self._native_caps.update(v for v in variants if v.isupper())
        if phrase.lower() not in STOP_WORDS:  # "TRUMP" in a headline in capitals; never "MAY" or "US"
            variants |= {v.upper() for v in variants}
        docs = [self.nlp.make_doc(v) for v in sorted(variants)]
        matcher.add(str(key), docs)
        for d in docs:
            if len(d) == 1 and "." in d.text:
                self._single.setdefault(d.text, key)

    def _registry_candidates(self, doc: Doc, token_texts: Sequence[str], text: str) -> list[Candidate]:
        """Registry aliases and ignore phrases in ``doc`` (overlapping: :func:`_select` picks); ``token_texts``: its
        tokens' texts; ``text``: its text."""
        if self._matcher is None:
            self._build_matcher()
        out = []
        strings = doc.vocab.strings
        covered: set[int] = set()
        caps: set[int] | None = None  # the tokens of lines in capitals, found when a name in capitals is
        for match_id, s, e in self._matcher(doc):
            actors, short, member = self._keys[int(strings[match_id])]
            span = doc[s:e]
            if e - s == 1 and chamber_in_title(doc, s):
                continue  # "House Speaker", "Senate Republicans", "Speaker of the House": a title, not the chamber
            if span.text.isupper() and span.text not in self._native_caps:
                if caps is None:
                    caps = capitals_lines(token_texts)
                if not _name_in_capitals(doc, s, e, caps, text):
                    continue
            covered.update(range(s, e))
            lead = span[1].idx - span.start_char if len(span) > 1 and span[0].lower_ == "the" else 0
            words = tuple(t.text for t in span)[1 if lead else 0 :]
            source = 1 if actors else 0
            cand = Candidate(span.start_char, span.end_char, words, source, actors, short, member, lead=lead)
            cand.token, cand.token_end = s, e
            out.append(cand)
        # "U.S.-led": the tokenizer keeps a dotted abbreviation and a hyphenated word together.
        for i, word in enumerate(token_texts):
            if "-" in word and "." in word and i not in covered:
                tok = doc[i]
                head = word.split("-", 1)[0]
                key = self._single.get(head)
                if key is not None and self._keys[key][0]:
                    actors, short, member = self._keys[key]
                    cand = Candidate(tok.idx, tok.idx + len(head), (head,), 1, actors, short, member)
                    cand.token, cand.token_end = tok.i, tok.i + 1
                    out.append(cand)
        return out


def _name_in_capitals(doc: Doc, start: int, end: int, caps: set[int], text: str) -> bool:
    """Whether a registry name written in capitals (tokens ``start``..``end - 1``) is a mention: in a line written in
    capitals (``caps``), and not a transcript's speaker tag ("TRUMP:"), a chamber word ("HOUSE FIRE KILLS THREE",
    "SENATE REPUBLICANS"), a city before its state ("GARLAND, TX"), a name before a suffix ("DONALD TRUMP JR.") or
    the surname of a longer name the article writes ("HUNTER BIDEN" where the text names Hunter Biden: the NER does
    not read capitals, and Joe Biden would be credited)."""
    if start not in caps:
        return False
    if any(t.text == ":" for t in doc[end : end + 4]) and in_speaker_tag(doc, start, end - 1):
        return False  # (a tag's colon follows its name and role within a few tokens: no walk along a long line)
    after = doc[end] if end < len(doc) else None
    if end - start == 1 and doc[start].lower_ in INSTITUTION_WORDS:
        return False
    if after is not None and (
        is_name_suffix(after.text) or (after.text == "," and end + 1 < len(doc) and names_us_state(doc[end + 1].text))
    ):
        return False
    before = doc[start - 1] if start > 0 else None
    if before is not None and before.is_alpha and not before.is_stop:
        longer = f"{before.text.title()} {doc[start:end].text.title()}"
        if longer in text:
            return False
    return True


def _select(candidates: list[Candidate]) -> list[Candidate]:
    """Non-overlapping candidates: longest first; on a tie ignore phrase, registry, entity, then the leftmost."""
    taken: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.size, c.source, c.start)):
        if all(c.end <= t.start or t.end <= c.start for t in taken):
            taken.append(c)
    return taken


def _checked(texts: Iterable[str]) -> Iterator[str]:
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] must be a str, got {type(text).__name__}")
        yield text
