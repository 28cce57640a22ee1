"""Check a label file thoroughly: every problem of every line, not just the first.

``stance labels validate FILE`` prints what :func:`validate_label_file` returns and exits 1 when it
finds anything. Problems (``kind``):

- ``encoding``: the file is not UTF-8 from this line on (a byte-order mark is fine);
- ``json``: the line is not a JSON object;
- ``format``: a missing or empty ``text``, a field of the wrong type, a target without a stance;
- ``unknown_label``: a stance other than negative/neutral/positive, a device label that is not in the
  taxonomy (or the model, or the devices being added);
- ``offsets``: a span out of range, or with ``start >= end``;
- ``text_mismatch``: a span's ``text`` that differs from ``text[start:end]``;
- ``duplicate``: the same span twice in a line, or the same sentence (text and doc_id) on two lines;
- ``contradiction``: one target span with two different stances (in a line, or across the lines of a
  repeated sentence).

Example:
    >>> problems = validate_label_file("new_labels.jsonl")  # doctest: +SKIP
    >>> [str(p) for p in problems]  # doctest: +SKIP
    ['new_labels.jsonl:3: offsets: targets[0]: span 40-52 is out of range for a text of 45 characters']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.io.readers import NotUtf8Error, json_error, utf8_lines
from stance.labels.format import STANCE_LABELS, span_problem

KINDS = ("encoding", "json", "format", "unknown_label", "offsets", "text_mismatch", "duplicate", "contradiction")


@dataclass(frozen=True)
class LabelProblem:
    """One problem of a label file, at a line (1-based)."""

    path: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.message}"


def validate_label_file(
    path: str | Path, *, known_devices: Iterable[str] | None = None, require_stance: bool = True
) -> list[LabelProblem]:
    """Every problem in a label-format JSONL file, in line order (empty: the file is good).

    ``known_devices``: accepted device labels (default: the shipped taxonomy). ``require_stance``:
    a target without a stance is a problem (labels for training need one).

    Example:
        >>> validate_label_file("labels.jsonl", known_devices=["loaded_language", "my_new_device"])  # doctest: +SKIP
        []
    """
    if known_devices is None:
        from stance.labels.taxonomy import Taxonomy

        known_devices = Taxonomy.load().names
    known = set(known_devices)
    name = str(path)
    problems: list[LabelProblem] = []
    seen: dict[tuple[str, str], tuple[int, dict[tuple[int, int], str]]] = {}
    try:
        for lineno, line in utf8_lines(path):
            if not line.strip():
                continue

            def add(kind: str, message: str, lineno: int = lineno) -> None:
                problems.append(LabelProblem(name, lineno, kind, message))

            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                add("json", f"not valid JSON ({json_error(exc)})")
                continue
            if not isinstance(obj, dict):
                add("json", f"expected a JSON object, got {type(obj).__name__}")
                continue
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                add("format", "'text' is missing or empty")
                continue
            stances = _check_line(obj, text, known, require_stance, add)
            key = (text, str(obj.get("doc_id", "")))
            if key in seen:
                first, first_stances = seen[key]
                add("duplicate", f"the same sentence as line {first}")
                for span, stance in stances.items():
                    if first_stances.get(span, stance) != stance:
                        add(
                            "contradiction",
                            f"target {span[0]}-{span[1]} is {stance!r} here and {first_stances[span]!r} on line {first}",
                        )
            else:
                seen[key] = (lineno, stances)
    except NotUtf8Error as exc:  # the rest of the file cannot be read either
        problems.append(LabelProblem(name, exc.lineno, "encoding", exc.detail))
    return problems


def _check_line(obj: dict[str, Any], text: str, known: set[str], require_stance: bool, add) -> dict[tuple[int, int], str]:
    """Check the spans of one line; returns its target stances by span."""
    stances: dict[tuple[int, int], str] = {}
    device_labels = obj.get("device_labels")
    if device_labels is not None:
        if not isinstance(device_labels, list) or not all(isinstance(x, str) for x in device_labels):
            add("format", "'device_labels' must be a list of label names")
            device_labels = None
        else:
            for label in sorted(set(device_labels) - known):
                add("unknown_label", f"'device_labels' names the unknown device {label!r}")
    seen_devices: set[tuple[int, int, str]] = set()
    for key in ("targets", "devices"):
        items = obj.get(key, [])
        if items is None:
            continue
        if not isinstance(items, list):
            add("format", f"'{key}' must be a list")
            continue
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                add("format", f"{where} must be an object")
                continue
            start, end = item.get("start"), item.get("end")
            if not isinstance(start, int) or isinstance(start, bool) or not isinstance(end, int) or isinstance(end, bool):
                add("format", f"{where}: 'start' and 'end' must be integers")
                continue
            if problem := span_problem(start, end, text):
                add("offsets", f"{where}: {problem}")
                continue
            if "text" in item and item["text"] != text[start:end]:
                add(
                    "text_mismatch",
                    f"{where}: span text {item['text']!r} does not match text[{start}:{end}] = {text[start:end]!r}",
                )
            if key == "targets":
                stance = item.get("stance")
                if stance is None:
                    if require_stance:
                        add("format", f"{where}: 'stance' is missing")
                    continue
                if stance not in STANCE_LABELS:
                    add("unknown_label", f"{where}: unknown stance {stance!r} (expected one of {', '.join(STANCE_LABELS)})")
                    continue
                if (start, end) in stances:
                    if stances[(start, end)] == stance:
                        add("duplicate", f"{where}: target {start}-{end} is labelled twice")
                    else:
                        add("contradiction", f"{where}: target {start}-{end} is both {stances[(start, end)]!r} and {stance!r}")
                    continue
                stances[(start, end)] = stance
            else:
                label = item.get("label")
                if not isinstance(label, str):
                    add("format", f"{where}: 'label' is missing")
                    continue
                if label not in known:
                    add("unknown_label", f"{where}: unknown device label {label!r}")
                elif device_labels is not None and label not in device_labels:
                    add("format", f"{where}: device label {label!r} is not in this line's 'device_labels'")
                if (start, end, label) in seen_devices:
                    add("duplicate", f"{where}: device span {start}-{end} {label!r} is labelled twice")
                seen_devices.add((start, end, label))
    return stances
