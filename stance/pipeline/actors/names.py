"""What looks like a name, and how a name is written out: a person's name without initials, an organisation's
acronyms (and organisations an article names with their acronym in brackets), a government body named through its
state, an institution word that is part of a title ("House Speaker"), the shape checks an NER entity must pass
(no run-together words, tickers, laws, case titles, speaker tags or picture credits), a given name before a surname,
and the name a place is counted under (state abbreviations, county lists)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stance.pipeline.actor_registry import ActorRegistry, is_name_suffix
from stance.pipeline.actors.furniture import in_speaker_tag, is_headline, line_start
from stance.pipeline.actors.mention import Candidate
from stance.pipeline.actors.words import (
    CALENDAR,
    CONNECTORS,
    HONORIFICS,
    INSTITUTION_WORDS,
    NAME_PARTICLES,
    QUOTE_MARKS,
    STOPS,
    TITLES,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


def given_and_surname(parts: list[str]) -> str:
    """A person's name without initials: ["N.", "Randy", "Smith"] -> "Randy Smith", ["John", "A.", "Boehner"]
    -> "John Boehner"; a suffix ("Jr.") stays. Middle names stay too ("Khushal Khan Khattak"): in many
    naming traditions the middle word is part of the surname, which a rule cannot tell."""
    parts = list(parts)
    suffix = [parts.pop()] if len(parts) > 2 and is_name_suffix(parts[-1]) else []
    kept = [w for w in parts[:-1] if not _is_initial(w)] or parts[:1]
    return " ".join([*kept, parts[-1], *suffix])


def _is_initial(word: str) -> bool:
    """ "A.", "J", "H.W.": a middle initial."""
    letters = word.replace(".", "")
    return 0 < len(letters) <= 2 and letters.isupper() and (len(letters) == 1 or "." in word)


def _initials(name: str) -> str:
    """The acronym of a name: its capitalised words' first letters ("Consumer Financial Protection Bureau" -> "CFPB")."""
    return "".join(w[0] for w in name.replace("-", " ").split() if w[:1].isupper() and w.lower() not in NAME_PARTICLES)


_COUNTRY_PREFIXES = frozenset({"U.S.", "US", "U.S", "UK", "U.K.", "EU"})


def acronyms(name: str) -> set[str]:
    """The acronyms a name may go by: its initials, and without a leading country ("U.S. Customs and Border
    Protection" -> "USCBP", "CBP")."""
    words = name.split()
    out = {_initials(name)}
    if len(words) > 2 and words[0] in _COUNTRY_PREFIXES:
        out.add(_initials(" ".join(words[1:])))
    return out


_ACRONYM = re.compile(r"[A-Z]{2,8}")


def acronym_candidates(doc: Doc, words: Sequence[str]) -> list[Candidate]:
    """Organisations an article names with their acronym in brackets, "U.S. Immigration and Customs Enforcement
    (ICE)": the name (its capitalised words spell the acronym; a leading "U.S." belongs to the name) and every
    mention of the acronym in the article, as organisation entities, with or without the NER's help."""
    defined: dict[str, Candidate] = {}
    for i in range(1, len(words) - 2):
        acronym = words[i + 1]
        if words[i] != "(" or words[i + 2] != ")" or not _ACRONYM.fullmatch(acronym) or acronym in defined:
            continue
        for j in range(i - 1, max(i - 9, -1), -1):
            if not (words[j][:1].isupper() or words[j].lower() in NAME_PARTICLES):
                break
            if words[j][:1].isupper() and _initials(" ".join(words[j:i])) == acronym:
                if j > 0 and words[j - 1] in _COUNTRY_PREFIXES:
                    j -= 1
                span = doc[j:i]
                defined[acronym] = Candidate(span.start_char, span.end_char, tuple(words[j:i]), 2, label="ORG")
                break
    if not defined:
        return []
    out = list(defined.values())
    for i, word in enumerate(words):
        if word in defined:
            tok = doc[i]
            out.append(Candidate(tok.idx, tok.idx + len(word), (word,), 2, label="ORG"))
    return out


