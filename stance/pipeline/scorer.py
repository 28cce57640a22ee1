"""Score articles: split into sentences, find the actors, run the model once per sentence.

Example:
    >>> from stance import StanceScorer
    >>> scorer = StanceScorer.from_pretrained("default")
    >>> result = scorer.score("MOSCOW (Reuters) - Critics say the Kremlin is probing NATO's resolve.")
    >>> [m.actor for m in result[0].mentions], [d.label for d in result[0].devices]
    (['Russia', 'NATO'], ['unsourced_claim'])
    >>> result.to_pandas()[["sentence_id", "text"]].values.tolist()
    [[0, "MOSCOW (Reuters) - Critics say the Kremlin is probing NATO's resolve."]]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from stance.io.readers import validate_record
from stance.io.records import Article, InputError
from stance.model.encoding import encode_batch
from stance.model.modeling import StanceModel
from stance.model.outputs import DevicePrediction, stance_and_probs
from stance.pipeline.actor_registry import ActorRegistry
from stance.pipeline.actors import ActorFinder, Mention, outside_dateline
from stance.pipeline.sentences import DEFAULT_SPLITTER, Sentence, SentenceSplitter, get_splitter
from stance.run.settings import DEFAULTS, PipelineSettings


@dataclass(frozen=True)
class MentionResult:
    """An actor mention in a sentence (offsets relative to the sentence) and the stance toward it.

    Example:
        >>> m = MentionResult("Russia", "state", "Moscow", 0, 6, "negative", {"negative": 0.8, "neutral": 0.15, "positive": 0.05})
        >>> m.actor, m.text, m.stance
        ('Russia', 'Moscow', 'negative')
    """

    actor: str
    type: str
    text: str
    start: int
    end: int
    stance: str | None
    probs: dict[str, float]
    resolution: str = "name"  # how the actor was decided (stance.pipeline.actors.RESOLUTIONS)


@dataclass(frozen=True)
class ScoredSentence:
    """One output row. ``start``/``end`` are offsets in the article's ``text`` (in its ``title``
    for ``section == "title"``); ``text`` equals that slice.

    Example:
        >>> row = ScoredSentence("a1", 0, 0, 19, "Moscow rejected it.", "body", False, (), (), {"outlet": "Ledger"})
        >>> row.to_row()["outlet"], row.to_row()["mentions"]
        ('Ledger', [])
    """

    doc_id: str
    sentence_id: int
    start: int
    end: int
    text: str
    section: str
    boilerplate: bool
    mentions: tuple[MentionResult, ...]
    devices: tuple[DevicePrediction, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        """The row as written to files: the contract columns, then the carried-through metadata (an input
        field with a taken name gets the prefix ``input_``, again where that is taken too, so that none is lost)."""
        row = {
            "doc_id": self.doc_id,
            "sentence_id": self.sentence_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "section": self.section,
            "boilerplate": self.boilerplate,
            "mentions": [m.__dict__.copy() for m in self.mentions],
            "devices": [d.__dict__.copy() for d in self.devices],
        }
        for key, value in self.meta.items():  # an input field named like a column ("section") is kept as input_section
            while key in row:
                key = f"input_{key}"
            row[key] = value
        return row


class ScoreResult(list):
    """A list of :class:`ScoredSentence` with ``to_pandas()`` (the same columns as the file output),
    and ``errors``: the articles of a batch that could not be scored (:class:`~stance.io.records.InputError`,
    ``line`` = their position in the batch), as `stance score` sends them to its errors file. A list
    (not a frozen result) so that the rows index, slice and iterate as the rows they are.

    Example:
        >>> result = ScoreResult([], [InputError("<python>", 1, None, "article 1 is empty")])
        >>> len(result), result.errors[0].reason
        (0, 'article 1 is empty')
    """

    def __init__(self, rows: Iterable[ScoredSentence] = (), errors: Iterable[InputError] = ()) -> None:
        super().__init__(rows)
        self.errors: list[InputError] = list(errors)

    def to_pandas(self):
        """The rows as a DataFrame, one row per sentence, with the columns ``stance score`` writes.

        Example:
            >>> scorer.score("Moscow rejected the plan.").to_pandas().columns[:3].tolist()  # doctest: +SKIP
            ['doc_id', 'sentence_id', 'start']
        """
        import pandas as pd

        return pd.DataFrame([s.to_row() for s in self])


@dataclass
class StageTimes:
    """Seconds spent per pipeline stage (for run.json and profiling)."""

    split: float = 0.0
    actors: float = 0.0
    encode: float = 0.0
    model: float = 0.0
    assemble: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.__dict__.items()}


class StanceScorer:
    """The scoring pipeline; one instance serves the CLI, the HTTP service and Ray workers.

    Example:
        >>> scorer = StanceScorer.from_pretrained("default", use_ner=False)
        >>> scorer.score({"id": "a1", "text": "Beijing hailed the deal.", "outlet": "Ledger"})[0].mentions[0].actor
        'China'
    """

    def __init__(
        self,
        model: StanceModel,
        finder: ActorFinder,
        splitter: SentenceSplitter | None = None,
        *,
        batch_size: int = DEFAULTS.batch_size,
    ) -> None:
        self.model = model
        self.finder = finder
        self.splitter = splitter or get_splitter()
        self.batch_size = batch_size
        self.times = StageTimes()

    @classmethod
    def from_pretrained(
        cls,
        model: str = DEFAULTS.model,
        *,
        actors: Sequence[str] = DEFAULTS.actors,
        use_ner: bool = DEFAULTS.use_ner,
        device: str = DEFAULTS.device,
        batch_size: int = DEFAULTS.batch_size,
        splitter: str = DEFAULT_SPLITTER,
        backend: str = DEFAULTS.backend,
        threads: int | None = None,
        party_members: str = DEFAULTS.party_members,
    ) -> StanceScorer:
        """Load the model (run by ``backend`` on ``threads`` threads: see :mod:`stance.model.backends`),
        the actor registry (plus ``actors`` files) and the sentence splitter (one of
        :data:`stance.pipeline.sentences.SPLITTERS`). ``party_members``: ``"separate"`` reports a
        party's members ("Republicans") as a group, not as the party. The defaults are
        :data:`stance.run.settings.DEFAULTS` (the same as ``stance score``'s and the service's).

        Example:
            >>> scorer = StanceScorer.from_pretrained("default", use_ner=False)
            >>> [(m.actor, m.stance) for m in scorer.score("The minister praised Canada for its generous aid.")[0].mentions]
            [('Canada', 'positive')]
        """
        registry = ActorRegistry.load(*actors)
        return cls(
            StanceModel.from_pretrained(model, device=device, backend=backend, threads=threads),
            ActorFinder(registry, use_ner=use_ner, party_members=party_members),
            get_splitter(splitter),
            batch_size=batch_size,
        )

    @classmethod
    def from_settings(cls, settings: PipelineSettings, *, threads: int | None = None) -> StanceScorer:
        """The scorer that pipeline settings describe: how ``stance score``'s workers and the service build theirs.

        Example:
            >>> scorer = StanceScorer.from_settings(PipelineSettings(use_ner=False), threads=2)  # doctest: +SKIP
        """
        return cls.from_pretrained(
            settings.model,
            actors=settings.actors,
            use_ner=settings.use_ner,
            device=settings.device,
            batch_size=settings.batch_size,
            backend=settings.backend,
            threads=threads,
            party_members=settings.party_members,
        )

    @property
    def registry(self) -> ActorRegistry:
        return self.finder.registry

    def score(self, articles: str | dict | Article | Iterable[str | dict | Article]) -> ScoreResult:
        """Score one article (a string or a dict with ``text``) or many. A single bad article raises
        ValueError; in a batch, bad articles come back in ``result.errors`` and the rest are scored.

        Example:
            >>> result = scorer.score(["Canada is fine.", ""])  # doctest: +SKIP
            >>> result.errors[0].reason  # doctest: +SKIP
            'article 1 is empty'
        """
        if isinstance(articles, (str, dict, Article)):
            return ScoreResult(row for rows in self.score_articles([to_article(articles, 0)]) for row in rows)
        if isinstance(articles, (bytes, bytearray)) or not isinstance(articles, Iterable):
            raise ValueError(
                f"articles must be a string, a dict with 'text', an Article or a list of them, not {type(articles).__name__}"
                + (" (decode bytes first)" if isinstance(articles, (bytes, bytearray)) else "")
            )
        items, errors = [], []
        for i, a in enumerate(articles):
            try:
                items.append(to_article(a, i))
            except ValueError as exc:
                doc_id = a.get("id") if isinstance(a, dict) else None
                errors.append(InputError("<python>", i, None if doc_id is None else str(doc_id), str(exc)))
        return ScoreResult((row for rows in self.score_articles(items) for row in rows), errors)

    def score_articles(self, articles: Sequence[Article]) -> list[list[ScoredSentence]]:
        """The rows of each article, in order. The per-batch work of every engine.

        Example:
            >>> [len(rows) for rows in scorer.score_articles([to_article("Moscow said no. Kyiv agreed.", 0)])]  # doctest: +SKIP
            [2]
        """
        units, scored, (t0, t1, t2) = find_targets(articles, self.splitter, self.finder)
        settings = self.model.settings
        texts = [s.text for _, _, s, _ in scored]
        spans = [[(m.start - s.start, m.end - s.start) for m in ms] for _, _, s, ms in scored]
        encoded = encode_batch(self.model.subwords, texts, spans, max_length=settings.max_seq_length)
        t3 = time.perf_counter()
        outputs = list(self.model.run(encoded, batch_size=self.batch_size))
        windowed = self.model.stance_in_windows(texts, spans, encoded, batch_size=self.batch_size)
        t4 = time.perf_counter()

        labels = list(settings.stance_labels)
        results: dict[tuple[int, int], tuple[tuple[MentionResult, ...], tuple[DevicePrediction, ...]]] = {}
        for n, ((u, k, sent, ms), enc, (stance_probs, device_probs)) in enumerate(zip(scored, encoded, outputs)):
            mention_results = []
            for j, (m, slot) in enumerate(zip(ms, enc.target_slots)):
                p = stance_probs[slot] if slot is not None else windowed.get((n, j))
                stance: str | None
                probs: dict[str, float]
                if p is None:  # no window could hold it either (cannot happen with a sane max_seq_length)
                    stance, probs = None, {}
                else:
                    stance, probs = stance_and_probs(p, labels)
                s0 = m.start - sent.start
                mention_results.append(MentionResult(m.actor, m.type, m.text, s0, s0 + len(m.text), stance, probs, m.resolution))
            devices = settings.decode_devices(device_probs, enc.offsets, sent.text)
            results[(u, k)] = (tuple(mention_results), devices)

        out: list[list[ScoredSentence]] = [[] for _ in articles]
        for u, (i, section, _, sentences) in enumerate(units):
            art = articles[i]
            for k, sent in enumerate(sentences):
                mentions, devices = results.get((u, k), ((), ()))
                out[i].append(
                    ScoredSentence(
                        doc_id=art.id,
                        sentence_id=len(out[i]),
                        start=sent.start,
                        end=sent.end,
                        text=sent.text,
                        section=section,
                        boilerplate=sent.boilerplate,
                        mentions=mentions,
                        devices=devices,
                        meta=art.meta,
                    )
                )
        t5 = time.perf_counter()
        for name, dt in zip(("split", "actors", "encode", "model", "assemble"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            setattr(self.times, name, getattr(self.times, name) + dt)
        return out


Unit = tuple[int, str, str, list[Sentence]]  # (article index, section, text, sentences)
Target = tuple[int, int, Sentence, list[Mention]]  # (unit, sentence index, sentence, its mentions)


def find_targets(
    articles: Sequence[Article], splitter: SentenceSplitter, finder: ActorFinder
) -> tuple[list[Unit], list[Target], tuple[float, float, float]]:
    """The sentences to label and their mentions, as ``stance score`` finds them: each article's
    title and body as units, split into sentences; mentions found, the leading dateline's left out,
    and assigned to sentences; boilerplate sentences not returned as targets. Also the clock times
    (start, after splitting, after actor finding).

    Example:
        >>> units, targets, _ = find_targets([to_article("Beijing hailed the deal.")], get_splitter(), finder)  # doctest: +SKIP
        >>> targets[0][3][0].actor  # doctest: +SKIP
        'China'
    """
    t0 = time.perf_counter()
    units: list[Unit] = []
    for i, art in enumerate(articles):
        if art.title:
            units.append((i, "title", art.title, [Sentence(0, len(art.title), art.title)]))
        units.append((i, "body", art.text, splitter.split(art.text, title=art.title)))
    t1 = time.perf_counter()
    mentions_per_unit = _per_unit(units, finder.find_many(_article_text(art) for art in articles))
    t2 = time.perf_counter()
    targets: list[Target] = []
    mentions: Sequence[Mention]
    for u, ((_, section, _, sentences), mentions) in enumerate(zip(units, mentions_per_unit)):
        if section == "body":
            mentions = _outside_dateline(sentences, mentions)
        for k, (sent, inside) in enumerate(zip(sentences, _assign(sentences, mentions))):
            if not sent.boilerplate:
                targets.append((u, k, sent, inside))
    return units, targets, (t0, t1, t2)


TITLE_GAP = "\n\n"


def _article_text(art: Article) -> str:
    """The text the actor finder reads for one article: its title, a blank line and its body, so that a
    short name in either ("Lavrov slams ...") resolves against full names in both."""
    return f"{art.title}{TITLE_GAP}{art.text}" if art.title else art.text


def _per_unit(units: Sequence[Unit], per_article: Iterable[list[Mention]]) -> list[list[Mention]]:
    """Each article's mentions (offsets in :func:`_article_text`) split into its title and body units,
    with offsets in each unit's text. ``units`` as :func:`find_targets` makes them: title, then body."""
    out: list[list[Mention]] = []
    articles = iter(per_article)
    mentions: list[Mention] = []
    shift = 0
    for u, (i, section, text, _) in enumerate(units):
        if section == "title" or u == 0 or units[u - 1][0] != i:  # the first unit of an article
            mentions, shift = next(articles), 0
        if section == "title":
            out.append([m for m in mentions if m.end <= len(text)])
            shift = len(text) + len(TITLE_GAP)
        else:
            out.append([replace(m, start=m.start - shift, end=m.end - shift) for m in mentions if m.start >= shift])
    return out


