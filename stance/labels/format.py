"""The project's label format: one sentence per JSON line.

```json
{"text": "Critics say the so-called reform failed.",
 "targets": [{"start": 0, "end": 7, "stance": "negative"}],
 "devices": [{"start": 0, "end": 11, "label": "unsourced_claim"},
             {"start": 16, "end": 25, "label": "discrediting_attribution"}],
 "source": "my-newsroom", "doc_id": "article-17"}
```

- ``targets``: character spans (Python indices, end exclusive) with a ``stance`` of
  ``negative | neutral | positive`` (``stance`` may be missing in files given to prediction).
- ``devices``: framing-device spans; labels come from the device taxonomy.
- ``device_labels`` (optional): the device labels this line was annotated for. Spans of
  other labels are unknown, not absent, and do not count against the model. Default: every
  label when ``devices`` is present, none when it is missing. Training and evaluation read "every
  label" as the devices people label (``Taxonomy.user_devices``), not PTC's technique labels.
- ``doc_id`` (optional): the article a sentence comes from; splits are made by article.
- Any span may carry ``"text"``: it must equal ``text[start:end]``.
- Any other field is kept as metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from stance.io.lines import json_objects

STANCE_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


class LabelFileError(ValueError):
    """A label file line that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class TargetLabel:
    """A target mention (character span) and, when known, the stance toward it."""

    start: int
    end: int
    stance: str | None = None


@dataclass(frozen=True)
class DeviceLabel:
    """A framing-device span."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class LabelRecord:
    """One labelled sentence.

    Example:
        >>> r = LabelRecord.from_dict({"text": "Putin spoke.", "targets": [{"start": 0, "end": 5, "stance": "neutral"}]})
        >>> r.targets[0].stance
        'neutral'
    """

    text: str
    targets: tuple[TargetLabel, ...] = ()
    devices: tuple[DeviceLabel, ...] = ()
    device_labels: tuple[str, ...] | None = None  # None: every label of the taxonomy
    source: str = ""
    doc_id: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(
        cls,
        obj: Any,
        *,
        known_devices: Iterable[str] | None = None,
        require_stance: bool = False,
    ) -> LabelRecord:
        """Build and validate a record; raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("'text' is missing or empty")
        known = set(known_devices) if known_devices is not None else None
        device_labels = obj.get("device_labels")
        if device_labels is not None:
            if not isinstance(device_labels, list) or not all(isinstance(x, str) for x in device_labels):
                raise ValueError("'device_labels' must be a list of label names")
            if known is not None and (unknown := sorted(set(device_labels) - known)):
                raise ValueError(f"'device_labels' names unknown device labels {unknown}")
            device_labels = tuple(device_labels)
        line_labels = device_labels  # None: every label allowed
        if device_labels is None and "devices" not in obj:
            device_labels = ()  # not annotated for devices at all
        # check_span raises the first problem here, so no span is None (the filter only narrows the type)
        targets = tuple(
            t
            for i, item in enumerate(_list(obj, "targets"))
            if (t := check_span(item, text, f"targets[{i}]", kind="target", require_stance=require_stance)) is not None
        )
        devices = tuple(
            d
            for i, item in enumerate(_list(obj, "devices"))
            if (d := check_span(item, text, f"devices[{i}]", kind="device", known=known, line_labels=line_labels)) is not None
        )
        meta = {k: v for k, v in obj.items() if k not in _FIELDS}
        return cls(
            text=text,
            targets=targets,
            devices=devices,
            device_labels=device_labels,
            source=str(obj.get("source", "")),
            doc_id=str(obj.get("doc_id", "")),
            meta=meta,
        )

    def annotated_devices(self, taxonomy: Iterable[str]) -> tuple[str, ...]:
        """The device labels this sentence was annotated for (see the module docstring)."""
        return tuple(taxonomy) if self.device_labels is None else self.device_labels

    def to_dict(self) -> dict[str, Any]:
        """The record as a line of the label format (each span with its own ``text``), which :meth:`from_dict` reads back.

        Example:
            >>> LabelRecord("Putin spoke.", (TargetLabel(0, 5, "neutral"),), device_labels=()).to_dict()
            {'text': 'Putin spoke.', 'targets': [{'start': 0, 'end': 5, 'text': 'Putin', 'stance': 'neutral'}]}
        """
        out: dict[str, Any] = {"text": self.text}
        # each span's own text too: a file whose offsets were shifted later (another tool's counting) fails the check
        out["targets"] = [
            {"start": t.start, "end": t.end, "text": self.text[t.start : t.end], **({"stance": t.stance} if t.stance else {})}
            for t in self.targets
        ]
        if self.device_labels != ():  # an empty tuple means "not annotated for devices"
            out["devices"] = [
                {"start": d.start, "end": d.end, "text": self.text[d.start : d.end], "label": d.label} for d in self.devices
            ]
        if self.device_labels:
            out["device_labels"] = list(self.device_labels)
        if self.source:
            out["source"] = self.source
        if self.doc_id:
            out["doc_id"] = self.doc_id
        out.update(self.meta)
        return out


_FIELDS = {"text", "targets", "devices", "device_labels", "source", "doc_id"}


def _list(obj: dict, key: str) -> list:
    value = obj.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"'{key}' must be a list")
    return value


