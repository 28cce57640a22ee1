"""The numerical core of ``stance compare``: confusion matrices, adjusted classify-and-count,
article-level bootstrap resampling and the Benjamini-Hochberg correction. Pure numpy/scipy;
no pandas, no I/O beyond reading a confusion matrix.

Example:
    >>> import numpy as np
    >>> confusion = Confusion.from_dict({"labels": ["negative", "neutral", "positive"],
    ...                                  "matrix": [[80, 20, 0], [10, 80, 10], [0, 20, 80]]})
    >>> predicted = np.array([0.21, 0.50, 0.29])  # shares the classifier reports
    >>> adjust_shares(predicted, confusion.rates).round(3)  # shares corrected for its known errors
    array([0.2, 0.5, 0.3])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from scipy import sparse

from stance.labels.format import STANCE_LABELS

DEV_SET = "newsmtsc:dev_rw"
MAX_CONDITION = 1e6  # beyond this the confusion matrix cannot separate the classes
NOISY_CONDITION = 25.0  # beyond this the corrected shares are much noisier than the raw ones
# Fewer articles than this behind an estimate: no interval or test. Measured coverage of the 95% interval of a
# mean over n articles: 0.73 at 3, 0.91 at 5, 0.94 at 10, 0.95 at 20 (BENCHMARKS.md 0x).
MIN_ARTICLES = 10
JEFFREYS = 0.5  # prior count per cell of a confusion row (Confusion.resampled_rates)


@dataclass(frozen=True, eq=False)
class Confusion:
    """A stance confusion matrix: ``counts[i, j]`` = dev sentences with gold ``STANCE_LABELS[i]`` predicted ``STANCE_LABELS[j]``.

    Example:
        >>> c = Confusion.from_dict({"labels": ["positive", "neutral", "negative"], "matrix": [[9, 1, 0], [1, 8, 1], [0, 1, 9]]})
        >>> c.rates[0].tolist()  # P(predicted | gold negative), reordered to negative, neutral, positive
        [0.9, 0.1, 0.0]
    """

    counts: np.ndarray
    source: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> Confusion:
        """From ``{"labels": [...], "matrix": rows gold x columns predicted}``, or from a whole
        ``evaluation.json`` (its ``datasets["newsmtsc:dev_rw"]["stance"]["confusion"]``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{source or 'confusion'}: expected a JSON object, got {type(data).__name__}")
        if "datasets" in data:
            data = _evaluation_confusion(data["datasets"], source)
        labels, matrix = data.get("labels"), data.get("matrix")
        if not isinstance(labels, list) or sorted(map(str, labels)) != sorted(STANCE_LABELS):
            raise ValueError(
                f"{source or 'confusion'}: 'labels' must list {', '.join(STANCE_LABELS)} (in any order), got {labels!r}"
            )
        try:
            m = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{source or 'confusion'}: 'matrix' must be a 3x3 list of numbers") from None
        if m.shape != (3, 3) or not np.isfinite(m).all() or (m < 0).any():
            raise ValueError(f"{source or 'confusion'}: 'matrix' must be 3x3 non-negative numbers, got shape {m.shape}")
        order = [labels.index(x) for x in STANCE_LABELS]
        return cls(m[np.ix_(order, order)], source)

    @classmethod
    def from_file(cls, path: str | Path) -> Confusion:
        """Read a JSON file holding a confusion matrix or a model's ``evaluation.json``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_dict(data, str(path))

    def resampled_rates(self, replicates: int, rng: np.random.Generator) -> np.ndarray:
        """(replicates, 3, 3) rates drawn from what the matrix's own labelled sentences say about them: each
        gold row from its posterior under a Jeffreys prior, Dirichlet(counts + 1/2), so that a matrix from 150
        labels carries more uncertainty into the corrected shares than one from 1,500, and a cell never seen
        in the labels (0 of 150 gold positives predicted negative) still varies: its rate is small, not
        known to be zero. Redrawing the rows as multinomials, as before, left every such cell at zero.

        Example:
            >>> c = Confusion(np.array([[8.0, 2, 0], [1, 8, 1], [0, 2, 8]]))
            >>> draws = c.resampled_rates(5, np.random.default_rng(0))
            >>> draws.shape, bool(draws[:, 0, 2].min() > 0)
            ((5, 3, 3), True)
        """
        if not self.is_counts:  # rates: how many sentences stand behind them is unknown
            return np.broadcast_to(self.rates, (replicates, *self.rates.shape)).copy()
        return np.stack([rng.dirichlet(row + JEFFREYS, size=replicates) for row in self.counts], axis=1)

    @property
    def is_counts(self) -> bool:
        """Whether the matrix holds counts of labelled targets (whole numbers), not rates: only counts say how
        many labels stand behind it, and so how uncertain it is.

        Example:
            >>> Confusion(np.array([[8.0, 2, 0], [1, 8, 1], [0, 1, 1]])).is_counts, Confusion(np.eye(3) * 0.9 + 0.1 / 3).is_counts
            (True, False)
        """
        return bool(self.counts.sum() > 0 and np.allclose(self.counts, np.round(self.counts)))

    @property
    def rates(self) -> np.ndarray:
        """Row-normalised matrix: ``rates[i, j]`` = P(predicted j | gold i)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, totals, out=np.zeros_like(self.counts), where=totals > 0)

    @property
    def condition(self) -> float:
        """Condition number of the rates (inf when singular)."""
        with np.errstate(divide="ignore"):
            return float(np.linalg.cond(self.rates))

    def problem(self) -> str | None:
        """Why the matrix cannot be used for correction, or None when it can."""
        missing = [x for x, n in zip(STANCE_LABELS, self.counts.sum(axis=1), strict=True) if n == 0]
        if missing:
            return f"the dev set has no gold {', '.join(map(repr, missing))} sentences"
        if not self.condition < MAX_CONDITION:
            never = [x for x, n in zip(STANCE_LABELS, self.counts.sum(axis=0), strict=True) if n == 0]
            why = f": the model never predicts {', '.join(map(repr, never))}" if never else ""
            return f"the confusion matrix is singular{why}"
        return None


