"""Import labels from annotation tools into the project's label format (``LabelRecord``).

- **Label Studio** JSON export (``[{"id": 7, "data": {"text": ...}, "annotations": [{"result": [...]}]}, ...]``):
  span results (``type: labels``) whose control (``from_name``) is ``stance`` become targets with that
  stance; those of ``devices`` become device spans. ``stance labels suggest`` writes tasks and a
  labelling config with exactly these two controls. Of several annotations of a task, the one marked
  ``ground_truth`` wins, else the last one not cancelled; tasks without annotation (or with every
  annotation cancelled) are skipped, and :func:`import_annotations` says which.
  ``data.doc_id`` and ``data.device_labels`` (written by ``suggest``) are kept.
- **doccano** JSONL (sequence labelling export): ``{"text": ..., "label": [[start, end, "name"], ...]}``
  or ``{"text": ..., "entities": [{"start_offset": s, "end_offset": e, "label": "name"}, ...]}``.
  A label named ``negative``/``neutral``/``positive`` is a target with that stance, any other a device.

Label names of either tool are mapped with ``label_map`` (``{"Loaded Language": "loaded_language"}``);
a name that is neither a stance nor a known device after mapping is an error naming the file, the line
(doccano) or task id (Label Studio), and the name.

Example:
    >>> records = import_labels("export.json", "labelstudio", label_map={"Neg": "negative"})  # doctest: +SKIP
    >>> write_label_file(records, "new_labels.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.io.lines import json_objects
from stance.labels.format import STANCE_LABELS, LabelRecord, span_problem

FORMATS = ("labelstudio", "doccano")
OFFSET_UNITS = ("codepoints", "utf16")
STANCE_CONTROL = "stance"
DEVICE_CONTROL = "devices"


class LabelImportError(ValueError):
    """A task or line that cannot be imported; the message says where."""


@dataclass(frozen=True)
class SkippedTask:
    """A task of an export that was not imported, and why (``not annotated``, ``every annotation was cancelled``)."""

    task: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """The records imported and the tasks skipped."""

    records: list[LabelRecord]
    skipped: list[SkippedTask]


def import_labels(path: str | Path, fmt: str, **options: Any) -> list[LabelRecord]:
    """Read a Label Studio JSON export or a doccano JSONL file as label records: the records of
    :func:`import_annotations` (its options), which also says which tasks were skipped.

    Example:
        >>> recs = import_labels("admin.jsonl", "doccano", label_map={"LL": "loaded_language"})  # doctest: +SKIP
    """
    return import_annotations(path, fmt, **options).records


def import_annotations(
    path: str | Path,
    fmt: str,
    *,
    label_map: Mapping[str, str] | None = None,
    known_devices: Iterable[str] | None = None,
    source: str = "",
    offsets: str = "codepoints",
) -> ImportResult:
    """A Label Studio JSON export or a doccano JSONL file read as label records, with the tasks skipped (a
    Label Studio task without a usable annotation).

    ``label_map``: the tool's label names to ours. ``known_devices``: device names accepted (default: the
    shipped taxonomy's). ``source``: the records' ``source`` field (default: the tool's name). ``offsets``:
    how the tool counted them, ``codepoints`` (Python's characters) or ``utf16`` (UTF-16 code units, as
    browser-based tools do: a character outside the Basic Multilingual Plane, an emoji, counts two);
    converted to characters.

    Example:
        >>> result = import_annotations("export.json", "labelstudio")  # doctest: +SKIP
        >>> [(s.task, s.reason) for s in result.skipped]  # doctest: +SKIP
        [('task id 12 (#1)', 'not annotated')]
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if offsets not in OFFSET_UNITS:
        raise ValueError(f"unknown offset unit {offsets!r}; expected one of {', '.join(OFFSET_UNITS)}")
    if known_devices is None:
        from stance.labels.taxonomy import Taxonomy

        known_devices = Taxonomy.load().names
    known = set(known_devices)
    mapping = dict(label_map or {})
    skipped: list[SkippedTask] = []
    if fmt == "labelstudio":
        return ImportResult(list(_label_studio(Path(path), mapping, known, source or "labelstudio", offsets, skipped)), skipped)
    return ImportResult(list(_doccano(Path(path), mapping, known, source or "doccano", offsets)), skipped)


def utf16_to_index(text: str, units: int) -> int:
    """The character index of ``text`` at ``units`` UTF-16 code units (past the end where they run past it);
    ValueError where they fall inside a character's surrogate pair.

    Example:
        >>> utf16_to_index("\U0001f642 Putin", 3)  # the emoji counts two units, one character
        2
    """
    count = 0
    for index, char in enumerate(text):
        if count == units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
        if count > units:
            raise ValueError(f"offset {units} (UTF-16 units) falls inside the character {char!r}")
    return len(text) + (units - count)


def offsets_at_risk(records: Iterable[LabelRecord]) -> int:
    """How many records have a character outside the Basic Multilingual Plane (an emoji) before the end of a
    span: where a tool counted UTF-16 code units, those spans are shifted, and without span text in the export
    (doccano) nothing shows it.

    Example:
        >>> from stance.labels.format import LabelRecord
        >>> offsets_at_risk([LabelRecord.from_dict({"text": "\U0001f642 Putin lied.", "targets": [{"start": 2, "end": 7, "stance": "negative"}]})])
        1
    """
    risky = 0
    for record in records:
        end = max([t.end for t in record.targets] + [d.end for d in record.devices], default=0)
        risky += any(ord(c) > 0xFFFF for c in record.text[:end])
    return risky


def parse_label_map(items: Iterable[str]) -> dict[str, str]:
    """``["Loaded Language=loaded_language", ...]`` -> mapping; ValueError on an item without ``=``.

    Example:
        >>> parse_label_map(["Neg=negative", "LL = loaded_language"])
        {'Neg': 'negative', 'LL': 'loaded_language'}
    """
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--map takes TOOL_LABEL=OUR_LABEL, got {item!r}")
        key, value = item.split("=", 1)
        if not key.strip() or not value.strip():
            raise ValueError(f"--map takes TOOL_LABEL=OUR_LABEL, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _record(
    text: Any,
    spans: Sequence[tuple[object, object, str, object]],
    where: str,
    mapping: dict[str, str],
    known: set[str],
    extra: dict[str, Any],
    offsets: str = "codepoints",
) -> LabelRecord:
    """One label record from a tool's text and spans ``(start, end, label, the span's text or None)``."""
    if not isinstance(text, str) or not text.strip():
        raise LabelImportError(f"{where}: the text is missing or empty")
    targets, devices = [], []
    for start, end, raw, said in spans:
        name = mapping.get(raw, raw)
        if offsets == "utf16" and isinstance(start, int) and isinstance(end, int):
            try:
                start, end = utf16_to_index(text, start), utf16_to_index(text, end)
            except ValueError as exc:
                raise LabelImportError(f"{where}: span ({raw!r}): {exc}") from None
        if not isinstance(start, int) or not isinstance(end, int):
            raise LabelImportError(f"{where}: span {start}-{end} ({raw!r}): 'start' and 'end' must be integers")
        if problem := span_problem(start, end, text):  # the label format's own check
            raise LabelImportError(f"{where}: {problem} ({raw!r})")
        if said is not None and text[start:end] != said:
            wide = offsets == "codepoints" and any(ord(c) > 0xFFFF for c in text[:end])
            raise LabelImportError(
                f"{where}: span text {said!r} does not match the text at {start}-{end} ({text[start:end]!r})"
                + ("; the text has characters counted twice in UTF-16 (emoji): try --offsets utf16" if wide else "")
            )
        if name in STANCE_LABELS:
            targets.append({"start": start, "end": end, "stance": name})
        elif name in known:
            devices.append({"start": start, "end": end, "label": name})
        else:
            raise LabelImportError(
                f"{where}: unknown label {raw!r}"
                + (f" (mapped to {name!r})" if name != raw else "")
                + f"; map it with --map '{raw}=LABEL' to a stance ({', '.join(STANCE_LABELS)}) or a device"
            )
    obj = {"text": text, "targets": targets, "devices": devices, **extra}
    try:
        return LabelRecord.from_dict(obj, known_devices=known)
    except ValueError as exc:
        raise LabelImportError(f"{where}: {exc}") from None


def _label_studio(
    path: Path, mapping: dict[str, str], known: set[str], source: str, offsets: str, skipped: list[SkippedTask]
) -> Iterator[LabelRecord]:
    """The records of a Label Studio export; the tasks without a usable annotation go to ``skipped``."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LabelImportError(f"{path}: not a Label Studio JSON export (line {exc.lineno}: {exc.msg})") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise LabelImportError(f"{path}: expected a JSON list of tasks (Label Studio's JSON export)")
    for index, task in enumerate(tasks):
        name = f"task {index}"
        if not isinstance(task, dict):
            raise LabelImportError(f"{path}: {name}: expected an object")
        if "id" in task:
            name = f"task id {task['id']} (#{index})"
        where = f"{path}: {name}"
        data = task.get("data")
        if not isinstance(data, dict):
            raise LabelImportError(f"{where}: no 'data' object")
        annotations = task.get("annotations") or task.get("completions") or []
        annotation = _chosen_annotation(annotations, where)
        if annotation is None:
            skipped.append(SkippedTask(name, "every annotation was cancelled" if annotations else "not annotated"))
            continue
        spans = []
        for j, result in enumerate(annotation.get("result") or []):
            if not isinstance(result, dict) or result.get("type") not in ("labels", None):
                continue  # relations, choices, text areas: not span labels
            value = result.get("value") or {}
            names = value.get("labels") or []
            if "start" not in value or not names:
                continue
            control = result.get("from_name", "")
            for name in names:
                raw = name
                if control == STANCE_CONTROL and mapping.get(name, name) not in STANCE_LABELS:
                    raise LabelImportError(
                        f"{where}: result {j}: the stance control has the label {name!r}; expected {', '.join(STANCE_LABELS)} "
                        f"(map it with --map '{name}=negative' or the like)"
                    )
                if control == DEVICE_CONTROL and mapping.get(name, name) in STANCE_LABELS:
                    raise LabelImportError(f"{where}: result {j}: the devices control has the stance label {name!r}")
                spans.append((value.get("start"), value.get("end"), raw, value.get("text")))  # the text: checked in _record
        extra: dict[str, Any] = {"source": str(data.get("source") or source)}
        if data.get("doc_id") not in (None, ""):
            extra["doc_id"] = str(data["doc_id"])
        if isinstance(data.get("device_labels"), list):
            extra["device_labels"] = data["device_labels"]
        if "id" in task:
            extra["task_id"] = task["id"]
        yield _record(data.get("text"), spans, where, mapping, known, extra, offsets)


def _chosen_annotation(annotations: Any, where: str) -> dict[str, Any] | None:
    if not isinstance(annotations, list):
        raise LabelImportError(f"{where}: 'annotations' must be a list")
    usable = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not usable:
        return None
    truth = [a for a in usable if a.get("ground_truth")]
    return (truth or usable)[-1]


def _doccano(path: Path, mapping: dict[str, str], known: set[str], source: str, offsets: str):
    for lineno, obj in json_objects(path, error=LabelImportError):
        where = f"{path}:{lineno}"
        if "id" in obj:
            where += f" (id {obj['id']})"
        text = obj.get("text", obj.get("data"))
        spans = []
        if isinstance(obj.get("entities"), list):
            for ent in obj["entities"]:
                if not isinstance(ent, dict):
                    raise LabelImportError(f"{where}: each entity must be an object")
                spans.append((ent.get("start_offset"), ent.get("end_offset"), str(ent.get("label")), None))
        else:
            for item in obj.get("label", obj.get("labels", [])) or []:
                if not isinstance(item, (list, tuple)) or len(item) != 3:
                    raise LabelImportError(f"{where}: labels must be [start, end, label] triples, got {item!r}")
                spans.append((item[0], item[1], str(item[2]), None))
        extra: dict[str, Any] = {"source": str(obj.get("source") or source)}
        doc = obj.get("doc_id", obj.get("meta", {}).get("doc_id") if isinstance(obj.get("meta"), dict) else None)
        if doc not in (None, ""):
            extra["doc_id"] = str(doc)
        if "id" in obj:
            extra["doccano_id"] = obj["id"]
        yield _record(text, spans, where, mapping, known, extra, offsets)