_DEPARTMENT_WORDS = frozenset(
    """trade commerce treasury justice defense defence energy labor labour education health interior agriculture
    transportation transport homeland security finance foreign home housing veterans environment economy state
    human services""".split()
)
_AGENCY_NOUNS = frozenset({"Department", "Ministry", "Agency", "Bureau"})
# Words of a government body's name after its state ("U.S. Supreme Court", "U.S. Department of Agriculture");
# at least one of them an institution word. Not "party", "chamber", "board": "U.S. Chamber of Commerce" is not the state.
_BODY_WORDS = (INSTITUTION_WORDS - {"party", "chamber", "board"}) | frozenset(
    """courts supreme district circuit appeals census marines marine corps coast guard service postal economic
    advisers advisors attorney general forces""".split()
)
_ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh 1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th".split()
)
_STATE_BODY_NAME = (
    CONNECTORS | _DEPARTMENT_WORDS | _BODY_WORDS | NAME_PARTICLES | _ORDINALS
)  # all the words a body's name may hold


def state_body(inside: Candidate, start: int, rest: list[Token], registry: ActorRegistry) -> bool:
    """Whether an entity that starts with a state's registry match (``inside``) and goes on with ``rest``
    names a government body of that state, which the annotation guide counts as the state: "U.S. Department
    of Agriculture", "U.S. Sixth Circuit Court of Appeals", "White House Council of Economic Advisers"; not
    "U.S. Steel", "American Airlines", "U.S. Chamber of Commerce"."""
    if inside.start != start or inside.short or len(inside.actors) != 1 or registry[inside.actors[0]].type != "state":
        return False
    words = [t.lower_ for t in rest if not t.is_punct]
    return bool(words) and all(w in _STATE_BODY_NAME for w in words) and any(w in _BODY_WORDS for w in words)


_CREDIT_WORDS = frozenset({"photo", "photos", "photograph", "image", "images", "credit", "courtesy", "via", "pictured", "video"})


def chamber_in_title(doc: Doc, i: int) -> bool:
    """Whether token ``i`` is a bare institution word ("House", "Senate", ...) that is part of a title or of a
    description of members, not a mention of the chamber: "House Speaker", "Senate Minority Leader", "House
    Republicans", "Speaker of the House". The one check of the registry and the NER paths."""
    if doc[i].lower_.strip(QUOTE_MARKS) not in INSTITUTION_WORDS:
        return False
    after = doc[i + 1] if i + 1 < len(doc) else None
    if after is not None and after.is_title and after.is_alpha:
        return not _heads_headline_verb(doc, i)
    return i >= 3 and doc[i - 1].lower_ == "the" and doc[i - 2].lower_ == "of" and doc[i - 3].lower_ in TITLES  # "speaker" is one


_HEADLINE_VERBS = frozenset(
    """passes approves votes rejects blocks confirms advances clears kills sends backs fails acquits convicts
    impeaches overrides censures expels adjourns""".split()
)


def _heads_headline_verb(doc: Doc, i: int) -> bool:
    """Whether the chamber word at token ``i`` starts a title-case headline whose next word is a common verb of
    a chamber's business ("Senate Passes Budget"): the subject of the headline, not part of a title."""
    if (i > 0 and not line_start(doc[i - 1])) or doc[i + 1].lower_ not in _HEADLINE_VERBS:
        return False
    end = i
    while end < len(doc) and "\n" not in doc[end].text:
        end += 1
    return is_headline(doc[i:end].text, first=False)


_VERSUS = frozenset({"v.", "vs.", "v", "vs"})
_RUN_TOGETHER = re.compile(r"^(?!(?:Fitz|Vander|Vanden|Della|Delle)[A-Z])(?:[A-Z][a-z]{3,}|[a-z]{2,})[A-Z][a-z]")
"""A word that is two words run together ("BidenHouse", "companyLas"): a lower-case letter followed by a capital
after four or more letters (or at once when the word starts in lower case). Not "McConnell", "DeSantis",
"MacArthur", "LeBron", "YouTube" (their capital comes after at most three letters), nor the name prefixes
"FitzGerald", "VanderMeer"."""


