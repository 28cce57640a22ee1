"""The gate: compare a new model with its base on the same evaluation sets, with paired
article-level bootstrap intervals, and decide whether the new model may replace the base.

Metrics per evaluation set (as training/evaluate.py computes them):

- ``stance_macro_f1``: stance macro-F1 over the gold targets (a target past the model's maximum length
  read from a window around it, as users get it: ``RawPredictions.gold_stance``);
- ``si_f1`` for sets annotated with label-agnostic propaganda spans (PTC): span-identification
  partial-overlap F1; otherwise ``device_partial_f1``: the mean over the set's gold device labels of
  the partial-overlap span F1 (a label the model does not have scores 0);
- ``device_free_unflagged`` where the set's lines were annotated (``device_labels``) for devices that
  none of them holds (an F1 has no gold span to count there): the mean over those devices of the share
  of their annotated sentences the model leaves unflagged (1.0 without a false alarm), so that flagging
  device-free sentences costs a model in the gate.

Intervals: the documents (``doc_id``; a sentence without one is its own document) of each set are
resampled with replacement ``bootstrap`` times; each resample recomputes both models' metrics from
per-document counts, so the difference's interval is paired. Seeded: the same inputs give the same
report.

Decision: every metric of a ``fixed`` set (the base's dev sets) may drop by at most ``tolerance``;
every metric of a ``new`` set (held-out new labels) must improve by more than ``min_improvement``
and, with ``require_significant``, the lower end of its interval must be above 0, except
``device_free_unflagged``, a guard against false alarms, which may drop by at most ``tolerance`` on
every set.
``check_against`` adds a comparison with another model (the active version a promotion would
replace) on the same sets: no metric may be worse than it by more than ``tolerance``.

Example:
    >>> report = compare_models(base, new, {"newsmtsc:dev_rw": recs}, new_sets={"new:heldout"}, tolerance=0.01)  # doctest: +SKIP
    >>> report.passed, [r.reason for r in report.rows if r.failed]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stance.labels.format import STANCE_LABELS, LabelRecord
from stance.model.encoding import decode_spans
from training.evaluate import SI_LABEL, RawPredictions, predict_raw
from training.metrics import merge_spans, span_prf


@dataclass(frozen=True)
class GateRow:
    """One metric on one evaluation set: both models, the difference and its interval."""

    dataset: str
    metric: str
    kind: str  # "fixed" (the base's evaluation sets) or "new" (held-out new labels)
    base: float
    new: float
    diff: float
    ci_low: float
    ci_high: float
    n_docs: int
    n_items: int
    failed: bool
    reason: str


@dataclass(frozen=True)
class GateReport:
    """The comparison and the decision."""

    rows: tuple[GateRow, ...]
    passed: bool
    tolerance: float
    min_improvement: float
    require_significant: bool
    bootstrap: int
    level: float
    seed: int
    sets: tuple[str, ...] = ()  # the sets gated on
    left_out: tuple[str, ...] = ()  # the base's evaluation sets not gated on (--eval or a --config dev: list replaced them)
    against: str | None = None  # the active version compared with (see check_against)
    against_rows: tuple[GateRow, ...] = ()  # the new model against it: ``base`` holds the active version's value

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "rows": [asdict(r) for r in self.rows], "against_rows": [asdict(r) for r in self.against_rows]}
        if reason := self.against_reason():
            out["reason"] = reason
        return out

    def against_reason(self) -> str:
        """Why the new model may not replace the active version (``check_against``), or ''."""
        failed = [f"{r.dataset} {r.metric}: {r.reason}" for r in self.against_rows if r.failed]
        return f"worse than the active version {self.against} it would replace ({'; '.join(failed)})" if failed else ""

    def metrics(self, which: str = "new") -> dict[str, float]:
        """``{"dataset/metric": value}`` of the new (or base) model."""
        return {f"{r.dataset}/{r.metric}": getattr(r, which) for r in self.rows}

    def set_notes(self) -> list[str]:
        """The sets gated on and the base's evaluation sets left out, as lines (gate.md and the command's output)."""
        notes = [f"gated on: {', '.join(self.sets)}"] if self.sets else []
        if self.left_out:
            notes.append(
                f"left out: {', '.join(self.left_out)} (evaluation sets of the base not gated on here: --eval or the "
                "--config's dev: list replaced them; the new version's training.json keeps them for its descendants)"
            )
        return notes

    def table(self) -> str:
        """A plain-text table (also in Markdown form: pipes), the sets gated on and, where a promotion would
        replace another active version, the table against it."""
        lines = self._rows_table(self.rows, "base")
        if notes := self.set_notes():
            lines += ["", *notes]
        if self.against:
            lines.append(f"\nagainst the active version {self.against} (which --promote would replace):\n")
            lines += self._rows_table(self.against_rows, "active")
        lines.append(
            f"\ngate: {'PASSED' if self.passed else 'FAILED'} (fixed-set metrics may drop by at most {self.tolerance:g}, "
            f"new-label metrics must improve by more than {self.min_improvement:g}"
            f"{' with an interval above 0' if self.require_significant else ''}"
            f"{f'; {UNFLAGGED} may drop by at most {self.tolerance:g} on any set' if any(r.metric == UNFLAGGED for r in self.rows) else ''}"
            f"{f'; no metric may be below the active version {self.against} by more than {self.tolerance:g}' if self.against else ''})"
        )
        return "\n".join(lines)

    def _rows_table(self, rows: Sequence[GateRow], base_name: str) -> list[str]:
        lines = [
            f"| set | metric | kind | {base_name} | new | diff | {int(self.level * 100)}% CI | docs | verdict |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            verdict = f"FAIL: {r.reason}" if r.failed else "ok"
            lines.append(
                f"| {r.dataset} | {r.metric} | {r.kind} | {r.base:.3f} | {r.new:.3f} | {r.diff:+.3f} | "
                f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}] | {r.n_docs} | {verdict} |"
            )
        return lines

    def write(self, out_dir: str | Path) -> tuple[Path, Path]:
        """``gate.json`` and ``gate.md`` in ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "gate.json").write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        (out_dir / "gate.md").write_text(self.table() + "\n", encoding="utf-8")
        return out_dir / "gate.json", out_dir / "gate.md"


