"""Metrics: stance macro-F1 and confusion matrix; device spans (exact and SemEval-2020 Task 11
partial overlap); PTC span identification."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from stance.labels.format import STANCE_LABELS

Span = tuple[int, int]


def stance_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """Macro-F1, per-class F1 and the confusion matrix (rows: gold, columns: predicted).

    Example:
        >>> stance_metrics(["negative", "neutral"], ["negative", "positive"])["macro_f1"]
        0.3333...
    """
    labels = list(STANCE_LABELS)
    per_class = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
    return {
        "n": len(gold),
        "macro_f1": float(np.mean(per_class)) if len(gold) else 0.0,
        "f1": {k: float(v) for k, v in zip(labels, per_class)},
        "accuracy": float(np.mean([g == p for g, p in zip(gold, pred)])) if len(gold) else 0.0,
        "confusion": {"labels": labels, "matrix": confusion_matrix(gold, pred, labels=labels).tolist()},
    }


def expected_calibration_error(probs: np.ndarray, gold: Sequence[int], bins: int = 15) -> float:
    """ECE of the top-label confidence: the bin-weighted gap between confidence and accuracy.

    Example:
        >>> round(expected_calibration_error(np.array([[0.9, 0.1], [0.6, 0.4]]), [0, 1]), 2)
        0.35
    """
    probs = np.asarray(probs, dtype=np.float64)
    if not len(probs):
        return 0.0
    confidence = probs.max(-1)
    correct = probs.argmax(-1) == np.asarray(gold)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(
        sum(
            abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
            for b in range(bins)
            if (which == b).any()
        )
    )


TEMPERATURE_GRID = np.round(np.arange(0.5, 4.01, 0.05), 2)


def _log_softmax(probs: np.ndarray, t: float) -> np.ndarray:
    z = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, None)) / t
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _nll(probs: np.ndarray, gold: Sequence[int], t: float) -> float:
    return float(-_log_softmax(probs, t)[np.arange(len(gold)), np.asarray(gold)].mean())


def fit_temperature(probs: np.ndarray, gold: Sequence[int], grid: Sequence[float] | None = None) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(log p / T) on ``gold``.

    Example:
        >>> fit_temperature(np.array([[0.99, 0.01]] * 6 + [[0.01, 0.99]] * 4), [0] * 5 + [1] * 5) > 1
        True
    """
    return float(min(TEMPERATURE_GRID if grid is None else grid, key=lambda t: _nll(probs, gold, t)))


def fit_temperature_worst_ece(groups: Sequence[tuple[np.ndarray, Sequence[int]]], grid: Sequence[float] | None = None) -> float:
    """The temperature T minimising the largest ECE of softmax(log p / T) over ``groups`` (one
    (probs, gold) pair per dev set), ties broken by the pooled log-likelihood: calibration that
    holds on every dev set rather than on their pool.

    Example:
        >>> group = (np.array([[0.99, 0.01]] * 6 + [[0.01, 0.99]] * 4), [0] * 5 + [1] * 5)
        >>> fit_temperature_worst_ece([group, group]) > 1
        True
    """
    groups = [(np.asarray(p, dtype=np.float64), list(g)) for p, g in groups if len(g)]
    if not groups:
        return 1.0
    pooled = (np.concatenate([p for p, _ in groups]), [x for _, g in groups for x in g])

    def cost(t: float) -> tuple[float, float]:
        worst = max(expected_calibration_error(np.exp(_log_softmax(p, t)), g) for p, g in groups)
        return round(worst, 4), _nll(*pooled, t)

    return float(min(TEMPERATURE_GRID if grid is None else grid, key=cost))


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Union of overlapping spans."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def span_prf(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict:
    """Exact-match and partial-overlap precision/recall/F1 over sentences.

    ``gold[i]`` and ``pred[i]`` are the spans of sentence i. Partial overlap is the SemEval-2020
    Task 11 (span identification) measure: each predicted span earns |s ∩ t| / |s| of every gold
    span it overlaps (precision), each gold span |s ∩ t| / |t| (recall).

    Example:
        >>> span_prf([[(0, 10)]], [[(0, 5)]])["partial"]["recall"]
        0.5

    A span given twice counts once, and predicted spans that share characters are merged first, so that
    neither side can earn more than its whole length (precision and recall stay at most 1).
    """
    gold = [sorted(set(g)) for g in gold]
    pred = [merge_spans(p) for p in pred]
    n_gold = sum(len(g) for g in gold)
    n_pred = sum(len(p) for p in pred)
    exact = sum(len(set(g) & set(p)) for g, p in zip(gold, pred))
    prec_sum = sum(_overlap(s, t) / (s[1] - s[0]) for g, p in zip(gold, pred) for s in p for t in g)
    rec_sum = sum(_overlap(s, t) / (t[1] - t[0]) for g, p in zip(gold, pred) for s in p for t in g)
    return {
        "gold": n_gold,
        "predicted": n_pred,
        "exact": _prf(exact / n_pred if n_pred else 0.0, exact / n_gold if n_gold else 0.0),
        "partial": _prf(prec_sum / n_pred if n_pred else 0.0, rec_sum / n_gold if n_gold else 0.0),
    }


def overlap_prf(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict:
    """Precision: share of predicted spans that overlap a gold span; recall: share of gold spans
    that some predicted span overlaps (per sentence, one label at a time).

    Example:
        >>> overlap_prf([[(0, 10)]], [[(5, 12), (20, 22)]])["precision"]
        0.5
    """
    n_gold, n_pred, hit_gold, hit_pred = overlap_counts(gold, pred)
    return {
        "gold": n_gold,
        "predicted": n_pred,
        **_prf(hit_pred / n_pred if n_pred else 0.0, hit_gold / n_gold if n_gold else 0.0),
    }


def overlap_counts(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> tuple[int, int, int, int]:
    """The counts behind :func:`overlap_prf`: gold spans, predicted spans, gold spans some prediction
    overlaps, predicted spans that overlap some gold span.

    Example:
        >>> overlap_counts([[(0, 10)]], [[(5, 12), (20, 22)]])
        (1, 2, 1, 1)
    """
    n_gold = sum(len(g) for g in gold)
    n_pred = sum(len(p) for p in pred)
    hit_gold = sum(any(_overlap(s, t) for s in p) for g, p in zip(gold, pred) for t in g)
    hit_pred = sum(any(_overlap(s, t) for t in g) for g, p in zip(gold, pred) for s in p)
    return n_gold, n_pred, hit_gold, hit_pred


def _prf(p: float, r: float) -> dict:
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
