"""The statistics of ``stance compare`` as objects, each a function of column sums over articles.

Each group's articles become one row per article of named column blocks (a :class:`Layout`):

- ``counts`` (actors x 3): the actor's mentions the model labels negative, neutral, positive;
- ``probs`` (actors x 3): the same mentions' predicted probabilities, summed;
- ``devices`` (devices): framing-device spans per device;
- ``sentences`` (1): sentences.

The bootstrap sums these columns over the articles of each resample; every statistic is then computed
from the sums, by objects that name the blocks they use:

- a :class:`Method` (``cc``, ``acc``, ``pa``) turns the sums into each actor's stance shares;
- a :class:`StanceMeasure` is a function of the shares (``share_negative`` ... ``net``);
- a :class:`DeviceMeasure` is a function of the sums of its blocks (``rate_per_1000_sentences``).

Adding a statistic is adding one object to :data:`STANCE_MEASURES` or :data:`DEVICE_MEASURES`.

Example:
    >>> import numpy as np
    >>> layout = Layout((Block("counts", (1, 3)), Block("probs", (1, 3))))
    >>> sums = layout.split(np.array([[2.0, 1, 1, 0.5, 0.3, 3.2]]))  # one actor: 2 negative, 1 neutral, 1 positive
    >>> shares = METHODS["cc"].shares(sums)
    >>> [float(m.value(shares)[0, 0]) for m in STANCE_MEASURES]
    [0.5, 0.25, 0.25, -0.25]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import prod
from typing import TypeAlias

import numpy as np

from stance.analysis.quantify import adjust_shares, adjust_shares_each, unconstrained_shares_each

Sums: TypeAlias = Mapping[str, np.ndarray]
"""Column sums by block name: each (replicates, *block shape)."""


@dataclass(frozen=True)
class Block:
    """A named block of columns of the per-article table: ``shape`` per article, e.g. (actors, 3)."""

    name: str
    shape: tuple[int, ...]

    @property
    def width(self) -> int:
        """The number of columns the block takes."""
        return prod(self.shape)


@dataclass(frozen=True)
class Layout:
    """Blocks side by side: which columns of a (replicates, columns) array of sums each block holds.

    Example:
        >>> layout = Layout((Block("devices", (2,)), Block("sentences", (1,))))
        >>> layout.split(np.array([[3.0, 1.0, 40.0]]))["sentences"].tolist()
        [[40.0]]
    """

    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ValueError(f"block names must differ, got {', '.join(names)}")

    @property
    def width(self) -> int:
        """The number of columns of all blocks together."""
        return sum(b.width for b in self.blocks)

    def split(self, sums: np.ndarray) -> dict[str, np.ndarray]:
        """(replicates, width) sums -> {block name: (replicates, *block shape)} (views, no copies)."""
        if sums.ndim != 2 or sums.shape[1] != self.width:
            raise ValueError(f"expected sums of shape (replicates, {self.width}), got {sums.shape}")
        out, start = {}, 0
        for block in self.blocks:
            out[block.name] = sums[:, start : start + block.width].reshape(sums.shape[0], *block.shape)
            start += block.width
        return out


@dataclass(frozen=True)
class Method:
    """A way to estimate each actor's stance shares from the sums: ``numerator`` (``counts`` or ``probs``)
    over the actor's mentions, and with ``corrected`` adjusted for the model's errors through a confusion
    matrix's rates (:func:`stance.analysis.quantify.adjust_shares`)."""

    name: str
    title: str
    numerator: str = "counts"
    corrected: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The blocks the method sums."""
        return tuple(dict.fromkeys(("counts", self.numerator)))

    def shares(self, sums: Sums, rates: np.ndarray | None = None) -> np.ndarray:
        """(replicates, actors, 3) shares negative, neutral, positive (NaN for an actor without mentions).
        ``rates``: for a corrected method, the confusion matrix's rates (3, 3), or one per replicate
        (replicates, 3, 3); ValueError when a corrected method gets none."""
        shares = self._predicted(sums)
        if not self.corrected:
            return shares
        if rates is None:
            raise ValueError(f"method {self.name!r} needs the confusion matrix's rates")
        return adjust_shares(shares, rates) if rates.ndim == 2 else adjust_shares_each(shares, rates)

    def interval_shares(self, sums: Sums, rates: np.ndarray | None = None) -> np.ndarray:
        """The replicates' shares that intervals are taken from: :meth:`shares`, but for a corrected method
        without the bounds (:func:`stance.analysis.quantify.unconstrained_shares_each`; ``rates`` one matrix per
        replicate), so that an estimate on a bound does not get a zero-width interval (``stance compare`` moves
        their spread onto the bounded estimate, :func:`stance.analysis.estimates.estimate`).

        Example:
            >>> sums = {"counts": np.array([[[0.0, 19.0, 1.0]]])}
            >>> rates = np.array([[[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]]])
            >>> METHODS["acc"].shares(sums, rates).round(3).tolist(), METHODS["acc"].interval_shares(sums, rates).round(3).tolist()
            ([[[0.0, 1.0, 0.0]]], [[[-0.156, 1.25, -0.094]]])
        """
        if not self.corrected:
            return self.shares(sums)
        if rates is None or rates.ndim != 3:
            raise ValueError(f"method {self.name!r} needs one confusion matrix per replicate")
        return unconstrained_shares_each(self._predicted(sums), rates)

    def _predicted(self, sums: Sums) -> np.ndarray:
        """The shares as the classifier gives them: ``numerator`` over the actor's mentions (NaN without any)."""
        total = sums["counts"].sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[self.numerator] / total


