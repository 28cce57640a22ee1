"""Check a label file thoroughly: every problem of every line, not just the first.

``stance labels validate FILE`` prints what :func:`validate_label_file` returns and exits 1 when it
finds anything. Problems (``kind``):

- ``encoding``: the file is not UTF-8 from this line on (a byte-order mark is fine);
- ``json``: the line is not a JSON object;
- ``format``: a missing or empty ``text``, a field of the wrong type, a target without a stance, a
  misspelt key (``target`` for ``targets``, ``stances`` for ``stance``: any other key is kept as metadata
  and carries no labels), or a line with a doccano / Label Studio field and no labels (not yet imported);
- ``unknown_label``: a stance other than negative/neutral/positive, a device label that is not in the
  taxonomy (or the model, or the devices being added with ``--add-device``);
- ``offsets``: a span out of range, or with ``start >= end``;
- ``text_mismatch``: a span's ``text`` that differs from ``text[start:end]``;
- ``duplicate``: the same span twice in a line, or the same sentence (text and doc_id) on two lines;
- ``contradiction``: one target span with two different stances (in a line, or across the lines of a
  repeated sentence, under the same ``doc_id`` or another).

Warnings (``severity == "warning"``; with ``warnings=True``): they do not make a file unusable.

- ``overlap``: two spans of the same device in a line that share characters: training merges them into one.

Example:
    >>> problems = validate_label_file("new_labels.jsonl")  # doctest: +SKIP
    >>> [str(p) for p in problems]  # doctest: +SKIP
    ['new_labels.jsonl:3: offsets: targets[0]: span 40-52 is out of range for a text of 45 characters']
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.io.lines import NotUtf8Error, json_error, utf8_lines
from stance.labels.format import check_span

KINDS = ("encoding", "json", "format", "unknown_label", "offsets", "text_mismatch", "duplicate", "contradiction")
WARNING_KINDS = ("overlap",)

LINE_KEYS = ("text", "targets", "devices", "device_labels", "source", "doc_id")  # the label format's fields
SPAN_KEYS = {"targets": ("start", "end", "text", "stance"), "devices": ("start", "end", "text", "label")}
_ADD_DEVICE = " (a new device? accept it with --add-device {label})"
TOOL_KEYS = {"label": "doccano", "labels": "doccano", "entities": "doccano", "annotations": "labelstudio", "data": "labelstudio"}


@dataclass(frozen=True)
class LabelProblem:
    """One problem (or, with ``severity`` ``warning``, a warning) of a label file, at a line (1-based)."""

    path: str
    line: int
    kind: str
    message: str
    severity: str = "problem"

    def __str__(self) -> str:
        warning = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {warning}{self.kind}: {self.message}"


Add = Callable[..., None]  # add(kind, message): report at the current line


def validate_label_file(
    path: str | Path, *, known_devices: Iterable[str] | None = None, require_stance: bool = True, warnings: bool = False
) -> list[LabelProblem]:
    """Every problem in a label-format JSONL file, in line order (empty: the file is good).

    ``known_devices``: accepted device labels (default: the shipped taxonomy). ``require_stance``:
    a target without a stance is a problem (labels for training need one). ``warnings``: also return
    the warnings (``severity == "warning"``, see the module docstring).

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
    seen: dict[tuple[str, str], int] = {}  # (text, doc_id) -> first line
    stances_by_text: dict[str, dict[tuple[int, int], tuple[str, int, str]]] = {}  # text -> span -> (stance, line, doc_id)
    try:
        for lineno, line in utf8_lines(path):
            if not line.strip():
                continue

            def add(kind: str, message: str, lineno: int = lineno, severity: str = "problem") -> None:
                problems.append(LabelProblem(name, lineno, kind, message, severity))

            obj = _json_object(line, add)
            if obj is None:
                continue
            _check_keys(obj, add)
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                add("format", "'text' is missing or empty")
                continue
            stances = _check_line(obj, text, known, require_stance, add)
            doc_id = str(obj.get("doc_id", ""))
            if (text, doc_id) in seen:
                add("duplicate", f"the same sentence as line {seen[(text, doc_id)]}")
            else:
                seen[(text, doc_id)] = lineno
            _check_repeats(stances, stances_by_text.setdefault(text, {}), lineno, doc_id, add)
    except NotUtf8Error as exc:  # the rest of the file cannot be read either
        problems.append(LabelProblem(name, exc.lineno, "encoding", exc.detail))
    return problems if warnings else [p for p in problems if p.severity != "warning"]