def looks_like_name(doc: Doc, toks: list[Token], label: str) -> bool:
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
    if any(t.is_stop and t.text[:1].isupper() and t.lower_ not in NAME_PARTICLES for t in toks[1:]):
        return False
    letters = [w for w in words if any(ch.isalpha() for ch in w)]
    if len(letters) >= 2 and all(w.isupper() and len(w) > 1 for w in letters):
        return False
    if all(w.lower() in _DEPARTMENT_WORDS or w.lower() in CONNECTORS for w in words) and not any(
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
    if in_speaker_tag(doc, first, last):
        return False  # a speaker, not a mention in the text
    if (after is not None and after.text == "/") or (before is not None and before.text == "/"):
        return False
    near = {t.lower_ for t in doc[max(0, first - 3) : first]}
    return not (near & _CREDIT_WORDS and near & {":", "by", "/"})


def other_given_name(doc: Doc, i: int) -> bool:
    """Whether token ``i``, just before a registry surname, looks like another person's given name."""
    tok = doc[i]
    if not (tok.is_alpha and tok.is_title) or tok.is_stop:
        return False
    return not (tok.lower_ in CONNECTORS or tok.lower_ in HONORIFICS or tok.lower_ in CALENDAR)


def normalise(surface: str) -> str:
    """``surface`` with each run of whitespace made one space: a name as it is counted."""
    return " ".join(surface.split())


# US states as news agencies abbreviate them (AP style, and the two-letter postal codes that follow a city:
# "Tampa, FL"): a place named so is counted under the state's name. "Mass.", "Miss.", "Ill." are left out:
# "attended Mass.", "Miss. Smith", "fell ill." end sentences too.
_US_STATES = {
    "Ala.": "Alabama", "Ariz.": "Arizona", "Ark.": "Arkansas", "Calif.": "California", "Colo.": "Colorado",
    "Conn.": "Connecticut", "Del.": "Delaware", "Fla.": "Florida", "Ga.": "Georgia (US state)", "Ind.": "Indiana",
    "Kan.": "Kansas", "Kans.": "Kansas", "Ky.": "Kentucky", "La.": "Louisiana", "Md.": "Maryland", "Mich.": "Michigan",
    "Minn.": "Minnesota", "Mo.": "Missouri", "Mont.": "Montana", "Neb.": "Nebraska", "Nev.": "Nevada",
    "N.H.": "New Hampshire", "N.J.": "New Jersey", "N.M.": "New Mexico", "N.Y.": "New York", "N.C.": "North Carolina",
    "N.D.": "North Dakota", "Okla.": "Oklahoma", "Ore.": "Oregon", "Pa.": "Pennsylvania", "R.I.": "Rhode Island",
    "S.C.": "South Carolina", "S.D.": "South Dakota", "Tenn.": "Tennessee", "Tex.": "Texas", "Vt.": "Vermont",
    "Va.": "Virginia", "Wash.": "Washington", "W.Va.": "West Virginia", "W. Va.": "West Virginia", "Wis.": "Wisconsin",
    "Wyo.": "Wyoming", "FL": "Florida", "TX": "Texas", "CA": "California", "NY": "New York", "NJ": "New Jersey",
    "PA": "Pennsylvania", "OH": "Ohio", "GA": "Georgia (US state)", "NC": "North Carolina", "VA": "Virginia", "AZ": "Arizona",
    "NY State": "New York", "New York State": "New York",
}  # fmt: skip


# One way only to read a list ("Kalamazoo, St. Joseph, Van Buren and Berrien counties"): items are joined by a
# comma or "and"/"or", never by a bare space, so the match takes time linear in the text (a bare-space separator
# made it exponential on long title-case lines).
_NAME_WORDS = r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*"
COUNTIES_AFTER = re.compile(rf"(?:(?:, (?:and |or )?| (?:and|or) ){_NAME_WORDS})* counties\b")


# A US state that shares its name with a state of the registry: in an article with no sign of the country it is the
# US state, a place of its own name (tables key actors by name: the country and the state would be counted as one).
_US_STATE_HOMONYMS = {
    "Georgia": (
        "Georgia (US state)",
        re.compile(
            r"\b(?:Tbilisi|Georgian(?!s)|South Ossetia|Abkhazia|Saakashvili|Ivanishvili|Kobakhidze|Zourabichvili|Caucasus"
            r"|Armenia|Azerbaijan|Moldova|(?:invaded|invasion of|war in|Ukraine and) Georgia|Georgia and Ukraine)\b",
            re.IGNORECASE,
        ),
    ),
}


def us_state_homonym(actor: str, surface: str, text: str) -> str | None:
    """The US state a registry state's name stands for in ``text``, or None: "Georgia" (in any case) in an
    article that names neither Tbilisi, the adjective "Georgian" (the state's residents are "Georgians" too),
    South Ossetia, Abkhazia, the country's leaders, its neighbours, nor a war in or an invasion of Georgia is the
    US state (of 2,000 AllSides articles, 92 wrote "Georgia" and 89 show no sign of the country). "Georgian" and
    "Tbilisi" always name the country.

    Example:
        >>> us_state_homonym("Georgia", "Georgia", "Trump leads in Arizona, Georgia and Ohio.")
        'Georgia (US state)'
        >>> us_state_homonym("Georgia", "Georgia", "Russian troops stayed in Georgia after the war in South Ossetia.") is None
        True
    """
    entry = _US_STATE_HOMONYMS.get(actor)
    if entry is None or not surface.casefold().startswith(actor.casefold()) or entry[1].search(text):
        return None
    return entry[0]


def names_us_state(word: str) -> bool:
    """Whether ``word`` is a US state's abbreviation or postal code ("Ga.", "TX").

    Example:
        >>> names_us_state("TX"), names_us_state("TRUMP")
        (True, False)
    """
    return word in _US_STATES


def place_name(surface: str) -> str:
    """The name a place the registry lacks is counted under: a state's abbreviation spelled out ("Calif." ->
    "California", "Tampa, FL" -> "Florida"), else the name as written."""
    name = normalise(surface)
    return _US_STATES.get(name, name)


_GIVEN_NAME_WORDS = frozenset(
    """al amber april art ash august ban beverly bill bin bob buck carter cash channing chase chip chris chuck cliff crystal
    dale dawn dean dick don drew dusty earl ed faith frank gene glen grace grant guy harry hope hunter iris irving ivy
    jack jay joy june kimberly kit lance major manning mark max may miles mike mohammed muhammed nick pat penny pete pierce
    randy ray reed rex rich rob rocky rod rose ruby rush rusty sandy sterling sue summer sunny ted tip victor wade
    will young""".split()
)
"""Given names that are also common words ("Bill Cassidy", "Hope Hicks", "Will Hurd"): never taken for a word
glued to a name, even where the article writes them in lower case."""
_OPENERS = frozenset(
    """despite following amid including regarding concerning considering given unlike per via like maybe perhaps later
    earlier having asked told meanwhile instead indeed eventually initially certainly clearly apparently similarly
    reportedly repeatedly ultimately finally recently previously currently notably obviously presumably""".split()
)
"""Words that open a sentence before a name and are neither stop words nor names ("Despite Trump's claims",
"Eventually Ryan agreed"). Not "said" ("Said Jalili"), nor a rule for adverbs in -ly ("Connolly", "Donnelly")."""


class ArticleWords:
    """The words of one document as the common-word rules read them, each worked out once: ``lowered``, those
    it writes in lower case; where each word stands; whether it writes a word capitalised other than at a
    sentence's start. (Scanning the document for each entity made long documents quadratic: 7.5 s for 30,000
    tokens.)"""

    def __init__(self, doc: Doc, words: Sequence[str]) -> None:
        self.doc, self.words = doc, words
        self.lowered = frozenset(w for w in words if w.islower())
        self._positions: dict[str, list[int]] | None = None
        self._mid_sentence: dict[str, bool] = {}

    def positions(self, word: str) -> list[int]:
        """The token indices where the document writes ``word``."""
        if self._positions is None:
            self._positions = {}
            for j, w in enumerate(self.words):
                self._positions.setdefault(w, []).append(j)
        return self._positions.get(word, [])

    def capitalised_mid_sentence(self, word: str) -> bool:
        """Whether the document writes ``word`` somewhere other than at a sentence's start: then its capital is a
        name's, not the sentence's."""
        if word not in self._mid_sentence:
            self._mid_sentence[word] = any(not _starts_sentence(self.doc, j) for j in self.positions(word))
        return self._mid_sentence[word]


def _common_word(lower: str, lowered: frozenset[str] = frozenset()) -> bool:
    """Whether a lower-cased word is a common word rather than a given name: a stop word, a sentence opener
    or adverb ("despite", "eventually"), a long verb form ("describing", "criticized"), or one the article writes in lower case
    (``lowered``; weaker evidence: "dean", "rod"); never one of the given names that are also words, nor a name
    particle."""
    from spacy.lang.en.stop_words import STOP_WORDS

    if lower in _GIVEN_NAME_WORDS or lower in NAME_PARTICLES:
        return False
    return (
        lower in STOP_WORDS
        or lower in _OPENERS
        or (lower.endswith("ing") and len(lower) >= 7)
        or (lower.endswith("ed") and len(lower) >= 8)
        or lower in lowered
    )


def common_word_at_start(doc: Doc, i: int, lowered: frozenset[str] = frozenset()) -> bool:
    """Whether token ``i`` is a common word (:func:`_common_word`, with the article's lower-case words ``lowered``
    as evidence only where given) capitalised only because it starts a sentence or a line: "Despite" in "Despite
    Hunter Biden's dismissal", "Lava" in "Lava spatters can weigh a ton." (``lowered`` given), never "Bill" in
    "Bill Cassidy said"."""
    tok = doc[i]
    return tok.is_alpha and tok.is_title and _common_word(tok.lower_, lowered) and _starts_sentence(doc, i)


def leading_common_word(doc: Doc, toks: Sequence[Token], words: ArticleWords) -> bool:
    """Whether the first of a PERSON entity's tokens ``toks`` is a common word the NER ran into the name after
    it ("Despite Hunter Biden's dismissal", "Female San Bernardino suspect", "MUST WATCH Obama"), so that the
    name is the rest: a common word at a sentence's start (:func:`common_word_at_start`; that the article writes
    it in lower case counts only before a name of two words or more: "Dean Phillips said" keeps its given name),
    or one in capitals where the rest is not; and the article names the rest elsewhere without this word before
    it ("New York" stays whole where every "York" follows "New"). A headline's words are
    :func:`longest_name_run`'s business."""
    if len(toks) < 2:
        return False
    first, rest = toks[0], toks[1:]
    if not rest[0].text[:1].isupper():
        return False
    lowered = words.lowered if len(rest) > 1 else frozenset()
    shouting = (
        len(first.text) > 1
        and first.is_alpha
        and first.is_upper
        and _common_word(first.lower_, words.lowered)
        and not all(t.is_upper for t in rest if t.is_alpha)
    )
    if not shouting and not common_word_at_start(doc, first.i, lowered):
        return False
    names = [t.text for t in rest]
    text = words.words
    return any(
        j != rest[0].i and (j == 0 or text[j - 1] != first.text) and list(text[j : j + len(names)]) == names
        for j in words.positions(names[0])
    )


def _starts_sentence(doc: Doc, i: int) -> bool:
    """Whether token ``i`` is the first word of a sentence or a line (quotation marks and brackets before it
    aside)."""
    j = i - 1
    while j >= 0 and (doc[j].text in QUOTE_MARKS or doc[j].is_bracket) and "\n" not in doc[j].text:
        j -= 1
    return j < 0 or line_start(doc[j]) or doc[j].text in STOPS or doc[j].text in (":", "—", "–")
