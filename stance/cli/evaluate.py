"""`stance evaluate`: a model's measures on dev or held-out sets (training.evaluate does the work)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import MODEL_HELP, console, fail
from stance.model.backends import backend_choices
from training.convert import DEFAULT_DATA_DIR


def evaluate(
    model: Annotated[str, typer.Argument(help=MODEL_HELP)],
    data: Annotated[
        list[str],
        typer.Option(
            metavar="TEXT",
            help="SOURCE:SPLIT (newsmtsc:dev_rw, ptc:test, framing:heldout, ...) or a label-format JSONL file; repeatable",
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write the metrics as JSON here")] = None,
    data_dir: Annotated[str, typer.Option(help="where the public datasets live")] = DEFAULT_DATA_DIR,
    update_card: Annotated[
        bool, typer.Option(help="store the metrics in the model directory's evaluation.json and card")
    ] = False,
    tune_on: Annotated[
        list[str] | None,
        typer.Option(metavar="TEXT", help="first re-tune the device thresholds on these dev sets (saved with --update-card)"),
    ] = None,
    max_flagged: Annotated[
        float | None,
        typer.Option(
            help="with --tune-on: then raise the six devices' thresholds until at most this share of device-free sentences is flagged"
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help=f"{backend_choices()}: evaluate the model as that backend runs it")] = "torch",
) -> None:
    """Stance macro-F1 and confusion matrices; device span P/R/F1 (exact and partial overlap).

    Example: stance evaluate default --data newsmtsc:dev_rw --data my_labels.jsonl --out metrics.json
    """
    from stance.model.modeling import StanceModel
    from stance.store.model_files import resolve_model
    from training.evaluate import evaluate_model, load_datasets, predict_raw, retune_thresholds, store_evaluation

    if out is not None and out.suffix.lower() != ".json":
        fail(f"--out {out}: the metrics are written as JSON; name the file .json")
    if both := sorted(set(tune_on or ()) & set(data)):
        message = (
            f"--tune-on and --data both name {', '.join(both)}: figures on a set the thresholds were tuned on are optimistic"
        )
        if update_card:  # the card's held-out figures must be measured on sets nothing was tuned on
            fail(message + "; with --update-card they would be stored as held-out figures. Evaluate on other sets")
        console.print(f"[yellow]warning:[/] {message}")
    try:
        datasets = load_datasets(data, data_dir)
        tuning = load_datasets(tune_on, data_dir) if tune_on else None
        stance_model = StanceModel.from_pretrained(model, backend=backend)
        stance_model.backend  # noqa: B018 (export / load now: a missing ONNX Runtime is reported here)
    except ValueError as exc:
        fail(str(exc))
    if tuning:
        raws = [predict_raw(stance_model, records) for records in tuning.values()]
        console.print(f"thresholds tuned on {', '.join(tuning)}: {retune_thresholds(stance_model, raws, max_flagged)}")
    result = evaluate_model(stance_model, datasets)
    if out:
        out.write_text(json.dumps(result, indent=2))
    if update_card:
        store_evaluation(resolve_model(model), result, config=stance_model.config if tuning else None)
    console.print_json(json.dumps(result["headline"]))
