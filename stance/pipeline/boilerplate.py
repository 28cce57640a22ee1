"""Boilerplate and dateline detection: telling a news article's page furniture from its story.

Text that an HTML extractor leaves around a story (link lines such as "Read more: ...", credits such as
"Reporting by ...", share buttons, bylines, date lines, a repeated headline, site names and section labels
above the story) is recognised here with English patterns, on plain strings: a whole line
(:func:`is_boilerplate_line`, and :func:`line_flags` for the lines of one article, which knows where the
story starts), or a sentence inside a story paragraph (:func:`is_boilerplate_sentence`). Datelines
("MOSCOW (Reuters) - ") are found by :func:`dateline_length` and are never boilerplate. The sentence
splitters of :mod:`stance.pipeline.sentences` use these rules to flag their sentences ``boilerplate=True``
(sentences repeated down a page are flagged there, over the split sentences); this module knows nothing of
their ``Sentence`` type or of spaCy.
"""

from __future__ import annotations

import re

__all__ = [
    "check_text",
    "check_title",
    "dateline_length",
    "is_boilerplate_line",
    "is_boilerplate_sentence",
    "is_dateline_only",
    "line_flags",
]


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def check_text(text: object, what: str = "text") -> str:
    """``text`` if it is a str; a ValueError naming ``what`` otherwise (the splitters' and the rules' input check)."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a str, got {type(text).__name__}")
    return text


def check_title(title: object) -> str | None:
    """``title`` if it is a str or None; a ValueError otherwise."""
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a str or None, got {type(title).__name__}")
    return title


# --------------------------------------------------------------------------------------------
# Boilerplate rules
# --------------------------------------------------------------------------------------------

# Lines and sentences that are boilerplate wherever they stand, matched at their start:
_BOILERPLATE_START_RE = re.compile(
    # link lines: "See also ...", "Read more: ...", "Related: ..." (the weaker openers need a separator)
    r"(?:see\s+also|read\s+more|read\s+also|also\s+read|read\s+next|click\s+here|more\s+on\s+this\s+story)\b"
    r"|(?:related(?:\s+(?:coverage|content|articles?|stories|news|topics|reading|links?))?|more\s+coverage"
    r"|further\s+reading|recommended(?:\s+(?:reading|stories|articles?|videos?))?|most\s+read|trending"
    r"|editor['’]?s\s+picks?|watch|listen|learn\s+more|more)\s*(?:[:|›»>]|[-–—]\s)"
    # credits and legal lines: "— With assistance from ...", "With assistance from Jane Doe.", "© 2025 ..."
    r"|[-–—]\s*with\s+(?:additional\s+)?(?:assistance|reporting)\s+(?:from|by)\b"
    r"|with\s+(?:additional\s+)?(?:assistance|reporting)\s+(?:from|by)\s+[^,;.]{1,80}\.?$"
    r"|our\s+standards:|copyright\s+(?:©|\(c\)|\d{4})|©|\(c\)\s*\d{4}"
    r"|this\s+(?:article|story|report)\s+(?:was|has\s+been)\s+(?:updated|amended|corrected)\b"
    # picture credits: "Photo: Reuters", "(Photo by Jane Doe/AFP)"
    r"|(?:file\s+)?(?:photo|photograph|image|picture|video|credit|illustration)s?\s*:"
    r"|\(?(?:file\s+)?(?:photo|photograph|image|picture|illustration)s?\s+by\s+[^.]{1,60}\)?$"
    # share / subscribe / follow lines
    r"|(?:sign\s+up|subscribe|register)\b.{0,80}?\b(?:newsletters?|updates|alerts|briefings?|digest|podcast)\b"
    r"|(?:sign\s+up|subscribe)(?:\s+(?:now|today|here|for\s+free))?\W*$"
    r"|(?:you\s+can\s+(?:also\s+)?)?follow\s+(?:us|@?[\w.]+(?:\s+[\w.'’\-]+){0,3})\s+on\s+(?:twitter|x|facebook|instagram|linkedin"
    r"|threads|bluesky|telegram|tiktok|youtube|mastodon|whatsapp|google\s+news)\b"
    r"|(?:like|find)\s+us\s+on\b"
    r"|take\s+our\s+poll\b|story\s+continues\s+below\W*$|[\d.,]+k?\s+shares(?:\W+(?:facebook|twitter|email|share|tweet|pinterest|reddit))*\W*$"  # widgets, share bars
    r"|interested\s+in\s+[^?]{1,60}\?\W*$|add\s+.{1,60}?\s+as\s+an\s+interest\b"  # a news site's topic widget
    # a poll or sign-up form: "Email *", "Phone This field is for validation purposes ...", "Completing this
    # poll grants you access to ... updates", "You may opt out at anytime.", "You also agree to this site's Privacy Policy"
    r"|(?:email|phone|name)\s*\*\W*$|(?:(?:email|phone|name)\s+)?this\s+field\s+is\s+for\s+validation\b"
    r"|completing\s+this\s+(?:poll|survey|form)\b|you\s+may\s+opt\s+out\s+at\s+any\s*time\b"
    r"|you\s+(?:also\s+)?agree\s+to\s+(?:this|our)\s+site['’]?s\s+privacy\s+policy\b"
    r"|(?:download|get)\s+(?:our|the)\s+.{0,30}?\bapp\b"
    r"|(?:advertisement|sponsored(?:\s+content)?|skip\s+advert(?:isement)?|continue\s+reading(?:\s+below)?)\W*$"
    # a bare link
    r"|(?:https?://|www\.)\S+$",
    re.IGNORECASE,
)
# ... and at their end ("Jane Doe in Moscow contributed to this report."), searched only when one of
# the keywords occurs.
_BOILERPLATE_END_RE = re.compile(
    r"\bcontributed\s+(?:additional\s+)?(?:to\s+(?:this|the)\s+(?:report|story|article|reporting)|reporting)\W*$"
    r"|\ball\s+rights\s+reserved\W*$"
    r"|\bsign\s+up\s+(?:for|to)\s+(?:our|the)\b.{0,40}?\bnewsletter",
    re.IGNORECASE,
)
_BOILERPLATE_END_KEYWORDS = ("contribut", "reserved", "newsletter")

# Credit lines: "Reporting by Jane Doe in Moscow; Editing by John Roe", "(Writing by ...)". Their
# other words are names or from _CREDIT_WORDS, so "Reporting by the BBC showed that ..." is story.
_CREDIT_START_RE = re.compile(
    r"\(?\s*(?:additional\s+|editing\s+and\s+)?(?:reporting|writing|editing|research|compiled|translation"
    r"|translated|graphics|fact-checking|production)\s+by\b",
    re.IGNORECASE,
)
_CREDIT_WORDS = frozenset(
    "additional reporting writing editing research compiled translation translated graphics fact checking "
    "production by and in at from of the for with staff bureau newsroom desk team de van von der al el bin da "
    "du le la y".split()
)

# A line made only of button labels ("Share | Tweet | Email", "5 min read", "Listen").
_BUTTON_STRONG = frozenset(
    "share tweet email e-mail print save copy facebook twitter whatsapp linkedin reddit telegram pinterest "
    "messenger comments comment bookmark listen min mins advertisement".split()
)
_BUTTON_WORDS = _BUTTON_STRONG | frozenset(
    "e mail link this article story page on via gift read minute minutes audio options more close menu back "
    "to top the show hide caption expand toggle ad x".split()
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_DIGIT_RE = re.compile(r"\d")

# Date / time lines: "March 3, 2024", "Updated 3:45 PM ET", "Published Tue 4 Mar 2025 09.12 GMT".
_DATE_LABEL_RE = re.compile(
    r"(?:(?:last|first)\s+)?(?:updated|published|posted|modified|created|edited|uploaded)(?:\s+(?:on|at))?\s*:?\s*",
    re.IGNORECASE,
)
_DATE_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "a p m am pm noon midnight at on of the st nd rd th and local time ago today yesterday "
    "hour hours hr hrs h minute minutes min mins day days week weeks "
    "et est edt ct cst cdt mt mst mdt pt pst pdt gmt utc bst cet cest eet eest msk ist jst kst hkt aest aedt z".split()
)

# Bylines: "By Jane Doe", "By JANE DOE and John Roe, Capital Daily Wire".
_BYLINE_RE = re.compile(r"by\s+[A-Z]", re.IGNORECASE)
_BYLINE_LOWER_OK = frozenset(
    "by and in of the for at with from staff reporter reporters correspondent correspondents writer writers "
    "editor editors news contributor senior chief political foreign diplomatic de van von der al el bin da du "
    "le la y".split()
)

_CLOSERS = "\"”’')]»"
_TERMINAL = ".!?" + _CLOSERS + ":;…"
_HEADER_MAX_WORDS = 12
_BREADCRUMB_RE = re.compile(r"\s(?:\||›|»|>|/)\s")


def _is_date_line(line: str) -> bool:
    if len(line) > 90:
        return False
    label = _DATE_LABEL_RE.match(line)
    rest = line[label.end() :] if label else line
    if not rest or not (label or _DIGIT_RE.search(rest)):
        return False
    return all(word.lower() in _DATE_WORDS for word in _WORD_RE.findall(rest))


def _is_byline(line: str) -> bool:
    if len(line) > 120 or line[-1] in ".!?" or not _BYLINE_RE.match(line):
        return False
    words = _WORD_RE.findall(line)
    if len(words) > 16:
        return False
    return all(word[0].isupper() or word in _BYLINE_LOWER_OK for word in words[1:])


def _is_button_line(line: str) -> bool:
    if len(line) > 100:
        return False
    words = [word.lower() for word in _WORD_RE.findall(line)]
    if not words or len(words) > 12:
        return False
    return all(word in _BUTTON_WORDS for word in words) and any(word in _BUTTON_STRONG for word in words)


def _normalize_headline(text: str) -> str:
    text = text.translate(_QUOTE_NORMALIZATION).casefold()
    return " ".join(text.split()).strip(" .!?:;\"'")


_QUOTE_NORMALIZATION = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})
_HEADLINE_SUFFIX_RE = re.compile(r"\s*[|\-:]\s*[^.!?]{0,40}$")


def _is_repeated_headline(line: str, title: str | None) -> bool:
    if not title:
        return False
    norm_line, norm_title = _normalize_headline(line), _normalize_headline(title)
    if not norm_title:
        return False
    if norm_line == norm_title:
        return True
    # "Headline | Outlet" or "Headline - Outlet"
    return norm_line.startswith(norm_title) and bool(_HEADLINE_SUFFIX_RE.fullmatch(norm_line, len(norm_title)))


def _is_credit(text: str) -> bool:
    if len(text) > 300 or not _CREDIT_START_RE.match(text):
        return False
    return all(word[0].isupper() or word.lower() in _CREDIT_WORDS for word in _WORD_RE.findall(text))


def is_boilerplate_sentence(text: str) -> bool:
    """Rules that hold for a sentence inside a story paragraph as well as for a whole line."""
    if _BOILERPLATE_START_RE.match(text) or _is_date_line(text) or _is_credit(text):
        return True
    if len(text) > 300:
        return False
    lowered = text.lower()
    return any(keyword in lowered for keyword in _BOILERPLATE_END_KEYWORDS) and bool(_BOILERPLATE_END_RE.search(text))


def _is_header_line(line: str) -> bool:
    """Lines that are boilerplate only above the story: site names, section labels, breadcrumbs,
    headlines and decks (short lines that do not end like a sentence)."""
    if line[-1] in _TERMINAL:
        return False
    return len(line.split()) <= _HEADER_MAX_WORDS or bool(_BREADCRUMB_RE.search(line))


def line_flags(lines: list[str], title: str | None) -> list[bool]:
    """Boilerplate flag of each (stripped, non-blank) line of one article.

    The header zone is the lines before the first story line. When no story line follows, the
    header-only rule is dropped, so that a bare headline-like text ("Putin slams NATO") is not lost.
    """
    flags = []
    in_header = True
    for line in lines:
        flag = is_boilerplate_line(line, title, header=in_header)
        in_header = in_header and flag
        flags.append(flag)
    if in_header:
        flags = [is_boilerplate_line(line, title) for line in lines]
    return flags


def is_boilerplate_line(line: str, title: str | None = None, *, header: bool = False) -> bool:
    """Whether a whole line of an article is boilerplate (not part of the story).

    ``header=True`` says the line comes before the story's first line, where lines of up to 12
    words that do not end like a sentence (site names, section labels, headlines, decks) and
    breadcrumbs also count as boilerplate.
    ``title`` lets a repeated headline be recognised. A dateline line ("MOSCOW (Reuters) -") is
    never boilerplate.

    Example:
        >>> is_boilerplate_line("Reporting by Jane Doe; Editing by John Roe")
        True
        >>> is_boilerplate_line("Updated 3:45 PM ET")
        True
        >>> is_boilerplate_line("The Harbour Ledger", header=True)
        True
        >>> is_boilerplate_line("Shares in Gazprom fell 3% on Tuesday.")
        False
    """
    line = check_text(line, "line").strip()
    title = check_title(title)
    if not line:
        return False
    if is_dateline_only(line):
        return False
    if is_boilerplate_sentence(line) or _is_repeated_headline(line, title) or _is_byline(line) or _is_button_line(line):
        return True
    return header and _is_header_line(line)


# --------------------------------------------------------------------------------------------
# Datelines
# --------------------------------------------------------------------------------------------

# Datelines: "MOSCOW (Reuters) -", "ST. PETERSBURG, Russia (Reuters) —", "WASHINGTON, Jan. 5 (AP) —",
# and mixed-case places only with an agency tag: "Kyiv (Reuters) -". No boundary falls inside one.
_UPPER = "A-ZÀ-ÖØ-Þ"
_DATELINE_RE = re.compile(
    rf"""
    (?:
        [{_UPPER}][{_UPPER}'’.\-/]+(?:\s+[{_UPPER}][{_UPPER}'’.\-/]*){{0,3}}   # MOSCOW, ST. PETERSBURG
        (?:,\s*[{_UPPER}][\w.'’\-]*(?:\s+[\w.'’\-]+){{0,3}}){{0,2}}            # , Russia / , Jan. 5
        (?:\s*\([^()\n]{{1,40}}\))?                                            # (Reuters)
      |
        [{_UPPER}][\w.'’\-]+(?:\s+[{_UPPER}][\w.'’\-]+){{0,3}}                  # Kyiv, New York
        (?:,\s*[{_UPPER}][\w.'’\-]*(?:\s+[\w.'’\-]+){{0,3}}){{0,2}}
        \s*\([^()\n]{{1,40}}\)                                                 # agency tag required
    )
    \s*(?:--?(?:\s|$)|[–—])\s*
    """,
    re.VERBOSE,
)


def is_dateline_only(line: str) -> bool:
    """Whether ``line`` is a dateline and nothing else ("MOSCOW (Reuters) -"): no story after it."""
    match = _DATELINE_RE.match(line)
    return match is not None and match.end() == len(line)


def dateline_length(text: str) -> int:
    """The length of the dateline ``text`` starts with ("MOSCOW (Reuters) - "), or 0.

    Example:
        >>> dateline_length("MOSCOW (Reuters) - The Kremlin said no.")
        19
        >>> dateline_length("The Kremlin said no.")
        0
    """
    match = _DATELINE_RE.match(text)
    return match.end() if match else 0
