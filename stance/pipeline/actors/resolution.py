"""Naming: the actor each candidate stands for. Full names and aliases name their actor; a short name
("Lavrov", "President Trump", "Mr. Wang") goes to a fuller name the article writes (the most mentioned one) or to
the registry's one bearer, read with nicknames ("Nick" for "Nicholas"), the sex an honorific and the article's
own words give, kin words ("the elder Trump") and office titles; what nothing explains stays ``ambiguous`` or
``unresolved``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from stance.pipeline.actor_registry import ActorRegistry, is_part, without_suffix
from stance.pipeline.actors.mention import Candidate, Mention
from stance.pipeline.actors.names import COUNTIES_AFTER, acronyms, given_and_surname, normalise, place_name, us_state_homonym
from stance.pipeline.actors.spacy_pipeline import NER_TYPES
from stance.pipeline.actors.words import INSTITUTION_WORDS, POSSESSIVES


def resolve(chosen: list[Candidate], text: str, registry: ActorRegistry, party_members: str) -> Iterator[Mention]:
    """Name each candidate. Full names and aliases name their actor. A short name ("Lavrov", "President
    Trump", "Mr. Wang") goes, in this order, to (1) the registry's bearers of that short form that the
    article names in full, or the registry's one bearer where a mention carries an office title ("President
    Trump"); (2) the people (or, for an organisation's short name, organisations) the article names in
    full with those words; (3) the registry's one bearer. Within a step the most mentioned wins; a tie is
    ``ambiguous``. "the elder Trump" and the like point to another bearer than the one chosen. After "Mr." or
    "Mrs.", "Ms.", "Miss", a bearer the article's own words give the other sex is skipped ("first lady
    Melania Trump ... Mr. Trump"), and one they give that sex is preferred ("her husband, Paul Pelosi ...
    Mr. Pelosi"); without such words the honorific decides nothing."""
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
            name = _full_name(c, text, registry)
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
            for key in acronyms(n.name):
                initials[key] = None if initials.get(key, n.name) != n.name else n.name
    titled = {c.words for c in chosen if c.short and len(c.actors) == 1 and _has_office_title(text, c.start)}
    for c in chosen:
        start = c.start + c.lead
        surface = text[start : c.end]
        if c.source == 1 and not c.short:
            actor = registry[c.actors[0]]
            state = us_state_homonym(actor.name, surface, text) if actor.type == "state" else None
            if state is not None:  # "Georgia" in a US story: the US state
                yield Mention(state, "place", surface, start, c.end)
                continue
            if c.member and party_members == "separate":
                yield Mention(normalise(surface), "group", surface, start, c.end)
            else:
                yield Mention(actor.name, actor.type, surface, start, c.end)
            continue
        if c.source == 2 and COUNTIES_AFTER.match(text, c.end):
            # "Kalamazoo, Van Buren and Berrien counties": each is a county, whatever the NER typed it
            yield Mention(f"{normalise(surface)} County", "place", surface, start, c.end)
            continue
        own_type = "person" if c.source == 1 else NER_TYPES[c.label]
        if c.label == "ORG" and len(c.words) == 1 and c.words[0].lower() in INSTITUTION_WORDS:
            # "House", "Senate": a name of its own, not short for "House Judiciary Committee"
            yield Mention(normalise(surface), own_type, surface, start, c.end)
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
            bearers = [n for n in bearers if n.type == "person" and any(_surname(w) == c.words[0] for w in n.words)] or bearers
        elif len(c.words) == 1:  # "Loomer": Laura Loomer, not the NER's "Loomer Tweeted"
            bearers = [n for n in bearers if any(_surname(w) == c.words[0] for w in n.words)] or bearers
        if not bearers and not c.actors and (c.label != "PERSON" or len(c.words) > 1):
            full = initials.get(c.words[0]) if len(c.words) == 1 and c.words[0].isupper() else None
            if full is not None:  # an acronym of an organisation the article names in full
                yield Mention(full, "organisation", surface, start, c.end, "article")
            elif c.source == 2 and c.label == "PERSON":
                name = _full_name(c, text, registry)
                name = nicknamed.get(name, name)
                yield Mention(name, registry[name].type if name in registry else "person", surface, start, c.end)
            elif own_type == "place":
                yield Mention(place_name(surface), own_type, surface, start, c.end)
            else:
                yield Mention(normalise(surface), own_type, surface, start, c.end)  # a name of its own
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
            name = normalise(surface)
            if name.isupper() and c.actors:  # "SANDERS" in a headline in capitals: counted as "Sanders", as elsewhere
                name = next((f for a in c.actors for f in registry[a].short_forms if f.upper() == name), name)
            yield Mention(name, own_type, surface, start, c.end, how)
        else:
            yield Mention(pick.name, pick.type, surface, start, c.end, how)


def _surname(words: tuple[str, ...]) -> str:
    """A full name's surname: its last word, a suffix aside ("King" of "Martin Luther King Jr.")."""
    return without_suffix(words)[-1]


def _full_name(c: Candidate, text: str, registry: ActorRegistry) -> str:
    """The actor an NER full name stands for: the registry's entry when the name, or the name without
    initials, is one of its names; else a person's name without initials ("John A. Boehner" -> "John
    Boehner", "N. Randy Smith" -> "Randy Smith")."""
    name = normalise(text[c.start : c.end])
    parts = name.split()
    if c.label != "PERSON" or len(parts) < 3:
        return name
    short = given_and_surname(parts)
    for candidate in (name, short):
        owners = registry.lookup(candidate)
        if len(owners) == 1 and owners[0].type == "person":
            return owners[0].name
    return short


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


_NAME_GOES_ON = frozenset({"of", "for", "and", "&", "on", "in", "to", "at"}) | POSSESSIVES  # see _names_a_part


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
