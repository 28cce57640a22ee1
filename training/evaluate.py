"""Evaluate a model on label-format records: stance, device spans, PTC span identification.

``python -m training.evaluate MODEL --data newsmtsc:dev_rw --data ptc:test --out metrics.json``
(the same as ``stance evaluate``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stance.labels.format import LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from stance.model.encoding import DEFAULT_DEVICE_THRESHOLD, PROPAGANDA_SPAN, Encoded, decode_spans, encode_batch
from stance.model.modeling import StanceModel
from training.config import CALIBRATION_OBJECTIVES
from training.convert.allsides import chosen_by_model
from training.metrics import (
    expected_calibration_error,
    fit_temperature,
    fit_temperature_worst_ece,
    merge_spans,
    span_prf,
    stance_metrics,
)

SI_LABEL = PROPAGANDA_SPAN  # the auxiliary label-agnostic PTC span label
FIXED_FRAMING = "framing"


@dataclass
class RawPredictions:
    """Model outputs for records, kept so that spans can be decoded again with other thresholds.

    ``windowed``: the stance probabilities of each gold target that the maximum length cut off its
    sentence, by (record number, target number), read from a window around it as ``stance score``
    reads it (:meth:`StanceModel.stance_in_windows`).

    Example:
        >>> [(gold, probs.argmax()) for _, gold, probs in predict_raw(model, dev).gold_stance()]  # doctest: +SKIP
        [('negative', 0), ('neutral', 1)]
    """

    records: list[LabelRecord]
    encoded: list[Encoded]
    stance: list[np.ndarray]
    devices: list[np.ndarray]
    windowed: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def target_stance(self, i: int, j: int) -> np.ndarray | None:
        """Stance probabilities of record ``i``'s target ``j`` as users get them (None where no window
        could hold it, which needs an absurdly small maximum length)."""
        slot = self.encoded[i].target_slots[j]
        return self.stance[i][slot] if slot is not None else self.windowed.get((i, j))

    def gold_stance(self) -> Iterator[tuple[int, str, np.ndarray | None]]:
        """``(record number, gold label, probabilities)`` of every target with a gold stance: the one
        reading of predicted stance that evaluation, calibration and the retrain gate share."""
        for i, r in enumerate(self.records):
            for j, t in enumerate(r.targets):
                if t.stance is not None:
                    yield i, t.stance, self.target_stance(i, j)

    def calibrated(self, calibrate: Callable[[np.ndarray], np.ndarray]) -> None:
        """Rescale every stance probability in place (``calibrate``: e.g. ``InferenceSettings.calibrate``)."""
        self.stance = [calibrate(sp) for sp in self.stance]
        self.windowed = {k: calibrate(p[None])[0] for k, p in self.windowed.items()}


def predict_raw(model: StanceModel, records: Sequence[LabelRecord], batch_size: int = 64) -> RawPredictions:
    """Run the model once over records (their gold targets are the targets); a model saved with
    ``one_target_per_pass`` (a teacher) gives each target's stance from a pass of its own. A target
    past the maximum length is read from a window around it, as users get it.

    Example:
        >>> raw = predict_raw(model, records)  # doctest: +SKIP
        >>> evaluate_raw(raw, model)["stance"]["macro_f1"]  # doctest: +SKIP
        0.81
    """
    records = list(records)
    texts = [r.text for r in records]
    spans = [[(t.start, t.end) for t in r.targets] for r in records]
    encoded = encode_batch(model.tokenizer, texts, spans, max_length=model.config.max_seq_length)
    stance, devices = [], []
    for sp, dp in model.run(encoded, batch_size=batch_size):
        stance.append(sp)
        devices.append(dp)
    if getattr(model.config, "one_target_per_pass", False):
        stance = stance_one_target_per_pass(model, texts, encoded, batch_size=batch_size)
    windowed = model.stance_in_windows(texts, spans, encoded, batch_size=batch_size)
    return RawPredictions(records, encoded, stance, devices, windowed)


def stance_one_target_per_pass(
    model: StanceModel, texts: Sequence[str], encoded: Sequence[Encoded], batch_size: int = 64
) -> list[np.ndarray]:
    """Stance probabilities (targets, labels) per sentence in ``encoded``'s target order, each
    distinct target encoded alone with its markers (passes batched by length).

    Example:
        >>> probs = stance_one_target_per_pass(teacher, texts, encode_batch(tok, texts, spans))  # doctest: +SKIP
    """
    jobs = [(i, k, span) for i, enc in enumerate(encoded) for k, span in enumerate(enc.target_spans)]
    single = encode_batch(
        model.subwords, [texts[i] for i, _, _ in jobs], [[span] for _, _, span in jobs], max_length=model.settings.max_seq_length
    )
    out = [np.zeros((len(enc.target_spans), len(model.stance_labels)), dtype=np.float32) for enc in encoded]
    for (i, k, _), enc, (sp, _) in zip(jobs, single, model.run(single, batch_size=batch_size)):
        if enc.target_slots[0] is not None:
            out[i][k] = sp[enc.target_slots[0]]
    return out


def evaluate_raw(
    raw: RawPredictions,
    model: StanceModel,
    thresholds: Mapping[str, float] | None = None,
    min_scores: Mapping[str, float] | None = None,
) -> dict:
    """Metrics for one dataset from raw predictions (the model's device thresholds and minimum span scores
    unless given)."""
    thresholds = model.config.device_thresholds if thresholds is None else thresholds
    min_scores = model.config.device_min_scores if min_scores is None else min_scores
    labels = model.stance_labels
    gold_st, pred_st, probs_st, gold_ece = [], [], [], []
    for _, gold_label, p in raw.gold_stance():
        gold_st.append(gold_label)
        pred_st.append(labels[int(p.argmax())] if p is not None else "neutral")
        if p is not None:  # no window held it (not with a sane max_seq_length): counted neutral for F1, not in the ECE
            probs_st.append(p)
            gold_ece.append(labels.index(gold_label))
    out: dict = {}
    if gold_st:
        out["stance"] = stance_metrics(gold_st, pred_st)
        out["stance"]["ece"] = expected_calibration_error(np.array(probs_st).reshape(-1, len(labels)), gold_ece)
    names = model.config.device_labels
    predicted = [
        decode_spans(dp, enc.offsets, names, thresholds, r.text, min_scores)
        for r, enc, dp in zip(raw.records, raw.encoded, raw.devices)
    ]
    per_label = {}
    for label in names:
        rows = [i for i, r in enumerate(raw.records) if label in r.annotated_devices(names)]
        gold = [[(d.start, d.end) for d in raw.records[i].devices if d.label == label] for i in rows]
        if not rows or not any(gold):
            continue
        pred = [[(s, e) for s, e, lab, _ in predicted[i] if lab == label] for i in rows]
        per_label[label] = span_prf(gold, pred)
    if per_label:
        out["devices"] = per_label
    si_rows = [i for i, r in enumerate(raw.records) if SI_LABEL in r.annotated_devices(names)]
    gold = [merge_spans((d.start, d.end) for d in raw.records[i].devices if d.label == SI_LABEL) for i in si_rows]
    if SI_LABEL in names and any(gold):  # only where the data has propaganda spans to find (PTC)
        out["span_identification"] = {
            "from_propaganda_span": span_prf(
                gold, [merge_spans((s, e) for s, e, lab, _ in predicted[i] if lab == SI_LABEL) for i in si_rows]
            ),
            "from_all_devices": span_prf(gold, [merge_spans((s, e) for s, e, _, _ in predicted[i]) for i in si_rows]),
        }
    return out


def tune_thresholds(
    raws: Sequence[RawPredictions], model: StanceModel, grid: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6)
) -> dict[str, float]:
    """Per device label, the threshold with the best partial-overlap F1 on the given dev data."""
    best: dict[str, float] = {}
    for label in model.config.device_labels:
        scores = []
        for thr in grid:
            if (f1 := _mean_partial_f1(raws, model, label, thresholds={label: thr})) is not None:
                scores.append((f1, -abs(thr - 0.5), thr))
        if scores:
            best[label] = max(scores)[2]
    return best


def _mean_partial_f1(
    raws: Sequence[RawPredictions],
    model: StanceModel,
    label: str,
    *,
    thresholds: Mapping[str, float] | None = None,
    min_scores: Mapping[str, float] | None = None,
) -> float | None:
    """``label``'s partial-overlap F1 averaged over the dev sets of ``raws`` that annotate it (None where none
    does), decoded as :func:`evaluate_raw` decodes: the tuning objective of thresholds and minimum span scores."""
    devices = (evaluate_raw(raw, model, thresholds, min_scores).get("devices", {}) for raw in raws)
    f1s = [d[label]["partial"]["f1"] for d in devices if label in d]
    return float(np.mean(f1s)) if f1s else None


MIN_SCORE_GRID = (0.0, 0.3, 0.4, 0.5, 0.6)
MIN_SCORE_LABELS = (SI_LABEL,)  # the label-agnostic PTC spans; the six fixed devices keep the false-alarm limit instead


def tune_min_scores(
    raws: Sequence[RawPredictions], model: StanceModel, grid: Sequence[float] = MIN_SCORE_GRID
) -> dict[str, float]:
    """Per label of :data:`MIN_SCORE_LABELS` the model has, the minimum span score (0: none) with the best mean
    partial-overlap F1 on the dev data that annotates it, at the model's thresholds; ties go to the lower minimum.
    PTC's span head is tuned to a low token threshold, which finds whole spans but also many doubtful ones: the
    minimum drops those (BENCHMARKS.md 0zd).

    Example:
        >>> tune_min_scores([predict_raw(model, ptc_dev)], model)  # doctest: +SKIP
        {'propaganda_span': 0.3}
    """
    best: dict[str, float] = {}
    for label in MIN_SCORE_LABELS:
        if label not in model.config.device_labels:
            continue
        scores = []
        for floor in grid:
            minimums = {**model.config.device_min_scores, label: floor}
            if (f1 := _mean_partial_f1(raws, model, label, min_scores=minimums)) is not None:
                scores.append((f1, -floor, floor))
        if scores:
            best[label] = max(scores)[2]
    return best


RAISE_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def device_free(record: LabelRecord, names: Sequence[str]) -> bool:
    """Whether a record is annotated for all six fixed devices and holds none of them."""
    six = set(FIXED_DEVICES)
    return six <= set(record.annotated_devices(names)) and not any(d.label in six for d in record.devices)


def flagged_counts(
    raws: Sequence[RawPredictions], model: StanceModel, thresholds: Mapping[str, float], *, model_chosen: bool = False
) -> tuple[int, int]:
    """Device-free sentences (annotated for all six fixed devices, with none of them) and how many of them
    get any of the six at ``thresholds``. By default only sentences not sampled where a model found a device
    (``meta["chosen_by"]``, see ``training.convert.allsides.chosen_by_model``); ``model_chosen``: only those."""
    names = model.config.device_labels
    six = set(FIXED_DEVICES)
    free = flagged = 0
    for raw in raws:
        for r, enc, dp in zip(raw.records, raw.encoded, raw.devices):
            if not device_free(r, names) or chosen_by_model(r.meta) != model_chosen:
                continue
            free += 1
            spans = decode_spans(dp, enc.offsets, names, thresholds, r.text, model.config.device_min_scores)
            flagged += any(label in six for _, _, label, _ in spans)
    return free, flagged


def flagged_share(raws: Sequence[RawPredictions], model: StanceModel, thresholds: Mapping[str, float]) -> float | None:
    """The share of device-free sentences given any of the six fixed devices at ``thresholds``
    (:func:`flagged_counts`); None where the data has no such sentence. Sentences sampled where a model
    found a device are left out: they are rich in that model's false alarms, so they would overstate the
    share on news at large."""
    free, flagged = flagged_counts(raws, model, thresholds)
    return flagged / free if free else None


def limit_flagged(
    raws: Sequence[RawPredictions], model: StanceModel, thresholds: Mapping[str, float], max_share: float
) -> dict[str, float]:
    """Raise the thresholds of the six fixed devices, one grid step at a time, until at most ``max_share``
    of the device-free sentences of every dev set (each alone: hand-written examples do not dilute real
    news) gets one; each step takes the label whose raise costs the least partial-overlap F1 on the dev
    data per point of share it removes. Stops when no raise helps.

    Example:
        >>> limit_flagged([predict_raw(model, dev)], model, model.config.device_thresholds, 0.1)  # doctest: +SKIP
    """
    thresholds = dict(thresholds)

    def worst_share(th: Mapping[str, float]) -> float | None:
        shares = [x for x in (flagged_share([raw], model, th) for raw in raws) if x is not None]
        return max(shares) if shares else None

    def device_f1s(th: Mapping[str, float]) -> dict[str, float]:
        """Mean partial-overlap F1 per label over the dev sets that annotate it."""
        per_label: dict[str, list[float]] = {}
        for raw in raws:
            for label, m in evaluate_raw(raw, model, th).get("devices", {}).items():
                per_label.setdefault(label, []).append(m["partial"]["f1"])
        return {label: float(np.mean(f1s)) for label, f1s in per_label.items()}

    share = worst_share(thresholds)
    if share is None:  # no device-free sentence in the dev data: nothing to limit
        return thresholds
    best = (share, dict(thresholds))
    while share > max_share:
        current = device_f1s(thresholds)
        lower, level = [], []  # raises that remove share; raises that keep it (several labels flag the same sentences)
        for label in FIXED_DEVICES:
            higher = [g for g in RAISE_GRID if g > thresholds.get(label, DEFAULT_DEVICE_THRESHOLD)]
            if not higher:
                continue
            trial_thresholds = {**thresholds, label: higher[0]}
            trial = worst_share(trial_thresholds) or 0.0  # never None here: device-free rows do not depend on thresholds
            loss = current.get(label, 0.0) - device_f1s(trial_thresholds).get(label, 0.0)
            if trial < share:
                lower.append((loss / (share - trial), label, higher[0], trial))
            elif trial == share:
                level.append((loss, label, higher[0], trial))
        if not lower and not level:
            break
        _, label, thr, share = min(lower or level)  # thresholds only rise: the loop ends
        thresholds[label] = thr
        if share < best[0]:
            best = (share, dict(thresholds))
    return best[1]  # the first thresholds that reached the lowest share (the start when none did better)


def calibrate_stance(raws: Sequence[RawPredictions], model: StanceModel, objective: str = "nll") -> float:
    """Fit the stance temperature on the gold targets of ``raws`` (predicted at temperature 1) and
    store it in the model's config; returns it. The raw predictions are rescaled in place.
    ``objective``: ``nll`` (the pooled log-likelihood) or ``worst_ece`` (the largest calibration
    error of any one of ``raws``, each a dev set)."""
    if objective not in CALIBRATION_OBJECTIVES:
        raise ValueError(f"stance calibration objective must be one of {CALIBRATION_OBJECTIVES}, not {objective!r}")
    labels = model.stance_labels
    groups = []
    for raw in raws:
        probs, gold = [], []
        for _, label, p in raw.gold_stance():
            if p is not None:
                probs.append(p)
                gold.append(labels.index(label))
        if gold:
            groups.append((np.array(probs), gold))
    if not groups:
        return 1.0
    if objective == "worst_ece":
        temperature = fit_temperature_worst_ece(groups)
    else:
        temperature = fit_temperature(np.concatenate([p for p, _ in groups]), [x for _, g in groups for x in g])
    model.config.stance_temperature = temperature
    settings = model.settings
    for raw in raws:
        raw.calibrated(settings.calibrate)
    return temperature


def headline(metrics: dict[str, dict]) -> dict[str, float]:
    """A few numbers per dataset, and ``score``: their mean, the early-stopping metric."""
    flat = {}
    for name, m in metrics.items():
        if "stance" in m:
            flat[f"{name}/stance_macro_f1"] = m["stance"]["macro_f1"]
        if "span_identification" in m:
            flat[f"{name}/si_f1"] = m["span_identification"]["from_propaganda_span"]["partial"]["f1"]
        elif "devices" in m:
            f1s = [v["partial"]["f1"] for v in m["devices"].values()]
            flat[f"{name}/device_partial_f1"] = float(np.mean(f1s))
    flat["score"] = float(np.mean(list(flat.values()))) if flat else 0.0
    return flat


def evaluate_model(model: StanceModel, datasets: Mapping[str, Sequence[LabelRecord]], batch_size: int = 64) -> dict:
    """Metrics per dataset plus ``headline``.

    Example:
        >>> evaluate_model(model, {"newsmtsc:dev_rw": records})["headline"]["score"]  # doctest: +SKIP
    """
    metrics = {name: evaluate_raw(predict_raw(model, recs, batch_size), model) for name, recs in datasets.items()}
    return {"datasets": metrics, "headline": headline(metrics)}


def load_datasets(items: Sequence[str], data_dir: str) -> dict[str, list[LabelRecord]]:
    """Records of each ``SOURCE:SPLIT`` (``newsmtsc:dev_rw``) or label-format JSONL path, by the item as given.

    Example:
        >>> load_datasets(["newsmtsc:dev_rw"], "../shared/data")  # doctest: +SKIP
    """
    from stance.labels.taxonomy import Taxonomy
    from training.config import DataSpec
    from training.data import load_records

    taxonomy = Taxonomy.load()
    out = {}
    for item in items:
        spec = (
            DataSpec(path=item)
            if item.endswith((".jsonl", ".json"))
            else DataSpec(source=item.split(":", 1)[0], split=item.partition(":")[2] or "train")
        )
        try:
            out[item] = list(load_records(spec, data_dir, taxonomy))
        except (ValueError, OSError) as exc:
            raise ValueError(f"{item}: {exc}") from exc
    return out


def retune_thresholds(
    model: StanceModel,
    raws: Sequence[RawPredictions],
    max_flagged: float | None = None,
    *,
    also_tune_on: Sequence[RawPredictions] = (),
) -> dict[str, float]:
    """Re-tune the model's device thresholds on the raw predictions of dev sets (:func:`predict_raw`; in place;
    labels they do not annotate keep theirs); with ``max_flagged``, then raise them until at most that share of
    device-free sentences of each set is flagged. ``also_tune_on``: more predictions that tune thresholds but do
    not count in that limit (`stance retrain`'s new training labels, for device labels it adds); last, the minimum
    span score of PTC's label-agnostic spans (:func:`tune_min_scores`, on ``raws``). The threshold step of
    `stance train`, `stance retrain` and `stance evaluate --tune-on`.

    Example:
        >>> retune_thresholds(model, [predict_raw(model, dev_records)], 0.10)  # doctest: +SKIP
        {'loaded_language': 0.5, ...}
    """
    kept = dict(model.config.device_min_scores)  # thresholds are tuned without a minimum, then the minimum at them
    model.config.device_min_scores = {k: v for k, v in kept.items() if k not in MIN_SCORE_LABELS}
    thresholds = {**model.config.device_thresholds, **tune_thresholds([*raws, *also_tune_on], model)}
    if max_flagged is not None:
        thresholds = limit_flagged(list(raws), model, thresholds, max_flagged)
    model.config.device_thresholds = thresholds
    model.config.device_min_scores = {**kept, **tune_min_scores(list(raws), model)}
    return thresholds


def store_evaluation(model_dir: str | Path, result: dict, *, config: Any = None) -> None:
    """Merge ``result`` (of :func:`evaluate_model`) into the model directory's evaluation.json and rewrite its
    card; with ``config`` (re-tuned thresholds), save that config too."""
    from stance.store.card import write_card

    model_dir = Path(model_dir)
    if config is not None:
        config.to_json_file(model_dir / "config.json")
    path = model_dir / "evaluation.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored.setdefault("datasets", {}).update(result["datasets"])
    stored["held_out"] = {**stored.get("held_out", {}), **result["headline"]}
    path.write_text(json.dumps(stored, indent=2))
    write_card(model_dir)