UNFLAGGED = "device_free_unflagged"
"""The false-alarm guard: may drop by at most the tolerance on any set, never required to improve."""


# --------------------------------------------------------------------------- per-document statistics
@dataclass(frozen=True)
class _Stats:
    """Per-document sufficient statistics of one model on one set."""

    confusion: np.ndarray | None  # (docs, 3, 3) stance gold x predicted
    spans: dict[str, np.ndarray]  # channel -> (docs, 4): precision sum, predicted, recall sum, gold
    si: bool  # spans hold the single span-identification channel
    free: dict[str, np.ndarray] = field(default_factory=dict)  # device with no gold span -> (docs, 2): annotated, flagged


def _stats(
    raw: RawPredictions,
    model,
    docs: list[str],
    doc_index: dict[str, int],
    channels: list[str],
    si: bool,
    free: Sequence[str] = (),
) -> _Stats:
    labels = model.stance_labels
    n = len(doc_index)
    confusion = np.zeros((n, 3, 3))
    any_stance = False
    for i, gold_label, p in raw.gold_stance():
        any_stance = True
        pred = labels[int(p.argmax())] if p is not None else "neutral"
        confusion[doc_index[docs[i]], STANCE_LABELS.index(gold_label), STANCE_LABELS.index(pred)] += 1
    names = model.config.device_labels
    spans = {c: np.zeros((n, 4)) for c in channels}
    flags = {c: np.zeros((n, 2)) for c in free}
    if channels or free:
        for r, d, enc, dp in zip(raw.records, docs, raw.encoded, raw.devices):
            predicted = decode_spans(
                dp, enc.offsets, names, model.config.device_thresholds, r.text, model.config.device_min_scores
            )
            annotated = set(channels) | set(free) if r.device_labels is None else set(r.device_labels)  # the same for both models
            for c in channels:
                if c not in annotated:
                    continue
                if si:
                    gold = merge_spans((x.start, x.end) for x in r.devices if x.label == SI_LABEL)
                    pred = merge_spans((s, e) for s, e, lab, _ in predicted if lab == SI_LABEL)
                else:
                    gold = [(x.start, x.end) for x in r.devices if x.label == c]
                    pred = [(s, e) for s, e, lab, _ in predicted if lab == c]
                m = span_prf([gold], [pred])
                spans[c][doc_index[d]] += (
                    m["partial"]["precision"] * m["predicted"],
                    m["predicted"],
                    m["partial"]["recall"] * m["gold"],
                    m["gold"],
                )
            for c in free:
                if c in annotated:
                    flags[c][doc_index[d]] += (1, any(lab == c for _, _, lab, _ in predicted))
    return _Stats(confusion if any_stance else None, spans, si, flags)


