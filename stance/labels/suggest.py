"""Choose the sentences whose labels would help the model most (active learning), from
``stance score`` output, and write them as Label Studio tasks with the model's predictions filled in.

Uncertainty of a sentence (``strategy``):

- ``margin`` (default): 1 minus the smallest gap between the two most probable stances over its
  mentions (a 0.41 / 0.39 split scores 0.98);
- ``entropy``: the largest normalised entropy of a mention's stance probabilities;
- device spans of the labels offered count too: a span whose score is just above its threshold is uncertain
  (``1 - |score - threshold| / (1 - threshold)``); the sentence takes the larger of the two;
- ``random``: a seeded uniform sample of the sentences with a mention (of ``actors``, when given),
  without the diversity filter. The uncertain sentences teach the model most; a random sample is what
  measures it without bias, e.g. for a confusion matrix of your own collection to correct
  ``stance compare`` with (label them, ``stance evaluate MODEL --data labels.jsonl --out eval.json``,
  ``stance compare ... --confusion eval.json``).

Diversity: the ``pool_factor × n`` most uncertain sentences are the pool; from it sentences are picked
greedily by ``uncertainty × (1 - max cosine similarity to the sentences already picked)`` on word
TF-IDF vectors (scikit-learn), and a sentence more similar than ``max_similarity`` to a picked one is
never picked, so the batch is not ``n`` near-duplicates. Deterministic: ties break by input order.

Output: a JSON list of Label Studio tasks (``data``: text, doc_id, sentence_id, uncertainty, the
device labels to annotate and the row's metadata; ``predictions``: one per task, the model's mention
stances as ``stance`` regions and its spans of the offered device labels as ``devices`` regions) and, beside it,
``<out>.label_config.xml``: the labelling interface to paste into the Label Studio project. The device
labels offered are the devices people label (:func:`user_device_labels`: the six fixed ones, any added to
configs/devices.yaml and the model's added ones), all of them whether the model found them or not, never PTC's
technique labels (the model's own PTC spans are not pre-filled).
Export the annotations as JSON and read them back with ``stance labels import``.

Example:
    >>> result = suggest("scores.parquet", n=200, actors=["Russia"])  # doctest: +SKIP
    >>> write_label_studio_tasks(result, "tolabel.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.labels.format import STANCE_LABELS

STRATEGIES = ("margin", "entropy", "random")


@dataclass(frozen=True)
class Candidate:
    """One sentence of the score output with its uncertainty."""

    doc_id: str
    sentence_id: int
    text: str
    uncertainty: float
    mentions: tuple[dict[str, Any], ...]
    devices: tuple[dict[str, Any], ...]
    meta: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Suggestion:
    """The chosen sentences (most useful first) and how they were chosen."""

    chosen: tuple[Candidate, ...]
    considered: int
    strategy: str
    device_labels: tuple[str, ...]
    model: str


def suggest(
    scores: str | Path | Sequence[str | Path],
    *,
    n: int = 200,
    strategy: str = "margin",
    actors: Iterable[str] | None = None,
    devices: Iterable[str] | None = None,
    thresholds: dict[str, float] | None = None,
    device_labels: Iterable[str] | None = None,
    model_devices: Iterable[str] = (),
    pool_factor: int = 5,
    max_similarity: float = 0.8,
    model: str = "",
    seed: int = 0,
) -> Suggestion:
    """Pick ``n`` sentences to label from ``stance score`` output (Parquet, JSONL or CSV).

    ``actors``: only sentences mentioning one of them, and only those mentions count. ``devices``:
    only sentences where the model found one of these devices, and only those spans count.
    ``thresholds``: the model's span thresholds (default 0.5 each). ``device_labels``: the devices
    annotators will label (default: :func:`user_device_labels` of ``model_devices``, the scoring model's
    device labels); only their spans are pre-filled and count toward the uncertainty.

    Example:
        >>> suggest("scores.parquet", n=50, strategy="entropy", devices=["loaded_language"]).chosen[0].text  # doctest: +SKIP
    """
    from stance.io.score_files import as_bool, read_scores
    from stance.model.encoding import DEFAULT_DEVICE_THRESHOLD

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if not 0 < max_similarity <= 1:
        raise ValueError(f"--max-similarity must be in (0, 1], got {max_similarity}")
    frame = read_scores(scores)
    actor_set = set(actors or ()) or None
    device_set = set(devices or ()) or None
    thresholds = thresholds or {}
    meta_columns = [
        c
        for c in frame.columns
        if c not in ("doc_id", "sentence_id", "start", "end", "text", "section", "boilerplate", "mentions", "devices")
    ]
    labels = _offered(device_labels, model_devices, device_set)
    candidates: list[Candidate] = []
    boilerplate = as_bool(frame["boilerplate"]).tolist() if "boilerplate" in frame.columns else [False] * len(frame)
    for row, skip in zip(frame.to_dict("records"), boilerplate, strict=True):
        if skip:
            continue
        where = f"doc {row.get('doc_id')!r} sentence {row.get('sentence_id')}"
        all_devices = _spans(row.get("devices"), where, "devices")
        mentions = [m for m in _spans(row.get("mentions"), where, "mentions") if not actor_set or m.get("actor") in actor_set]
        found = [d for d in all_devices if not device_set or _taxonomy_label(d) in device_set]
        if (actor_set and not mentions) or (device_set and not found):
            continue
        found = [d for d in found if _taxonomy_label(d) in labels]  # what annotators see (pre-filled) and can correct
        stance_u = max(
            (_stance_uncertainty(m.get("probs") or {}, "margin" if strategy == "random" else strategy) for m in mentions),
            default=0.0,
        )
        device_u = max(
            (
                _device_uncertainty(float(d.get("score", 1.0)), thresholds.get(str(d.get("label")), DEFAULT_DEVICE_THRESHOLD))
                for d in found
            ),
            default=0.0,
        )
        meta = {c: str(row[c]) for c in meta_columns if row.get(c) is not None and str(row.get(c)) not in ("", "nan", "None")}
        candidates.append(
            Candidate(
                str(row.get("doc_id", "")),
                int(row.get("sentence_id", 0) or 0),
                str(row["text"]),
                round(max(stance_u, device_u), 6),
                tuple(mentions),
                tuple(found),
                meta,
            )
        )
    if not candidates:
        raise ValueError("no sentences left to choose from" + (" (check --only / --devices)" if actor_set or device_set else ""))
    if strategy == "random":
        import random

        with_mentions = [c for c in candidates if c.mentions]
        if not with_mentions:
            raise ValueError("no sentence with a mention to sample from")
        picked = sorted(random.Random(seed).sample(range(len(with_mentions)), min(n, len(with_mentions))))
        return Suggestion(tuple(with_mentions[i] for i in picked), len(with_mentions), strategy, labels, model)
    order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].uncertainty, i))
    pool = [candidates[i] for i in order[: max(n * pool_factor, n)]]
    chosen = _diverse(pool, n, max_similarity)
    return Suggestion(tuple(chosen), len(candidates), strategy, labels, model)


def _diverse(pool: list[Candidate], n: int, max_similarity: float) -> list[Candidate]:
    """Greedy: highest uncertainty × (1 - similarity to the closest chosen sentence)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(pool) <= 1:
        return pool[:n]
    vectors = TfidfVectorizer(lowercase=True, ngram_range=(1, 2), min_df=1).fit_transform([c.text for c in pool])
    uncertainty = np.array([max(c.uncertainty, 1e-6) for c in pool])
    closest = np.zeros(len(pool))  # max similarity to a chosen sentence
    available = np.ones(len(pool), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < n and available.any():
        gain = np.where(available, uncertainty * (1.0 - closest), -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        sims = (vectors @ vectors[best].T).toarray().ravel()
        closest = np.maximum(closest, sims)
        available &= closest < max_similarity
    return [pool[i] for i in chosen]


def _stance_uncertainty(probs: dict[str, float], strategy: str) -> float:
    values = sorted((float(probs.get(k, 0.0)) for k in STANCE_LABELS), reverse=True)
    if sum(values) <= 0:
        return 0.0
    if strategy == "margin":
        return 1.0 - (values[0] - values[1])
    return -sum(p * math.log(p) for p in values if p > 0) / math.log(len(values))


def _device_uncertainty(score: float, threshold: float) -> float:
    return max(0.0, 1.0 - abs(score - threshold) / max(1.0 - threshold, 1e-6))


def _spans(value: Any, where: str, column: str) -> list[dict[str, Any]]:
    """A ``mentions`` or ``devices`` cell as a list of dicts (read as :func:`stance.io.score_files.as_list`
    reads it); ValueError naming the sentence for an entry that is not an object."""
    from stance.io.score_files import as_list

    items = as_list(value, where, column)
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: every entry of '{column}' must be an object, got {item!r}")
    return [dict(item) for item in items]


def _taxonomy_label(device: dict[str, Any]) -> str:
    """The taxonomy label of an output device: a ``propaganda`` span is labelled as its technique
    (the label it is trained and annotated under)."""
    return str(device.get("technique") or device.get("label"))


def user_device_labels(model_devices: Iterable[str] = ()) -> tuple[str, ...]:
    """The device labels annotators mark: the taxonomy's user devices (the six fixed ones and any added to
    configs/devices.yaml; ``Taxonomy.user_devices``), all of them, and any of ``model_devices`` (a model's device
    labels) beyond the shipped taxonomy (added by ``stance retrain --add-device``). Never PTC's technique labels
    nor ``propaganda_span``: a line offered them would claim to be annotated for them, and retraining would
    teach them that nothing is there.

    Example:
        >>> labels = user_device_labels(["loaded_language", "doubt", "hedge"])
        >>> labels[:2], labels[-1], "doubt" in labels, "scare_quotes" in labels
        (('loaded_language', 'name_calling'), 'hedge', False, True)
    """
    from stance.labels.taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    added = [d for d in model_devices if d not in taxonomy.names]
    return tuple(dict.fromkeys([*taxonomy.user_devices, *added]))


def _offered(device_labels: Iterable[str] | None, model_devices: Iterable[str], device_set: set[str] | None) -> tuple[str, ...]:
    """The labels the tasks offer: ``device_labels`` when given, else :func:`user_device_labels`; plus the
    devices of ``--devices`` that users label (a PTC technique is found, never offered)."""
    labels = tuple(device_labels or ()) or user_device_labels(model_devices)
    if not device_set:
        return labels
    users = set(user_device_labels(model_devices))
    return tuple(dict.fromkeys([*labels, *(d for d in sorted(device_set) if d in users)]))


def to_label_studio_tasks(result: Suggestion) -> list[dict[str, Any]]:
    """Label Studio tasks with the model's predictions pre-filled (see the module docstring)."""
    tasks = []
    for rank, c in enumerate(result.chosen):
        regions = []
        for i, m in enumerate(c.mentions):
            stance = m.get("stance")
            if stance not in STANCE_LABELS:
                continue
            regions.append(
                _region(
                    f"m{i}",
                    "stance",
                    int(m["start"]),
                    int(m["end"]),
                    c.text,
                    stance,
                    float((m.get("probs") or {}).get(stance, 0.0)),
                )
            )
        for i, d in enumerate(c.devices):
            regions.append(
                _region(
                    f"d{i}", "devices", int(d["start"]), int(d["end"]), c.text, _taxonomy_label(d), float(d.get("score", 0.0))
                )
            )
        data = {
            "text": c.text,
            "doc_id": c.doc_id,
            "sentence_id": c.sentence_id,
            "uncertainty": c.uncertainty,
            "rank": rank,
            "device_labels": list(result.device_labels),
            **{k: v for k, v in c.meta.items() if k not in ("text", "doc_id")},
        }
        tasks.append(
            {
                "data": data,
                "predictions": [{"model_version": result.model or "stance", "score": c.uncertainty, "result": regions}],
            }
        )
    return tasks


def _region(rid: str, control: str, start: int, end: int, text: str, label: str, score: float) -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "score": round(score, 4),
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
    }


def label_config(device_labels: Sequence[str]) -> str:
    """The Label Studio labelling interface matching the tasks: mark a target mention with its stance
    (``stance`` control), mark framing-device spans (``devices`` control).

    Example:
        >>> "<Labels name=\\"stance\\"" in label_config(["loaded_language"])
        True
    """
    from xml.sax.saxutils import quoteattr

    colours = {"negative": "#d62728", "neutral": "#7f7f7f", "positive": "#2ca02c"}
    stance = "\n".join(f"    <Label value={quoteattr(s)} background={quoteattr(colours[s])}/>" for s in STANCE_LABELS)
    devices = "\n".join(f"    <Label value={quoteattr(d)}/>" for d in device_labels)
    return (
        "<View>\n"
        '  <Header value="Mark each actor mention with the sentence\'s stance toward it; mark framing-device spans."/>\n'
        f'  <Labels name="stance" toName="text" choice="single">\n{stance}\n  </Labels>\n'
        f'  <Labels name="devices" toName="text">\n{devices}\n  </Labels>\n'
        '  <Text name="text" value="$text" granularity="symbol"/>\n'
        "</View>\n"
    )


def write_label_studio_tasks(result: Suggestion, out: str | Path) -> tuple[Path, Path]:
    """Write the tasks (JSON) and, beside them, ``<out stem>.label_config.xml``; returns both paths.

    Example:
        >>> write_label_studio_tasks(suggest("scores.parquet", n=10), "tolabel.json")  # doctest: +SKIP
        (PosixPath('tolabel.json'), PosixPath('tolabel.label_config.xml'))
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(to_label_studio_tasks(result), indent=1, ensure_ascii=False), encoding="utf-8")
    config = out.with_name(out.stem + ".label_config.xml")
    config.write_text(label_config(result.device_labels), encoding="utf-8")
    return out, config
