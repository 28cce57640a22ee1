"""Whether a scoring run may be resumed: the same settings and the same input files as when it began.

``--resume`` skips the records an interrupted run has committed and scores the rest, so it is only right
when the inputs read now are the ones read then: a file added to a folder, removed or rewritten would
shift every record after it, and the run would skip some articles and score others twice. A run
therefore records its settings (:meth:`ScoreOptions.settings`) and the state of its input files (path,
size, modification time) when it begins, and the last record of each committed shard; a resume checks
all three, and a refusal says what changed.

Example:
    >>> state = InputState.of(["examples/articles.jsonl"])
    >>> state.changes_since(state) is None
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.io.readers import files_read


@dataclass(frozen=True)
class InputState:
    """The input files of a run as they are now: ``(path, size, modification time in ns)`` each."""

    files: tuple[tuple[str, int, int], ...]

    @classmethod
    def of(cls, inputs: Iterable[str], exclude: Collection[Path] = ()) -> InputState:
        """The state of the files the readers would read for ``inputs`` (standard input has none)."""
        stats = []
        for f in files_read(list(inputs), exclude):
            st = f.stat()
            stats.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
        return cls(tuple(stats))

    @classmethod
    def from_json(cls, data: Sequence[Sequence[Any]]) -> InputState:
        return cls(tuple((str(p), int(size), int(mtime)) for p, size, mtime in data))

    def to_json(self) -> list[list[Any]]:
        return [list(f) for f in self.files]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json()).encode()).hexdigest()[:16]

    def changes_since(self, before: InputState) -> str | None:
        """What differs from ``before``, in words (None when nothing does).

        Example:
            >>> InputState((("a.txt", 5, 1), ("c.txt", 2, 1))).changes_since(InputState((("a.txt", 4, 1), ("b.txt", 3, 1))))
            '1 file added (c.txt), 1 removed (b.txt), 1 changed (a.txt)'
        """
        old = {p: (size, mtime) for p, size, mtime in before.files}
        new = {p: (size, mtime) for p, size, mtime in self.files}
        parts: list[str] = []
        for what, paths in (
            ("added", [p for p in new if p not in old]),
            ("removed", [p for p in old if p not in new]),
            ("changed", [p for p in new if p in old and new[p] != old[p]]),
        ):
            if paths:
                shown = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
                noun = "" if parts else (" file" if len(paths) == 1 else " files")
                parts.append(f"{len(paths)}{noun} {what} ({shown})")
        if not parts and [p for p, _, _ in self.files] != [p for p, _, _ in before.files]:
            parts.append("the files are read in another order")
        return ", ".join(parts) or None


def settings_changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    """The settings that differ, in words: ``backend ('openvino' then, 'auto' now)``.

    Example:
        >>> settings_changes({"backend": "torch", "max_chars": 10}, {"backend": "auto", "max_chars": 10})
        "backend ('torch' then, 'auto' now)"
    """
    names = sorted(set(before) | set(now))
    return "; ".join(f"{k} ({before.get(k)!r} then, {now.get(k)!r} now)" for k in names if before.get(k) != now.get(k))


def record_key(item: Any) -> list[Any]:
    """Where a record came from, to check on resume that the records skipped are the ones committed."""
    return [item.source, item.line, item.id]
