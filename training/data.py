"""Load the data mix of a config as label records mapped to the device taxonomy, and turn
records into model features."""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from stance.labels.format import STANCE_LABELS, DeviceLabel, LabelRecord, read_label_file
from stance.labels.taxonomy import Taxonomy
from stance.model.encoding import NO_OFFSET, Encoded, device_tags, encode_batch
from training.config import DataSpec
from training.convert import get_converter

logger = logging.getLogger("stance.data")


def load_sets(
    specs: Iterable[DataSpec], data_dir: str | Path, taxonomy: Taxonomy, seed: int = 42
) -> dict[str, list[LabelRecord]]:
    """Each spec's records (:func:`load_records`) under its name.

    Example:
        >>> load_sets(config.dev, config.data_dir, Taxonomy.load(), config.seed).keys()  # doctest: +SKIP
        dict_keys(['newsmtsc:dev_rw', 'newsmtsc:dev_mt', ...])
    """
    return {spec.name: load_records(spec, data_dir, taxonomy, seed) for spec in specs}


def load_records(
    spec: DataSpec, data_dir: str | Path, taxonomy: Taxonomy, seed: int = 42, extra_devices: Iterable[str] = ()
) -> list[LabelRecord]:
    """The records of one data spec with device labels mapped to the taxonomy. A label file's lines
    without ``device_labels`` count as annotated for the taxonomy's user devices (:func:`annotated_for_user_devices`).
    ``extra_devices``: device labels outside the taxonomy that label files may hold (added by a retrain).

    Example:
        >>> load_records(DataSpec(source="newsmtsc", split="dev_rw"), "../shared/data", Taxonomy.load())  # doctest: +SKIP
    """
    if spec.source:
        options = {"labels": spec.labels} if spec.labels else {}  # only LABELLED_SOURCES take labels (DataSpec checks)
        raw = list(get_converter(spec.source)(Path(data_dir), spec.split, **options))
        records = [map_to_taxonomy(r, spec.source, taxonomy) for r in raw]
    else:
        extra = [d for d in extra_devices if d not in taxonomy.names]
        records = list(read_label_file(spec.path, known_devices=[*taxonomy.names, *extra]))
        records = annotated_for_user_devices(records, [*taxonomy.user_devices, *extra], ptc_labels=taxonomy.ptc_only)
    if spec.only_labelled:
        records = [r for r in records if r.targets or r.devices]
    if spec.max_records is not None and len(records) > spec.max_records:
        records = random.Random(seed).sample(records, spec.max_records)
    return records * max(1, spec.repeat)


def annotated_for_user_devices(
    records: Iterable[LabelRecord], labels: Iterable[str], *, ptc_labels: Collection[str] | None = None
) -> list[LabelRecord]:
    """Label lines without ``device_labels`` were annotated for ``labels`` (the devices people label), not
    for every label of a model: otherwise each such line would teach the internal PTC labels that nothing
    is there, and PTC span identification collapses (BENCHMARKS.md section 0o: 0.470 -> 0.31). A line that
    names ``ptc_labels`` (PTC's technique labels and ``propaganda_span``; default: the taxonomy's) in its
    ``device_labels`` counts as annotated for one only where it marks a span of it, unless its ``source`` is
    ``ptc`` (PTC's own annotation): older ``stance labels suggest`` tasks named every label the model had found.

    Example:
        >>> r = LabelRecord.from_dict({"text": "A so-called expert spoke.", "devices": []})
        >>> annotated_for_user_devices([r], ["scare_quotes"])[0].device_labels
        ('scare_quotes',)
        >>> said = LabelRecord.from_dict({"text": "It failed.", "devices": [], "device_labels": ["doubt", "scare_quotes"]})
        >>> annotated_for_user_devices([said], ["scare_quotes"])[0].device_labels
        ('scare_quotes',)
    """
    labels = tuple(labels)
    if ptc_labels is None:
        ptc_labels = Taxonomy.load().ptc_only
    ptc = frozenset(ptc_labels) - set(labels)
    return [replace(r, device_labels=labels) if r.device_labels is None else _unmarked_ptc_dropped(r, ptc) for r in records]


def _unmarked_ptc_dropped(record: LabelRecord, ptc: frozenset[str]) -> LabelRecord:
    """``record`` without the ``ptc`` labels of its ``device_labels`` that it marks no span of (PTC's own lines kept)."""
    if record.source == "ptc" or not record.device_labels:
        return record
    marked = {d.label for d in record.devices}
    kept = tuple(x for x in record.device_labels if x not in ptc or x in marked)
    return record if kept == record.device_labels else replace(record, device_labels=kept)


def one_target_per_record(records: Iterable[LabelRecord]) -> list[LabelRecord]:
    """Each record with k targets as k records with one target each (their device labels kept on
    the first only; the copies annotate no device), for models that encode one target per pass; records without targets stay.

    Example:
        >>> [len(r.targets) for r in one_target_per_record([two_target_record])]  # doctest: +SKIP
        [1, 1]
    """
    out = []
    for r in records:
        if len(r.targets) <= 1:
            out.append(r)
            continue
        for k, t in enumerate(r.targets):
            meta = dict(r.meta)
            if "teacher_probs" in meta:
                meta["teacher_probs"] = [meta["teacher_probs"][k]]
            first = k == 0
            out.append(
                replace(
                    r, targets=(t,), devices=r.devices if first else (), device_labels=r.device_labels if first else (), meta=meta
                )
            )
    return out


