"""What the finder reports and works with: a ``Mention`` (an actor, its type and where the text names it, with
how the actor was decided, ``RESOLUTIONS``), the dateline rule that drops mentions in a wire story's dateline
(:func:`outside_dateline`), and ``Candidate``, a span the finder considers before it names an actor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stance.pipeline.boilerplate import dateline_length

RESOLUTIONS: tuple[str, ...] = ("name", "article", "registry", "ambiguous", "unresolved")
"""How a mention's actor was decided: ``name`` the text names it (a full name, alias or entity); a short
name ("Lavrov", "President Trump") resolved by a fuller name in the ``article`` or by the ``registry``'s one
bearer; ``ambiguous`` where several people could be meant, ``unresolved`` where nothing explains it (in
both the actor is the short name itself)."""


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


@dataclass
class Candidate:
    """A span the finder considers before it names an actor: a registry alias, an ignore phrase or an NER entity."""

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
