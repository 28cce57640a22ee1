"""The project's own hand-written framing-device examples, kept as marked-up text.

One sentence per line, devices marked inline as ``[[label|span text]]``; ``#`` starts a
comment line. Every line is annotated exhaustively for the six fixed devices (so a line
with no marks is a negative example for all six). Marks do not nest.

    Officials [[discrediting_attribution|falsely claimed]] the vote was rigged.
    "We will win," the minister said.

Files: ``training/data/framing_examples/train_*.txt`` (training) and ``heldout_*.txt``
(measurement only; never trained on). Each line's ``doc_id`` is ``file:line``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from training.convert.splits import sha256_percent

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "framing_examples"
_MARK = re.compile(r"\[\[([a-z_]+)\|([^\[\]|]+)\]\]")


def parse_line(line: str, *, source: str = "framing", doc_id: str = "") -> LabelRecord:
    """Parse one marked-up line into a label record.

    Example:
        >>> r = parse_line("They [[loaded_language|slammed]] the plan.")
        >>> r.text, r.devices[0].label, r.text[r.devices[0].start:r.devices[0].end]
        ('They slammed the plan.', 'loaded_language', 'slammed')
    """
    text_parts: list[str] = []
    devices: list[DeviceLabel] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(line):
        before = line[pos : m.start()]
        text_parts.append(before)
        length += len(before)
        label, span = m.group(1), m.group(2)
        if label not in FIXED_DEVICES:
            raise ValueError(f"unknown device label {label!r} in mark {m.group(0)!r}")
        devices.append(DeviceLabel(length, length + len(span), label))
        text_parts.append(span)
        length += len(span)
        pos = m.end()
    text_parts.append(line[pos:])
    text = "".join(text_parts)
    if "[[" in text or "]]" in text:
        raise ValueError("unbalanced or malformed [[label|span]] mark")
    return LabelRecord(text=text, devices=tuple(devices), device_labels=FIXED_DEVICES, source=source, doc_id=doc_id)


def read_markup_file(path: Path, source: str = "framing") -> Iterator[LabelRecord]:
    """Parse a marked-up file; a bad line raises ValueError naming file and line."""
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                yield parse_line(line, source=source, doc_id=f"{path.name}:{lineno}")
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: {exc}") from None


def convert(data_dir: Path | None = None, split: str = "train") -> Iterator[LabelRecord]:
    """Records of a split (``data_dir`` is unused: the files ship with the project).

    ``train`` and ``dev`` divide the ``train_*.txt`` lines by a stable hash (90/10); ``heldout``
    is the ``heldout_*.txt`` files, written separately and never trained or tuned on.
    """
    if split not in ("train", "dev", "heldout"):
        raise ValueError(f"framing examples have splits 'train', 'dev' and 'heldout', not {split!r}")
    pattern = "heldout_*.txt" if split == "heldout" else "train_*.txt"
    for path in sorted(EXAMPLES_DIR.glob(pattern)):
        for record in read_markup_file(path, source=f"framing-{split}"):
            if split == "heldout" or _dev_bucket(record.text) == (split == "dev"):
                yield record


def _dev_bucket(text: str) -> bool:
    return sha256_percent(text) % 10 == 0