def map_to_taxonomy(record: LabelRecord, source: str, taxonomy: Taxonomy) -> LabelRecord:
    """Rename a converter's raw device labels to taxonomy devices; drop the ones no device uses."""
    devices = []
    for d in record.devices:
        name = taxonomy.map_label(source, d.label)
        if name is not None:
            devices.append(DeviceLabel(d.start, d.end, name))
    annotated = taxonomy.annotated(source, record.device_labels)
    return replace(record, devices=tuple(sorted(set(devices), key=lambda d: (d.start, d.end, d.label))), device_labels=annotated)


def build_features(records: Iterable[LabelRecord], tokenizer, device_labels: list[str], max_length: int) -> list[dict[str, Any]]:
    """Model features with training labels, one dict per record (``input_ids`` for length grouping). Labelled
    targets and device spans that lie wholly past ``max_length`` tokens cannot be trained on: a warning
    (logger ``stance.data``) says how many (:func:`count_past_max_length`).

    Example:
        >>> features = build_features(records, model.tokenizer, model.config.device_labels, 128)  # doctest: +SKIP
    """
    records = list(records)
    label_index = {name: i for i, name in enumerate(device_labels)}
    stance_index = {name: i for i, name in enumerate(STANCE_LABELS)}
    encoded = encode_batch(
        tokenizer, [r.text for r in records], [[(t.start, t.end) for t in r.targets] for r in records], max_length=max_length
    )
    features = []
    for r, enc in zip(records, encoded):
        stance = [-100] * len(enc.target_spans)
        soft = np.zeros((len(enc.target_spans), len(STANCE_LABELS)), dtype=np.float32)
        teacher = r.meta.get("teacher_probs")
        teacher_features = r.meta.get("teacher_features")  # per target, a vector or None (training.distill_features)
        widths = {len(v) for v in teacher_features or () if v is not None}
        if len(widths) > 1:
            raise ValueError(f"teacher features of widths {sorted(widths)} in one sentence: {r.text[:60]!r}")
        feats = np.zeros((len(enc.target_spans), widths.pop()), dtype=np.float16) if widths else None
        for j, (t, slot) in enumerate(zip(r.targets, enc.target_slots)):
            if slot is None:
                continue
            if t.stance is not None and stance[slot] == -100:
                stance[slot] = stance_index[t.stance]
            if teacher is not None:
                soft[slot] = teacher[j]
            if feats is not None and teacher_features and teacher_features[j] is not None:
                feats[slot] = teacher_features[j]
        annotated = r.annotated_devices(device_labels)
        tags = device_tags(enc, [(d.start, d.end, d.label) for d in r.devices], label_index, annotated)
        features.append(
            {
                "input_ids": enc.input_ids,
                "enc": enc,
                "stance": stance,
                "stance_soft": soft,
                "devices": tags,
                "stance_features": feats,
            }
        )
    _warn_past_max_length(records, encoded, max_length)
    return features


def count_past_max_length(record: LabelRecord, enc: Encoded) -> tuple[int, int]:
    """How many of ``record``'s labelled targets (with a stance) and device spans its encoding ``enc`` cut off
    (truncated at the model's maximum length): ``(targets, device spans)``.

    Example:
        >>> count_past_max_length(long_record, encode_batch(tok, [long_record.text], max_length=128)[0])  # doctest: +SKIP
        (1, 2)
    """
    if not enc.truncated:
        return 0, 0
    targets = sum(1 for t, slot in zip(record.targets, enc.target_slots) if slot is None and t.stance is not None)
    seen = [(a, b) for a, b in enc.offsets if (a, b) != NO_OFFSET]
    devices = sum(1 for d in record.devices if not any(a < d.end and b > d.start for a, b in seen))
    return targets, devices


def _warn_past_max_length(records: list[LabelRecord], encoded: list[Encoded], max_length: int) -> None:
    counts = [count_past_max_length(r, enc) for r, enc in zip(records, encoded)]
    targets, devices = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if targets or devices:
        logger.warning(
            "%d labelled target(s) and %d device span(s) in %d sentence(s) lie past the maximum length of %d tokens "
            "and are left out of training",
            targets,
            devices,
            sum(1 for c in counts if any(c)),
            max_length,
        )


def describe(records_by_spec: dict[str, list[LabelRecord]], specs: Iterable[DataSpec] = ()) -> dict[str, dict[str, int]]:
    """What each source contributes: sentences, articles, targets and spans per device, each counted once
    where one of ``specs`` (those the records were loaded by) repeats its records (given as ``repeat``).

    Example:
        >>> describe({"a": [LabelRecord("One."), LabelRecord("Two.")] * 2}, [DataSpec(path="a.jsonl", repeat=2)])["a"]
        {'sentences': 2, 'articles': 0, 'targets': 0, 'repeat': 2}
    """
    repeats = {spec.name: spec.repeat for spec in specs}
    out = {}
    for name, records in records_by_spec.items():
        repeat = max(1, repeats.get(name, 1))
        records = records[: len(records) // repeat]  # load_records repeats the whole list
        row = {
            "sentences": len(records),
            "articles": len({r.doc_id for r in records if r.doc_id}),
            "targets": sum(len(r.targets) for r in records),
        }
        for r in records:
            for d in r.devices:
                row[f"spans:{d.label}"] = row.get(f"spans:{d.label}", 0) + 1
        if repeat > 1:
            row["repeat"] = repeat
        out[name] = row
    return out