@dataclass(frozen=True)
class StanceMeasure:
    """A statistic of an actor's stance shares: ``value`` maps (..., 3) shares to (...), whose values lie in
    [``lower``, ``upper``]."""

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    lower: float = 0.0
    upper: float = 1.0


@dataclass(frozen=True)
class DeviceMeasure:
    """A statistic of the device columns: ``value`` maps the sums of ``columns`` to (replicates, devices)."""

    name: str
    columns: tuple[str, ...]
    value: Callable[[Sums], np.ndarray]


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("acc", "adjusted classify-and-count", corrected=True),
        Method("cc", "classify-and-count"),
        Method("pa", "probabilistic averaging", numerator="probs"),
    )
}

STANCE_MEASURES: tuple[StanceMeasure, ...] = (
    StanceMeasure("share_negative", lambda shares: shares[..., 0]),
    StanceMeasure("share_neutral", lambda shares: shares[..., 1]),
    StanceMeasure("share_positive", lambda shares: shares[..., 2]),
    StanceMeasure("net", lambda shares: shares[..., 2] - shares[..., 0], lower=-1.0),
)
MEASURES: tuple[str, ...] = tuple(m.name for m in STANCE_MEASURES)
DIFFERENCE_MEASURE = "net"  # the stance measure compared between groups

DEVICE_MEASURES: tuple[DeviceMeasure, ...] = (
    DeviceMeasure("rate_per_1000_sentences", ("devices", "sentences"), lambda sums: 1000.0 * sums["devices"] / sums["sentences"]),
)


def stance_values(shares: np.ndarray, measures: tuple[StanceMeasure, ...] = STANCE_MEASURES) -> np.ndarray:
    """(..., actors, measures): every stance measure of (..., actors, 3) shares, in the order of ``measures``.

    Example:
        >>> stance_values(np.array([[0.2, 0.3, 0.5]])).round(2).tolist()
        [[0.2, 0.3, 0.5, 0.3]]
    """
    return np.stack([m.value(shares) for m in measures], axis=-1)


def device_values(measure: DeviceMeasure, sums: Sums) -> np.ndarray:
    """``measure`` of the sums, given only the blocks it names; ValueError when one is missing.

    Example:
        >>> sums = {"devices": np.array([[3.0, 1.0]]), "sentences": np.array([[40.0]])}
        >>> device_values(DEVICE_MEASURES[0], sums).tolist()
        [[75.0, 25.0]]
    """
    missing = [c for c in measure.columns if c not in sums]
    if missing:
        raise ValueError(f"measure {measure.name!r} needs the column block(s) {', '.join(missing)}")
    return measure.value({c: sums[c] for c in measure.columns})