def device_free_labels(records: Sequence[LabelRecord], gold_labels: Collection[str], models: Sequence[Any]) -> list[str]:
    """The devices the lines of a set were annotated for (``device_labels``) that none of them holds and that one
    of ``models`` can predict: the gate measures their false alarms (a per-device F1 has no gold span to count).

    Example:
        >>> from types import SimpleNamespace
        >>> line = LabelRecord.from_dict({"text": "It failed.", "devices": [], "device_labels": ["doubt", "scare_quotes"]})
        >>> device_free_labels([line], [], [SimpleNamespace(config=SimpleNamespace(device_labels=["doubt"]))])
        ['doubt']
    """
    known = {label for model in models for label in model.config.device_labels}
    annotated = {label for r in records for label in (r.device_labels or ())}
    return sorted(annotated & known - set(gold_labels) - {SI_LABEL})


def _macro_f1(conf: np.ndarray) -> np.ndarray:
    """Macro-F1 from confusion matrices (..., 3, 3), zero for a class absent from gold and predictions."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    fp = conf.sum(-2) - tp
    fn = conf.sum(-1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)
    return f1.mean(-1)


def _span_f1(sums: np.ndarray) -> np.ndarray:
    """Partial-overlap F1 from (..., 4) sums."""
    p = np.divide(sums[..., 0], sums[..., 1], out=np.zeros(sums.shape[:-1]), where=sums[..., 1] > 0)
    r = np.divide(sums[..., 2], sums[..., 3], out=np.zeros(sums.shape[:-1]), where=sums[..., 3] > 0)
    return np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)


def _metric_values(stats: _Stats, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics for each row of ``weights`` (resamples x docs: how often each document is drawn)."""
    out = {}
    if stats.confusion is not None:
        out["stance_macro_f1"] = _macro_f1(np.einsum("bd,dij->bij", weights, stats.confusion))
    if stats.spans:
        f1s = [_span_f1(weights @ sums) for sums in stats.spans.values()]
        out["si_f1" if stats.si else "device_partial_f1"] = np.mean(f1s, axis=0)
    if stats.free:
        out[UNFLAGGED] = np.mean([_unflagged(weights @ counts) for counts in stats.free.values()], axis=0)
    return out


def _unflagged(counts: np.ndarray) -> np.ndarray:
    """The share of annotated sentences not flagged from (..., 2) sums (annotated, flagged); 1.0 where none is drawn."""
    return 1.0 - np.divide(counts[..., 1], counts[..., 0], out=np.zeros(counts.shape[:-1]), where=counts[..., 0] > 0)