def _json_object(line: str, add: Add) -> dict[str, Any] | None:
    """The line's JSON object, or None (reported)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        add("json", f"not valid JSON ({json_error(exc)})")
        return None
    if not isinstance(obj, dict):
        add("json", f"expected a JSON object, got {type(obj).__name__}")
        return None
    return obj


def _check_repeats(
    stances: dict[tuple[int, int], str],
    earlier: dict[tuple[int, int], tuple[str, int, str]],
    lineno: int,
    doc_id: str,
    add: Add,
) -> None:
    """Report a target stance that contradicts an earlier line of the same sentence (any ``doc_id``: a wire story
    under two outlets' ids is one sentence); record the line's stances in ``earlier``."""
    for span, stance in stances.items():
        if span not in earlier:
            earlier[span] = (stance, lineno, doc_id)
            continue
        first, first_line, first_doc = earlier[span]
        if first != stance:
            other = "" if first_doc == doc_id else f" (the same sentence under doc_id {first_doc!r})"
            add("contradiction", f"target {span[0]}-{span[1]} is {stance!r} here and {first!r} on line {first_line}{other}")


def _check_keys(obj: dict[str, Any], add: Add) -> None:
    """Report a key that looks like a misspelt field of the label format, and a tool's field on a line without labels."""
    for key in obj:
        if (match := _misspelt(key, LINE_KEYS)) is not None:
            add("format", f"unknown key {key!r}: did you mean {match!r}? (other keys are kept as metadata and carry no labels)")
    if "targets" in obj or "devices" in obj:
        return
    for key in obj:
        if key in TOOL_KEYS:
            add(
                "format",
                f"the key {key!r} of a {TOOL_KEYS[key]} export and no 'targets' or 'devices': this line carries no labels "
                f"(convert the export with `stance labels import --format {TOOL_KEYS[key]}`)",
            )


def _misspelt(key: str, fields: Iterable[str]) -> str | None:
    """The field ``key`` looks like a misspelling of (None: it is one, or looks like none).

    Example:
        >>> _misspelt("target", LINE_KEYS), _misspelt("outlet", LINE_KEYS), _misspelt("targets", LINE_KEYS)
        ('targets', None, None)
    """
    names = list(fields)
    if key in names:
        return None
    match = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.8)
    return match[0] if match else None


def _check_overlaps(spans: list[tuple[int, int, str]], add: Add) -> None:
    """Warn about spans of one device that share characters (training merges them into one)."""
    spans = sorted(set(spans), key=lambda x: (x[2], x[0], x[1]))
    for (s1, e1, a), (s2, e2, b) in zip(spans, spans[1:]):
        if a == b and s2 < e1:
            add(
                "overlap",
                f"device spans {s1}-{e1} and {s2}-{e2} of {a!r} overlap: training merges them into one span",
                severity="warning",
            )


def _check_line(obj: dict[str, Any], text: str, known: set[str], require_stance: bool, add: Add) -> dict[tuple[int, int], str]:
    """Check the spans of one line; returns its target stances by span."""
    stances: dict[tuple[int, int], str] = {}
    device_labels = obj.get("device_labels")
    if device_labels is not None:
        if not isinstance(device_labels, list) or not all(isinstance(x, str) for x in device_labels):
            add("format", "'device_labels' must be a list of label names")
            device_labels = None
        else:
            for label in sorted(set(device_labels) - known):
                add("unknown_label", f"'device_labels' names the unknown device {label!r}{_ADD_DEVICE.format(label=label)}")
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
            if isinstance(item, dict):
                for field in item:
                    if (match := _misspelt(field, SPAN_KEYS[key])) is not None:
                        add("format", f"{where}: unknown key {field!r}: did you mean {match!r}?")
            if key == "targets":
                target = check_span(item, text, where, kind="target", require_stance=require_stance, report=add)
                if target is None or target.stance is None:
                    continue
                span, stance = (target.start, target.end), target.stance
                if span in stances:
                    if stances[span] == stance:
                        add("duplicate", f"{where}: target {span[0]}-{span[1]} is labelled twice")
                    else:
                        add("contradiction", f"{where}: target {span[0]}-{span[1]} is both {stances[span]!r} and {stance!r}")
                    continue
                stances[span] = stance
            else:
                device = check_span(
                    item, text, where, kind="device", known=known, line_labels=device_labels, report=add, unknown_hint=_ADD_DEVICE
                )
                if device is None:
                    continue
                if (device.start, device.end, device.label) in seen_devices:
                    add("duplicate", f"{where}: device span {device.start}-{device.end} {device.label!r} is labelled twice")
                seen_devices.add((device.start, device.end, device.label))
    _check_overlaps(list(seen_devices), add)
    return stances
