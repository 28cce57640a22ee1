"""Target-given prediction over a JSONL file (``stance predict-stance``).

Each input line is ``{"text": ..., "targets": [{"start": int, "end": int}, ...]}`` (other fields
kept); the output adds ``stance`` and ``probs`` to each target. A bad line stops the run with an
error naming the line, or (``on_error="skip"``) goes to an errors file while the rest go on; with
skip the errors file is written on every run, empty when every line was good.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.io.atomic import atomic_path
from stance.io.errors import error_line
from stance.io.formats import read_jsonl
from stance.io.readers import chunked
from stance.io.records import InputError
from stance.labels.format import LabelRecord
from stance.model.modeling import StanceModel
from stance.run.record import default_errors_path
from stance.run.settings import DEFAULTS


class BadLineError(ValueError):
    """An input line that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class PredictStanceSummary:
    """What :func:`predict_stance_file` did: lines written, bad lines, and the errors file (with ``on_error="skip"``)."""

    written: int
    errors: int
    errors_path: Path | None


def _problem(obj: Any) -> str | None:
    """Why a line's object (or the reader's :class:`InputError` for it) cannot be scored; None when it can."""
    if isinstance(obj, InputError):
        return obj.reason
    try:
        LabelRecord.from_dict(obj)
    except ValueError as exc:
        return str(exc)
    return None if "targets" in obj else "'targets' is missing"


def _line_id(obj: Any) -> str | None:
    """The ``id`` of a bad line's record where the line is a JSON object that has one (for the errors file)."""
    return str(obj["id"]) if isinstance(obj, dict) and obj.get("id") is not None else None


def predict_stance_file(
    model: StanceModel,
    in_path: str | Path,
    out_path: str | Path,
    *,
    on_error: str = "stop",
    errors_path: str | Path | None = None,
    batch_size: int = DEFAULTS.batch_size,
) -> PredictStanceSummary:
    """Add ``stance`` and ``probs`` to every target of every line.

    Example:
        >>> predict_stance_file(StanceModel.from_pretrained(), "in.jsonl", "out.jsonl")  # doctest: +SKIP
        PredictStanceSummary(written=120, errors=0, errors_path=None)
        >>> predict_stance_file(model, "in.jsonl", "out.jsonl", on_error="skip")  # doctest: +SKIP
        PredictStanceSummary(written=118, errors=2, errors_path=PosixPath('out.errors.jsonl'))
    """
    if on_error not in ("stop", "skip"):
        raise ValueError("on_error must be 'stop' or 'skip'")
    in_path, out_path = Path(in_path), Path(out_path)
    errors_file = Path(errors_path) if errors_path else default_errors_path(out_path)
    written = n_errors = 0
    with contextlib.ExitStack() as files:
        tmp = files.enter_context(atomic_path(out_path, tmp_name=out_path.name + ".partial"))
        out = files.enter_context(open(tmp, "w", encoding="utf-8"))
        # with skip, the errors file is written on every run (empty when every line was good), as `stance score`
        # writes its own, so that one left by an earlier run never stands beside new output; both appear together
        err = None
        if on_error == "skip":
            err_tmp = files.enter_context(atomic_path(errors_file, tmp_name=errors_file.name + ".partial"))
            err = files.enter_context(open(err_tmp, "w", encoding="utf-8"))
        for chunk in chunked(read_jsonl(in_path), 512):  # the reader of `stance score`: UTF-16 and a BOM read, bad bytes an error
            good = []
            for _, lineno, obj in chunk:
                if (reason := _problem(obj)) is None:
                    good.append(obj)
                elif err is None:
                    raise BadLineError(f"{in_path}:{lineno}: {reason}")
                else:
                    err.write(error_line(InputError(str(in_path), lineno, _line_id(obj), reason)))
                    n_errors += 1
            preds = model.predict(
                [o["text"] for o in good],
                [[(t["start"], t["end"]) for t in o["targets"]] for o in good],
                batch_size=batch_size,
            )
            for obj, pred in zip(good, preds):
                for target, p in zip(obj["targets"], pred.targets):
                    target["stance"] = p.stance
                    target["probs"] = dict(p.probs)  # rounded to 4 decimals by the model, as in every output
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
                written += 1
    return PredictStanceSummary(written, n_errors, errors_file if on_error == "skip" else None)
