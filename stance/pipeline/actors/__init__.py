"""Actors: the finder of actor mentions in text (:class:`ActorFinder`; its rules in :mod:`.finder`'s docstring).

Modules: ``finder`` (``ActorFinder``: registry matching, the order the rules run in), ``mention`` (``Mention``,
``RESOLUTIONS``, the dateline rule, the ``Candidate`` spans the finder weighs), ``spacy_pipeline`` (loading spaCy
and its NER labels), ``ner_windows`` (where the NER runs), ``entities`` (NER entities as candidate actors),
``names`` (what looks like a name; acronyms, bodies of a state, place names), ``furniture`` (headlines, speaker
tags, post signatures and hover cards: page text that is not a mention), ``surnames`` (people named by their
surname), ``resolution`` (the actor each candidate stands for: short names to full names) and ``words`` (the
word lists those rules share). The registry of known actors is :mod:`stance.pipeline.actor_registry`.
"""

from __future__ import annotations

from stance.pipeline.actors.finder import ActorFinder
from stance.pipeline.actors.mention import RESOLUTIONS, Mention, outside_dateline
from stance.pipeline.actors.ner_windows import NER_CONTEXT
from stance.pipeline.actors.spacy_pipeline import (
    DEFAULT_MODEL,
    DEFAULT_NER_LABELS,
    NER_TYPES,
    import_spacy_without_torch,
    load_pipeline,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_NER_LABELS",
    "NER_CONTEXT",
    "NER_TYPES",
    "RESOLUTIONS",
    "ActorFinder",
    "Mention",
    "import_spacy_without_torch",
    "load_pipeline",
    "outside_dateline",
]
