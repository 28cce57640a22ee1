"""`stance predict-stance`: stance toward target spans the user gives (stance.run.predict_stance does the work)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import MODEL_HELP, console, fail
from stance.model.backends import backend_choices
from stance.run.settings import ACTIVE_MODEL, DEFAULTS


def predict_stance(
    input: Annotated[Path, typer.Argument(help="JSONL: {'text': ..., 'targets': [{'start', 'end'}, ...]} per line")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output JSONL (targets gain 'stance' and 'probs')")],
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = ACTIVE_MODEL,
    on_error: Annotated[str, typer.Option(help="'stop' at the first bad line, or 'skip' it to the errors file")] = "stop",
    errors: Annotated[Path | None, typer.Option(help="errors file (default: OUT.errors.jsonl)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="sentences per model batch")] = DEFAULTS.batch_size,
    backend: Annotated[str, typer.Option(help=backend_choices(notes=True))] = DEFAULTS.backend,
) -> None:
    """Stance toward given target spans (for users with their own entity annotations).

    Example: stance predict-stance targets.jsonl --out stances.jsonl --on-error skip

    The network runs on the backend `stance score` uses (--backend, `auto` by default: the fastest one recorded to
    agree with torch for this model).
    """
    from stance.model.backends import check_backend
    from stance.model.modeling import StanceModel
    from stance.run.predict_stance import BadLineError, predict_stance_file

    if not input.is_file():
        fail(f"cannot read {input}")
    if out.suffix.lower() not in (".jsonl", ".ndjson"):
        fail(f"--out {out}: the targets are written as JSONL, one line per input line; name the file .jsonl")
    if on_error not in ("stop", "skip"):
        fail("--on-error must be 'stop' or 'skip'")
    try:
        check_backend(backend)
        stance_model = StanceModel.from_pretrained(model, backend=backend)
    except (ValueError, OSError) as exc:  # a bad backend, not a stance model, a hub id not found: the reason, exit 2
        fail(str(exc))
    try:
        summary = predict_stance_file(stance_model, input, out, on_error=on_error, errors_path=errors, batch_size=batch_size)
    except BadLineError as exc:
        fail(f"{exc} (use --on-error skip to skip bad lines)", code=1)
    console.print(
        f"wrote {summary.written} lines to {out}"
        + (f"; {summary.errors} bad lines in {summary.errors_path}" if summary.errors_path else "")
    )
