"""`stance labels`: check label files, import them from annotation tools, choose what to label next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    rich_markup_mode=None,
    help="Label files: validate, import from Label Studio / doccano, suggest what to label.",
    no_args_is_help=True,
)


def _known_devices(model: str | None, add_device: list[str] | None) -> list[str]:
    """The shipped taxonomy, the model's device labels (when given) and the devices being added."""

    from stance.labels.taxonomy import Taxonomy
    from stance.store.model_files import InferenceSettings, local_model_dir

    known = list(Taxonomy.load().names)
    if model:
        model_dir = local_model_dir(model)
        if model_dir is not None:
            known += InferenceSettings.from_file(model_dir / "config.json").device_labels
    return list(dict.fromkeys([*known, *(add_device or [])]))


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="label-format JSONL file")],
    add_device: Annotated[
        list[str] | None,
        typer.Option(metavar="TEXT", help="a new device label to accept (as for `stance retrain --add-device`); repeatable"),
    ] = None,
    model: Annotated[
        str, typer.Option(help="also accept this model's device labels ('active', a version id, a directory)")
    ] = "active",
    allow_missing_stance: Annotated[bool, typer.Option(help="accept targets without a stance (prediction input)")] = False,
) -> None:
    """Check a label file: unknown labels, misspelt keys, offsets that do not match the text, duplicates,
    contradicting labels for the same span. Prints each problem with its line; exit code 1 when there is any.
    Warnings (overlapping spans of one device, which training merges) are printed too, and exit 0.

    Example:
        stance labels validate new_labels.jsonl --add-device attribution_cue
    """
    from stance.cli.common import console, fail
    from stance.labels.check import validate_label_file

    if not file.is_file():
        fail(f"cannot read {file}")
    found = validate_label_file(
        file, known_devices=_known_devices(model, add_device), require_stance=not allow_missing_stance, warnings=True
    )
    for p in found:
        typer.echo(str(p))
    problems = [p for p in found if p.severity != "warning"]
    if warned := len(found) - len(problems):
        console.print(f"[yellow]{warned} warning(s)[/yellow]: the file can be used as it is")
    if problems:
        kinds = sorted({p.kind for p in problems})
        console.print(f"[red]{len(problems)} problem(s)[/red] on {len({p.line for p in problems})} line(s): {', '.join(kinds)}")
        raise typer.Exit(1)
    from stance.io.lines import utf8_lines

    if not any(line.strip() for _, line in utf8_lines(file)):
        fail(f"{file} holds no labelled sentences", code=1)
    console.print(f"[green]ok[/green]: {file}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Label Studio JSON export or doccano JSONL")],
    out: Annotated[Path, typer.Option("--out", "-o", help="label-format JSONL to write")],
    format: Annotated[str, typer.Option("--format", help="labelstudio or doccano")] = "labelstudio",
    map: Annotated[
        list[str] | None, typer.Option("--map", metavar="TEXT", help="TOOL_LABEL=OUR_LABEL (a stance or a device); repeatable")
    ] = None,
    add_device: Annotated[list[str] | None, typer.Option(metavar="TEXT", help="a new device label to accept; repeatable")] = None,
    model: Annotated[str, typer.Option(help="also accept this model's device labels")] = "active",
    source: Annotated[str, typer.Option(help="the records' 'source' (default: the tool's name)")] = "",
    offsets: Annotated[
        str,
        typer.Option(help="how the tool counts offsets: codepoints (characters) or utf16 (browser tools: an emoji counts two)"),
    ] = "codepoints",
) -> None:
    """Convert a Label Studio JSON export or a doccano JSONL file to the label format.

    Example:
        stance labels import export.json --format labelstudio --out new_labels.jsonl --map "Loaded=loaded_language"
    """
    from stance.cli.common import console, fail
    from stance.labels.format import write_label_file
    from stance.labels.importers import FORMATS, OFFSET_UNITS, import_annotations, offsets_at_risk, parse_label_map

    if format not in FORMATS:  # a bad option value: exit 2, before the file is read
        fail(f"--format: unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    if offsets not in OFFSET_UNITS:
        fail(f"--offsets: unknown offset unit {offsets!r}; expected one of {', '.join(OFFSET_UNITS)}")
    try:
        label_map = parse_label_map(map or [])
    except ValueError as exc:
        fail(str(exc))
    if not file.is_file():
        fail(f"cannot read {file}")
    try:
        imported = import_annotations(
            file,
            format,
            label_map=label_map,
            known_devices=_known_devices(model, add_device),
            source=source,
            offsets=offsets,
        )
    except (ValueError, OSError) as exc:  # the file: exit 1
        fail(str(exc), code=1)
    records = imported.records
    if not records:
        why = f" (skipped {len(imported.skipped)} task(s): {_skipped(imported.skipped)})" if imported.skipped else ""
        fail(f"{file}: no task had a usable annotation; nothing written to {out}{why}", code=1)
    n = write_label_file(records, out)
    console.print(f"wrote {n} labelled sentences to {out}")
    if imported.skipped:
        console.print(f"skipped {len(imported.skipped)} task(s) without a usable annotation: {_skipped(imported.skipped)}")
    if format == "doccano" and offsets == "codepoints" and (risky := offsets_at_risk(records)):
        console.print(
            f"[yellow]note[/yellow]: {risky} of them have an emoji (or another character outside the Basic Multilingual "
            "Plane) before a span, and doccano's export has no span text to check the offsets with: if your doccano "
            f"counts UTF-16 code units, their spans are shifted; compare the span text written in {out}, and import "
            "again with --offsets utf16 if it is off"
        )


def _skipped(skipped, shown: int = 5) -> str:
    """The skipped tasks, grouped by why, the first ``shown`` of each named."""
    by_reason: dict[str, list[str]] = {}
    for s in skipped:
        by_reason.setdefault(s.reason, []).append(s.task)
    parts = [
        f"{len(tasks)} {reason} ({', '.join(tasks[:shown])}{', ...' if len(tasks) > shown else ''})"
        for reason, tasks in by_reason.items()
    ]
    return "; ".join(parts)


@app.command()
def suggest(
    scores: Annotated[
        list[Path], typer.Argument(metavar="PATH", help="`stance score` output (.parquet, .jsonl, .csv) or directories of it")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Label Studio tasks (JSON); the labelling config goes beside it")
    ] = Path("tolabel.json"),
    n: Annotated[int, typer.Option("--n", min=1, help="how many sentences to choose")] = 200,
    strategy: Annotated[
        str,
        typer.Option(
            help="'margin' (top two stance probabilities close), 'entropy', or 'random' (an unbiased sample: for measuring, e.g. a confusion matrix)"
        ),
    ] = "margin",
    seed: Annotated[int, typer.Option(help="seed of --strategy random")] = 0,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="TEXT",
            help="only sentences mentioning this actor (a name, as in stance compare --only); repeatable",
        ),
    ] = None,
    devices: Annotated[
        list[str] | None,
        typer.Option("--devices", metavar="TEXT", help="only sentences where the model found this device; repeatable"),
    ] = None,
    label_device: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT",
            help="a device label annotators will mark (default: every device people label: the six, any added to "
            "configs/devices.yaml or to the model by retraining; not PTC's technique labels); repeatable",
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="the model that scored (its span thresholds; its name in the tasks)")] = "active",
    max_similarity: Annotated[
        float, typer.Option(help="never choose two sentences more similar than this (TF-IDF cosine)")
    ] = 0.8,
) -> None:
    """Choose the sentences whose labels would help the model most (uncertain, and diverse) and write
    them as Label Studio tasks with the model's predictions pre-filled.

    Example:
        stance labels suggest scores.parquet --n 200 --out tolabel.json --only Russia
    """

    from stance.cli.common import console, fail
    from stance.labels.suggest import suggest as choose
    from stance.labels.suggest import write_label_studio_tasks
    from stance.store.model_files import InferenceSettings, local_model_dir
    from stance.store.registry import registry_version

    model_dir = local_model_dir(model)
    settings = InferenceSettings.from_file(model_dir / "config.json") if model_dir else None
    thresholds = settings.device_thresholds if settings else {}
    name = (registry_version(model_dir) if model_dir else None) or model
    try:
        result = choose(
            [str(s) for s in scores],
            n=n,
            strategy=strategy,
            seed=seed,
            actors=only,
            devices=devices,
            thresholds=thresholds,
            device_labels=label_device,
            model_devices=settings.device_labels if settings else (),
            max_similarity=max_similarity,
            model=name,
        )
    except ValueError as exc:
        fail(str(exc))
    tasks, config = write_label_studio_tasks(result, out)
    console.print(
        f"chose {len(result.chosen)} of {result.considered:,} sentences -> {tasks}; Label Studio labelling config: {config}"
    )