def _evaluation_confusion(datasets: Any, source: str) -> Any:
    """The stance confusion matrix of an ``evaluation.json``'s ``datasets``: the NewsMTSC real-world dev
    set's when present, else the only one there is (a user's own labels evaluated with ``stance evaluate``)."""
    if not isinstance(datasets, Mapping):
        raise ValueError(f"{source or 'evaluation'}: 'datasets' must be an object")
    found = {
        name: d["stance"]["confusion"]
        for name, d in datasets.items()
        if isinstance(d, Mapping) and isinstance(d.get("stance"), Mapping) and "confusion" in d["stance"]
    }
    if DEV_SET in found:
        return found[DEV_SET]
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise ValueError(
            f"{source or 'evaluation'}: no stance confusion matrix in it (datasets: {', '.join(map(str, datasets)) or 'none'})"
        )
    raise ValueError(
        f"{source or 'evaluation'}: {len(found)} stance confusion matrices ({', '.join(found)}) and none for {DEV_SET}: pass one as a file"
    )


def adjust_shares(predicted: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Adjusted classify-and-count: the true shares ``p`` that best explain the predicted shares ``q``
    through ``q = rates.T @ p``, by least squares over the simplex (``p >= 0``, ``sum(p) == 1``).

    Exact and vectorised: the optimum is the equality-constrained least-squares solution on its
    support, so every support is solved in closed form and the best feasible one is kept.
    ``predicted``: (..., k); NaN rows stay NaN.

    Example:
        >>> adjust_shares(np.array([[0.5, 0.5, 0.0]]), np.eye(3)).round(6).tolist()
        [[0.5, 0.5, 0.0]]
    """
    q = np.asarray(predicted, dtype=float)
    rates = np.asarray(rates, dtype=float)
    k = rates.shape[0]
    solvers = _support_solvers(rates.tobytes(), k)
    return _adjust(q.reshape(1, -1, k), rates[None], solvers).reshape(q.shape)


def adjust_shares_each(predicted: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """:func:`adjust_shares` with a matrix per replicate: ``predicted`` (b, ..., k), ``rates`` (b, k, k).

    Example:
        >>> adjust_shares_each(np.array([[[0.5, 0.5, 0.0]]]), np.eye(3)[None]).round(6).tolist()
        [[[0.5, 0.5, 0.0]]]
    """
    q = np.asarray(predicted, dtype=float)
    rates = np.asarray(rates, dtype=float)
    b, k = rates.shape[0], rates.shape[1]
    return _adjust(q.reshape(b, -1, k), rates, _batch_solvers(rates)).reshape(q.shape)


def _adjust(flat: np.ndarray, rates: np.ndarray, solvers: tuple) -> np.ndarray:
    """``flat`` (b, n, k) predicted shares, ``rates`` (b, k, k), ``solvers`` per support with a leading
    replicate axis of 1 or b: the feasible least-squares solution of lowest loss for each row."""
    best = np.full(flat.shape, np.nan)
    best_loss = np.full(flat.shape[:2], np.inf)
    for support, project, offset in solvers:
        x = np.einsum("bnk,bks->bns", flat, project) + offset[:, None, :]
        feasible = (x >= -1e-10).all(axis=2)
        p = np.zeros_like(flat)
        p[:, :, support] = np.clip(x, 0.0, None)
        loss = ((np.einsum("bnk,bjk->bnj", p, rates.transpose(0, 2, 1)) - flat) ** 2).sum(axis=2)
        better = feasible & (loss < best_loss - 1e-15)
        best[better] = p[better]
        best_loss[better] = loss[better]
    best /= best.sum(axis=2, keepdims=True)
    best[np.isnan(flat).any(axis=2)] = np.nan
    return best


@lru_cache(maxsize=8)
def _support_solvers(rates_bytes: bytes, k: int) -> tuple[tuple[list[int], np.ndarray, np.ndarray], ...]:
    """The solvers of :func:`_batch_solvers` for one matrix, cached (one matrix serves a whole comparison)."""
    return _batch_solvers(np.frombuffer(rates_bytes).reshape(1, k, k))


def _batch_solvers(rates: np.ndarray) -> tuple[tuple[list[int], np.ndarray, np.ndarray], ...]:
    """Per support S: the linear maps giving the least-squares solution on S with sum 1, ``x_S = q @ project + offset``,
    for each matrix of ``rates`` (b, k, k)."""
    k = rates.shape[1]
    return tuple(_solver(rates, list(support)) for size in range(1, k + 1) for support in combinations(range(k), size))


def _solver(rates: np.ndarray, s: list[int]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The linear map of one support S (from the KKT system of min |A_S x - q|^2 s.t. sum x = 1, A = rates.T;
    pinv copes with a singular A)."""
    b, size = rates.shape[0], len(s)
    a_s = rates.transpose(0, 2, 1)[:, :, s]  # (b, k, size)
    kkt = np.zeros((b, size + 1, size + 1))
    kkt[:, :size, :size] = 2 * a_s.transpose(0, 2, 1) @ a_s
    kkt[:, :size, size] = kkt[:, size, :size] = 1.0
    inv = np.linalg.pinv(kkt)
    return s, (2 * a_s) @ inv[:, :size, :size].transpose(0, 2, 1), inv[:, :size, size].copy()


def unconstrained_shares_each(predicted: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The corrected shares of :func:`adjust_shares_each` without the bounds: the least-squares solution that
    sums to 1, which may leave [0, 1]. Its replicates vary where the bounded ones all sit on a bound (an actor
    nearly always predicted neutral: every bounded replicate is exactly neutral, a zero-width interval), so
    ``stance compare`` takes the spread of its intervals from these, about the bounded estimate (BENCHMARKS.md 0zd).

    Example:
        >>> rates = np.array([[[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]]])
        >>> unconstrained_shares_each(np.array([[[0.02, 0.96, 0.02]]]), rates).round(3).tolist()
        [[[-0.133, 1.267, -0.133]]]
    """
    q = np.asarray(predicted, dtype=float)
    rates = np.asarray(rates, dtype=float)
    b, k = rates.shape[0], rates.shape[1]
    _, project, offset = _solver(rates, list(range(k)))
    flat = q.reshape(b, -1, k)
    return (np.einsum("bnk,bks->bns", flat, project) + offset[:, None, :]).reshape(q.shape)


def resample_weights(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, n) counts: how often each of ``n`` units is drawn in each of ``size`` bootstrap resamples.

    Example:
        >>> resample_weights(4, 2, np.random.default_rng(0)).sum(axis=1).tolist()
        [4, 4]
    """
    draws = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)


def bootstrap_sums(
    values: sparse.spmatrix | np.ndarray, replicates: int, rng: np.random.Generator, *, chunk_cells: int = 4_000_000
) -> np.ndarray:
    """Column sums of ``values`` (units x columns) over ``replicates`` resamples of its rows (the units, e.g. articles).

    Returns (replicates, columns). Memory stays bounded by drawing the resamples in chunks.

    Example:
        >>> bootstrap_sums(np.ones((5, 2)), 3, np.random.default_rng(0)).tolist()
        [[5.0, 5.0], [5.0, 5.0], [5.0, 5.0]]
    """
    n, m = values.shape
    out = np.empty((replicates, m))
    values_t = sparse.csr_matrix(values.T) if sparse.issparse(values) else np.asarray(values, dtype=float).T
    step = max(1, chunk_cells // max(n, 1))
    for lo in range(0, replicates, step):
        w = resample_weights(n, min(step, replicates - lo), rng).T.astype(float)  # (n, b)
        out[lo : lo + w.shape[1]] = np.asarray(values_t @ w).T
    return out


def expanded_tail(level: float, n: np.ndarray | float) -> np.ndarray:
    """Tail probability for an *expanded* percentile interval from ``n`` independent units (Hesterberg 2015):
    the plain percentile interval is too narrow in small samples (the bootstrap variance is ``(n - 1) / n`` of
    the sampling variance, and a normal quantile stands in for a t quantile); using the percentiles at
    ``Phi(-sqrt(n / (n - 1)) * t_{n-1, 1 - alpha/2})`` corrects both. Tends to ``alpha / 2`` for large ``n``.

    Example:
        >>> round(float(expanded_tail(0.95, 1e9)), 4), round(float(expanded_tail(0.95, 30)), 4)
        (0.025, 0.0188)
    """
    from scipy.stats import norm, t

    n = np.maximum(np.asarray(n, dtype=float), 2.0)
    return norm.sf(np.sqrt(n / (n - 1)) * t.ppf(1 - (1 - level) / 2, n - 1))


def interval(replicates: np.ndarray, level: float = 0.95, n: np.ndarray | float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 (linear interpolation, as ``np.quantile``), ignoring NaN replicates;
    a column without finite replicates gives NaN. With ``n`` (units resampled, broadcastable to a column), the
    expanded percentile interval of :func:`expanded_tail`. Vectorised, also when NaNs are present.

    Example:
        >>> [round(float(x), 6) for x in interval(np.arange(101.0))]
        [2.5, 97.5]
    """
    x = np.sort(np.asarray(replicates, dtype=float), axis=0)  # NaNs sort last
    shape = x.shape[1:]
    if x.shape[0] == 0:
        return np.full(shape, np.nan), np.full(shape, np.nan)
    tail = np.broadcast_to((1 - level) / 2 if n is None else expanded_tail(level, n), shape)
    last = np.maximum((~np.isnan(x)).sum(axis=0) - 1, 0)
    bounds = []
    for q in (tail, 1 - tail):
        pos = q * last
        below = np.floor(pos).astype(int)
        above = np.minimum(below + 1, last)
        lo = np.take_along_axis(x, below[None, ...], axis=0)[0]
        hi = np.take_along_axis(x, above[None, ...], axis=0)[0]
        bounds.append(lo + (hi - lo) * (pos - below))  # NaN where no replicate is finite
    return bounds[0], bounds[1]


def bounded(
    lo: np.ndarray, hi: np.ndarray, estimate: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """An interval taken from unbounded replicates (:func:`unconstrained_shares_each`) of a bounded estimate, cut
    to its measure's range [``lower``, ``upper``] (the true value lies in it, so cutting keeps the coverage) and
    widened, where needed, to hold the estimate. An interval wholly outside the range (unbounded resamples
    skewed away from the estimate) keeps its width against the bound it passed, instead of shrinking to a point.
    NaN stays NaN.

    Example:
        >>> [x.tolist() for x in bounded(np.array([-0.04, -1.3]), np.array([0.03, -1.1]), np.array([0.0, -1.0]), -1.0, 1.0)]
        [[-0.04, -1.0], [0.03, -0.8]]
    """
    width = hi - lo
    lo_cut = np.where(lo > upper, np.maximum(lower, upper - width), np.clip(lo, lower, upper))
    hi_cut = np.where(hi < lower, np.minimum(upper, lower + width), np.clip(hi, lower, upper))
    return np.minimum(lo_cut, estimate), np.maximum(hi_cut, estimate)


def wald_p_values(estimate: np.ndarray, replicates: np.ndarray, n: np.ndarray | float | None = None) -> np.ndarray:
    """Two-sided p-values for ``estimate == 0`` from the bootstrap standard error of ``replicates`` (axis 0).
    With ``n`` (units resampled), the same small-sample correction as :func:`expanded_tail`: the standard error
    is scaled by ``sqrt(n / (n - 1))`` and compared with a t distribution on ``n - 1`` degrees of freedom.
    A zero standard error gives 1 for a zero estimate, else ``1 / (replicates + 1)``.

    Example:
        >>> wald_p_values(np.array([0.0]), np.array([[1.0], [-1.0]])).tolist()
        [1.0]
    """
    from scipy.stats import norm, t

    with np.errstate(invalid="ignore", divide="ignore"), _quiet_nan_warnings():
        se = np.nanstd(replicates, axis=0, ddof=1)
        if n is None:
            p = 2 * norm.sf(np.abs(estimate) / se)
        else:
            n = np.maximum(np.asarray(n, dtype=float), 2.0)
            p = 2 * t.sf(np.abs(estimate) / (se * np.sqrt(n / (n - 1))), n - 1)
    b = replicates.shape[0]
    p = np.where(se > 0, p, np.where(estimate == 0, 1.0, 1.0 / (b + 1)))
    return np.where(np.isfinite(estimate), p, np.nan)


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN p-values stay NaN and are not counted as tests.

    Example:
        >>> benjamini_hochberg(np.array([0.01, 0.04, np.nan, 0.03])).round(3).tolist()
        [0.03, 0.04, nan, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        from scipy.stats import false_discovery_control

        q[ok] = false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


class _quiet_nan_warnings:
    """Silence numpy's 'All-NaN slice' / 'Degrees of freedom' warnings (NaN results are intended)."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._ctx.__exit__(exc_type, exc, tb)