# --------------------------------------------------------------------------- comparison
def compare_models(
    base,
    new,
    datasets: Mapping[str, Sequence[LabelRecord]],
    *,
    new_sets: Collection[str] = (),
    tolerance: float = 0.01,
    min_improvement: float = 0.0,
    require_significant: bool = True,
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    base_raw: dict[str, RawPredictions] | None = None,
    new_raw: dict[str, RawPredictions] | None = None,
) -> GateReport:
    """Evaluate both models (``StanceModel``) on every set and decide (see the module docstring).
    ``new_sets``: names of the sets made of new labels (the others are fixed). ``base_raw`` /
    ``new_raw``: predictions already made, to avoid running a model twice.

    Example:
        >>> compare_models(base, new, {"dev": dev, "new:heldout": held}, new_sets={"new:heldout"}).passed  # doctest: +SKIP
        True
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative, got {tolerance}")
    if bootstrap < 1:
        raise ValueError(f"bootstrap must be at least 1, got {bootstrap}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    if unknown := set(new_sets) - set(datasets):
        raise ValueError(f"new_sets names sets that are not evaluated: {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    rows = []
    for name, records in datasets.items():
        records = list(records)
        if not records:
            raise ValueError(f"evaluation set {name!r} is empty")
        docs = [r.doc_id or f"#{i}" for i, r in enumerate(records)]
        doc_index = {d: i for i, d in enumerate(dict.fromkeys(docs))}
        raw_b = (base_raw or {}).get(name) or predict_raw(base, records)
        raw_n = (new_raw or {}).get(name) or predict_raw(new, records)
        gold_labels = sorted({x.label for r in records for x in r.devices})
        si = SI_LABEL in gold_labels
        channels = [SI_LABEL] if si else gold_labels
        free = [] if si else device_free_labels(records, gold_labels, (base, new))
        sb = _stats(raw_b, base, docs, doc_index, channels, si, free)
        sn = _stats(raw_n, new, docs, doc_index, channels, si, free)
        n_docs = len(doc_index)
        full = np.ones((1, n_docs))
        draws = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=bootstrap).astype(float)
        point_b, point_n = _metric_values(sb, full), _metric_values(sn, full)
        boot_b, boot_n = _metric_values(sb, draws), _metric_values(sn, draws)
        kind = "new" if name in new_sets else "fixed"
        n_items = sum(len(r.targets) for r in records) + sum(len(r.devices) for r in records)
        for metric in point_n:
            b, nv = float(point_b[metric][0]), float(point_n[metric][0])
            diffs = boot_n[metric] - boot_b[metric]
            lo, hi = (float(x) for x in np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2]))
            diff = nv - b
            rule = "fixed" if metric == UNFLAGGED else kind
            failed, reason = _verdict(rule, diff, lo, tolerance, min_improvement, require_significant)
            rows.append(GateRow(name, metric, kind, b, nv, diff, lo, hi, n_docs, n_items, failed, reason))
    if not any(r.kind == "new" and r.metric != UNFLAGGED for r in rows) and new_sets:
        raise ValueError("the new-label sets have no stance targets and no device spans to measure")
    return GateReport(
        tuple(rows),
        not any(r.failed for r in rows),
        tolerance,
        min_improvement,
        require_significant,
        bootstrap,
        level,
        seed,
        sets=tuple(datasets),
    )


def check_against(
    report: GateReport,
    version: str,
    active,
    new,
    datasets: Mapping[str, Sequence[LabelRecord]],
    *,
    active_raw: dict[str, RawPredictions] | None = None,
    new_raw: dict[str, RawPredictions] | None = None,
) -> GateReport:
    """``report`` with the new model compared with ``active`` (the active version ``version``, which a promotion
    would replace) on the same sets, with the gate's own measures and bootstrap: every metric of every set may be
    worse than the active version's by at most the report's tolerance, else the gate fails (``against_reason``).

    Example:
        >>> report = check_against(report, "20261126-101500-1a2b3c4d", active, new, datasets)  # doctest: +SKIP
        >>> report.passed, report.against_reason()  # doctest: +SKIP
    """
    other = compare_models(
        active,
        new,
        datasets,
        tolerance=report.tolerance,
        bootstrap=report.bootstrap,
        level=report.level,
        seed=report.seed,
        base_raw=active_raw,
        new_raw=new_raw,
    )
    rows = tuple(replace(r, kind="vs active") for r in other.rows)
    return replace(report, against=version, against_rows=rows, passed=report.passed and not any(r.failed for r in rows))


def _verdict(kind: str, diff: float, lo: float, tolerance: float, min_improvement: float, significant: bool) -> tuple[bool, str]:
    if kind == "fixed":
        if diff < -tolerance:
            return True, f"dropped {-diff:.4f} > tolerance {tolerance:g}"  # 4 places: a drop of 0.0104 is not "0.010 > 0.01"
        return False, ""
    if diff <= min_improvement:
        return True, f"no improvement on new labels ({diff:+.3f})"
    if significant and lo <= 0:
        return True, f"improvement not significant (interval reaches {lo:+.3f})"
    return False, ""