Report = Callable[[str, str], None]
"""``report(category, message)``: what :func:`check_span` does with each problem it finds."""


def raise_problem(category: str, message: str) -> None:
    """The default :data:`Report`: the first problem is a ValueError."""
    raise ValueError(message)


@overload
def check_span(
    item: Any,
    text: str,
    where: str,
    *,
    kind: Literal["target"],
    known: set[str] | None = None,
    line_labels: Collection[str] | None = None,
    require_stance: bool = False,
    report: Report = raise_problem,
    unknown_hint: str = "",
) -> TargetLabel | None: ...
@overload
def check_span(
    item: Any,
    text: str,
    where: str,
    *,
    kind: Literal["device"],
    known: set[str] | None = None,
    line_labels: Collection[str] | None = None,
    require_stance: bool = False,
    report: Report = raise_problem,
    unknown_hint: str = "",
) -> DeviceLabel | None: ...
def check_span(
    item: Any,
    text: str,
    where: str,
    *,
    kind: str,
    known: set[str] | None = None,
    line_labels: Collection[str] | None = None,
    require_stance: bool = False,
    report: Report = raise_problem,
    unknown_hint: str = "",
) -> TargetLabel | DeviceLabel | None:
    """One target or device span of a label line, checked: the rules that reading a label file
    (:meth:`LabelRecord.from_dict`, the first problem raised) and ``stance labels validate`` (every
    problem collected) share. Each problem goes to ``report(category, message)``; returns the label,
    or None where the span cannot be used (with a ``report`` that does not raise). ``known``: the
    device labels allowed; ``line_labels``: the line's own ``device_labels``; ``unknown_hint``: added
    to an unknown device's message (``{label}`` filled in).

    Example:
        >>> check_span({"start": 0, "end": 5, "stance": "neutral"}, "Putin spoke.", "targets[0]", kind="target")
        TargetLabel(start=0, end=5, stance='neutral')
        >>> found = []
        >>> check_span({"start": 0, "end": 9, "stance": "nice"}, "Putin.", "targets[0]", kind="target",
        ...            report=lambda category, message: found.append(category))
        >>> found
        ['offsets']
    """
    if not isinstance(item, dict):
        report("format", f"{where} must be an object")
        return None
    start, end = item.get("start"), item.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        report("format", f"{where}: 'start' and 'end' must be integers")
        return None
    if problem := span_problem(start, end, text):
        report("offsets", f"{where}: {problem}")
        return None
    if "text" in item and item["text"] != text[start:end]:
        report("text_mismatch", f"{where}: span text {item['text']!r} does not match text[{start}:{end}] = {text[start:end]!r}")
    if kind == "target":
        stance = item.get("stance")
        if stance is None and require_stance:
            report("format", f"{where}: 'stance' is missing")
        if stance is not None and stance not in STANCE_LABELS:
            report("unknown_label", f"{where}: unknown stance {stance!r} (expected one of {', '.join(STANCE_LABELS)})")
            return None
        return TargetLabel(start, end, stance)
    label = item.get("label")
    if not isinstance(label, str):
        report("format", f"{where}: 'label' is missing")
        return None
    if known is not None and label not in known:
        close = _close_label(label, known)
        guess = f": did you mean {close!r}?" if close else ""
        report("unknown_label", f"{where}: unknown device label {label!r}{guess}{unknown_hint.format(label=label)}")
    elif line_labels is not None and label not in line_labels:
        report("format", f"{where}: device label {label!r} is not in this line's 'device_labels'")
    return DeviceLabel(start, end, label)


def _close_label(label: str, known: Iterable[str]) -> str | None:
    """The known device label a misspelt one most likely means ("loaded-language", "Loaded Language" ->
    "loaded_language"), or None."""
    import difflib

    names = sorted(known)
    plain = "_".join(label.lower().replace("-", " ").split())
    if plain in names:
        return plain
    match = difflib.get_close_matches(plain, names, n=1, cutoff=0.8)
    return match[0] if match else None


def span_problem(start: int, end: int, text: str) -> str | None:
    """Why character offsets ``start``-``end`` are no span of ``text`` (None when they are one).

    Example:
        >>> span_problem(6, 0, "Moscow rejected the plan.")
        "span 6-0 is empty or reversed: 'start' must be less than 'end'"
    """
    if start >= end:
        return f"span {start}-{end} is empty or reversed: 'start' must be less than 'end'"
    if start < 0 or end > len(text):
        return f"span {start}-{end} is out of range for a text of {len(text)} characters"
    return None


def read_label_file(
    path: str | Path,
    *,
    known_devices: Iterable[str] | None = None,
    require_stance: bool = False,
) -> Iterator[LabelRecord]:
    """Read a label-format JSONL file; a bad line raises LabelFileError naming file and line.

    Example:
        >>> records = list(read_label_file("labels.jsonl", known_devices=["loaded_language"]))  # doctest: +SKIP
    """
    known = list(known_devices) if known_devices is not None else None
    for lineno, obj in json_objects(path, error=LabelFileError):
        try:
            record = LabelRecord.from_dict(obj, known_devices=known, require_stance=require_stance)
        except ValueError as exc:
            raise LabelFileError(f"{path}:{lineno}: {exc}") from None
        yield record


def write_label_file(records: Iterable[LabelRecord], path: str | Path) -> int:
    """Write records as label-format JSONL; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
