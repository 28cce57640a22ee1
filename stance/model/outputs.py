"""What the model says, as typed results, and the one rule that turns probabilities into them.

Every path that reports model output (``StanceModel.predict``, ``stance score``, the service, target-given
prediction) builds its stance labels with :func:`stance_and_probs` and its device spans with
:func:`device_predictions`, so labels, spans and rounding are the same everywhere.

Example:
    >>> import numpy as np
    >>> stance_and_probs(np.array([0.1, 0.2, 0.7]), ["negative", "neutral", "positive"])
    ('positive', {'negative': 0.1, 'neutral': 0.2, 'positive': 0.7})
    >>> device_predictions([(4, 9, "loaded_language", 0.812345, None)], "The thugs left.")
    (DevicePrediction(label='loaded_language', text='thugs', start=4, end=9, score=0.8123, technique=None),)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

PROB_DIGITS = 4  # every probability and span score users get is rounded to this many places


@dataclass(frozen=True)
class TargetPrediction:
    """Stance toward one target span of a sentence: the most likely label and every label's probability.
    ``stance`` is None only where no window of the sentence could hold the target (``start`` -1).

    Example:
        >>> t = TargetPrediction(0, 6, "Moscow", "negative", {"negative": 0.81, "neutral": 0.15, "positive": 0.04})
        >>> t.stance, t.probs["negative"]
        ('negative', 0.81)
    """

    start: int
    end: int
    text: str
    stance: str | None
    probs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DevicePrediction:
    """One framing-device span (offsets relative to the sentence); ``score``: the span's mean
    inside-probability.

    Example:
        >>> d = DevicePrediction("unsourced_claim", "widely believed", 12, 27, 0.77)
        >>> d.label, d.text
        ('unsourced_claim', 'widely believed')
    """

    label: str
    text: str
    start: int
    end: int
    score: float
    technique: str | None = None  # for ``propaganda`` spans: the most likely PTC technique


@dataclass(frozen=True)
class SentencePrediction:
    """Everything the model says about one sentence (what :meth:`StanceModel.predict` returns).
    ``truncated``: the sentence was longer than the model's maximum length; device spans past the
    cut are missing, and targets there were read from a window of the sentence around them.

    Example:
        >>> p = SentencePrediction("Moscow rejected it.", (TargetPrediction(0, 6, "Moscow", "negative"),), ())
        >>> [(t.text, t.stance) for t in p.targets], p.devices
        ([('Moscow', 'negative')], ())
    """

    text: str
    targets: tuple[TargetPrediction, ...]
    devices: tuple[DevicePrediction, ...]
    truncated: bool = False


def stance_and_probs(probs: Any, labels: Sequence[str]) -> tuple[str, dict[str, float]]:
    """The most likely stance label and every label's probability, rounded (see module example)."""
    values = [float(v) for v in probs]
    if len(values) != len(labels):
        raise ValueError(f"{len(values)} probabilities for {len(labels)} stance labels")
    best = max(range(len(values)), key=values.__getitem__)
    return labels[best], {label: round(v, PROB_DIGITS) for label, v in zip(labels, values)}


def device_predictions(decoded: Iterable[tuple[int, int, str, float, str | None]], text: str) -> tuple[DevicePrediction, ...]:
    """Typed spans from decoded ``(start, end, label, score, technique)`` tuples of one sentence."""
    return tuple(
        DevicePrediction(label, text[s:e], s, e, round(float(score), PROB_DIGITS), technique)
        for s, e, label, score, technique in decoded
    )