def _outside_dateline(sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> Sequence[Mention]:
    """The mentions, less those in the dateline the story's first sentence starts with
    (:func:`stance.pipeline.actors.outside_dateline`, the one rule for datelines)."""
    first = next((s for s in sentences if not s.boilerplate), None)
    return mentions if first is None else outside_dateline(mentions, first.text, first.start)


def _assign(sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> list[list[Mention]]:
    """Mentions per sentence (a mention that crosses a sentence boundary is left out)."""
    per: list[list[Mention]] = [[] for _ in sentences]
    j = 0
    for m in sorted(mentions, key=lambda m: m.start):
        while j < len(sentences) and sentences[j].end <= m.start:
            j += 1
        if j < len(sentences) and sentences[j].start <= m.start and m.end <= sentences[j].end:
            per[j].append(m)
    return per


def to_article(obj: str | dict | Article, index: int = 0) -> Article:
    """An :class:`Article` from a string, a dict with ``text`` (and ``id``, ``title``, metadata) or an Article;
    ValueError where `stance score` would send the record to its errors file (half a character, say).

    Example:
        >>> article = to_article({"id": None, "title": "  Moscow replies ", "text": "Moscow said no."}, 3)
        >>> article.id, article.title
        ('3', 'Moscow replies')
    """
    if isinstance(obj, Article):
        return obj
    if isinstance(obj, str):
        if not obj.strip():
            raise ValueError(f"article {index} is empty")
        obj = {"text": obj}
    if isinstance(obj, dict):  # the checks and id and title rules of `stance score` and the service
        record = obj if obj.get("id") not in (None, "") else {**obj, "id": index}
        item = validate_record(record, set(), max_chars=sys.maxsize, source="article", line=index)
        if isinstance(item, InputError):
            raise ValueError(f"article {index}: {item.reason}")
        return replace(item, source="", line=0)
    raise ValueError(f"article {index}: expected a string or a dict, got {type(obj).__name__}")
