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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from stance.io.readers import json_objects

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
        targets = tuple(
            _span(t, text, "targets", i, kind="target", require_stance=require_stance)
            for i, t in enumerate(_list(obj, "targets"))
        )
        devices = tuple(_span(d, text, "devices", i, kind="device", known=known) for i, d in enumerate(_list(obj, "devices")))
        device_labels = obj.get("device_labels")
        if device_labels is not None:
            if not isinstance(device_labels, list) or not all(isinstance(x, str) for x in device_labels):
                raise ValueError("'device_labels' must be a list of label names")
            if known is not None and (unknown := sorted(set(device_labels) - known)):
                raise ValueError(f"'device_labels' names unknown device labels {unknown}")
            for d in devices:
                if d.label not in device_labels:
                    raise ValueError(f"device label {d.label!r} is not in this line's 'device_labels'")
            device_labels = tuple(device_labels)
        elif "devices" not in obj:
            device_labels = ()  # not annotated for devices at all
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


@overload
def _span(
    item: Any,
    text: str,
    key: str,
    index: int,
    *,
    kind: Literal["target"],
    known: set[str] | None = None,
    require_stance: bool = False,
) -> TargetLabel: ...
@overload
def _span(
    item: Any,
    text: str,
    key: str,
    index: int,
    *,
    kind: Literal["device"],
    known: set[str] | None = None,
    require_stance: bool = False,
) -> DeviceLabel: ...
def _span(
    item: Any,
    text: str,
    key: str,
    index: int,
    *,
    kind: str,
    known: set[str] | None = None,
    require_stance: bool = False,
) -> TargetLabel | DeviceLabel:
    where = f"{key}[{index}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object")
    start, end = item.get("start"), item.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise ValueError(f"{where}: 'start' and 'end' must be integers")
    if problem := span_problem(start, end, text):
        raise ValueError(f"{where}: {problem}")
    if "text" in item and item["text"] != text[start:end]:
        raise ValueError(f"{where}: span text {item['text']!r} does not match text[{start}:{end}] = {text[start:end]!r}")
    if kind == "target":
        stance = item.get("stance")
        if stance is None and require_stance:
            raise ValueError(f"{where}: 'stance' is missing")
        if stance is not None and stance not in STANCE_LABELS:
            raise ValueError(f"{where}: unknown stance {stance!r} (expected one of {', '.join(STANCE_LABELS)})")
        return TargetLabel(start, end, stance)
    label = item.get("label")
    if not isinstance(label, str):
        raise ValueError(f"{where}: 'label' is missing")
    if known is not None and label not in known:
        raise ValueError(f"{where}: unknown device label {label!r}")
    return DeviceLabel(start, end, label)


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
