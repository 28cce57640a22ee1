"""The ``stance`` command. Each sub-command is a thin layer over the library; heavy modules
are imported inside the commands so that ``stance --help`` is instant."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import MODEL_HELP, console, fail
from stance.model.backends import BACKENDS, backend_choices
from stance.run.options import ScoreOptions
from stance.run.settings import ACTIVE_MODEL, DEFAULTS

_RUN = ScoreOptions()  # the defaults of a scoring run, written once there (and in DEFAULTS)

# typer (0.29) prints a Python type after a positional argument's name in help ("PATH... <list[Path]>"), with no
# setting to turn it off; an argument given a metavar says enough. Options take a metavar directly.
if hasattr(typer.core, "TyperArgument") and hasattr(typer.core.TyperArgument, "display_type_rich"):
    _argument_type = typer.core.TyperArgument.display_type_rich

    # (typed as the method it replaces, which TyperArgument inherits from typer's _TyperParameter)
    def _argument_type_unless_metavar(self: typer.core._TyperParameter, ctx: typer.core._click.Context) -> str | None:
        return None if self.metavar else _argument_type(self, ctx)

    # a deliberate patch of typer's method (see above), which mypy reports as assigning to a method
    typer.core.TyperArgument.display_type_rich = _argument_type_unless_metavar  # type: ignore[method-assign]

app = typer.Typer(
    rich_markup_mode=None,
    help="Stance toward actors and framing devices in news text.",
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"stance {version('stance')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Stance toward actors and framing devices in news text."""


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="YAML training config, e.g. configs/default.yaml")],
    output_dir: Annotated[str | None, typer.Option(help="overrides output_dir of the config")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the last checkpoint in the output directory")] = False,
) -> None:
    """Train a model from a YAML config (checkpoints, early stopping, metrics in the output directory)."""
    import logging

    from training.config import TrainConfig
    from training.train import train as run_training

    if not config.exists():
        fail(f"config {config} does not exist")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        cfg = TrainConfig.from_yaml(config, output_dir=output_dir)
    except ValueError as exc:
        fail(str(exc))
    result = run_training(cfg, resume=resume)
    console.print_json(json.dumps(result["headline"]))


@app.command()
def evaluate(
    model: Annotated[str, typer.Argument(help=MODEL_HELP)],
    data: Annotated[
        list[str],
        typer.Option(
            metavar="TEXT",
            help="SOURCE:SPLIT (newsmtsc:dev_rw, ptc:test, framing:heldout, ...) or a label-format JSONL file; repeatable",
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="write the metrics as JSON here")] = None,
    data_dir: Annotated[str, typer.Option(help="where the public datasets live")] = "../shared/data",
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
    """Stance macro-F1 and confusion matrices; device span P/R/F1 (exact and partial overlap)."""
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


@app.command("predict-stance")
def predict_stance(
    input: Annotated[Path, typer.Argument(help="JSONL: {'text': ..., 'targets': [{'start', 'end'}, ...]} per line")],
    out: Annotated[Path, typer.Option(help="output JSONL (targets gain 'stance' and 'probs')")],
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = ACTIVE_MODEL,
    on_error: Annotated[str, typer.Option(help="'stop' at the first bad line, or 'skip' it to the errors file")] = "stop",
    errors: Annotated[Path | None, typer.Option(help="errors file (default: OUT.errors.jsonl)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="sentences per model batch")] = DEFAULTS.batch_size,
) -> None:
    """Stance toward given target spans (for users with their own entity annotations)."""
    from stance.model.modeling import StanceModel
    from stance.run.predict_stance import BadLineError, predict_stance_file

    if not input.is_file():
        fail(f"cannot read {input}")
    if out.suffix.lower() not in (".jsonl", ".ndjson"):
        fail(f"--out {out}: the targets are written as JSONL, one line per input line; name the file .jsonl")
    if on_error not in ("stop", "skip"):
        fail("--on-error must be 'stop' or 'skip'")
    try:
        stance_model = StanceModel.from_pretrained(model)
    except (ValueError, OSError) as exc:  # not a stance model, a hub id not found: the reason, exit 2
        fail(str(exc))
    try:
        summary = predict_stance_file(stance_model, input, out, on_error=on_error, errors_path=errors, batch_size=batch_size)
    except BadLineError as exc:
        fail(f"{exc} (use --on-error skip to skip bad lines)", code=1)
    console.print(
        f"wrote {summary.written} lines to {out}"
        + (f"; {summary.errors} bad lines in {summary.errors_path}" if summary.errors_path else "")
    )


@app.command()
def score(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH", help="JSONL, JSON array, CSV, Parquet, directories of .txt/.html/.jsonl, or - (JSONL on stdin)"
        ),
    ],
    out: Annotated[Path, typer.Option(help="output file: .parquet (default format), .jsonl or .csv")],
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = ACTIVE_MODEL,
    actors: Annotated[
        list[Path] | None, typer.Option(metavar="FILE", help="YAML file adding or overriding actor registry entries; repeatable")
    ] = None,
    ner: Annotated[bool, typer.Option(help="find actors missing from the registry with spaCy NER")] = DEFAULTS.use_ner,
    party_members: Annotated[
        str, typer.Option(help="'party': \"Republicans\" count as the Republican Party; 'separate': as a group of their own")
    ] = DEFAULTS.party_members,
    errors: Annotated[Path | None, typer.Option(help="bad input records go here (default: OUT.errors.jsonl)")] = None,
    id_from: Annotated[str, typer.Option(help="'field' (the id column) or 'line' (file:line)")] = _RUN.id_from,
    max_chars: Annotated[int, typer.Option(min=1, help="longer articles go to the errors file")] = _RUN.max_chars,
    encoding: Annotated[
        str, typer.Option(help="text encoding of .txt, .html and .csv files (e.g. latin-1, cp1252)")
    ] = _RUN.encoding,
    text_column: Annotated[str, typer.Option(help="CSV/Parquet column holding the article text")] = _RUN.text_column,
    id_column: Annotated[str, typer.Option(help="CSV/Parquet column holding the article id")] = _RUN.id_column,
    meta: Annotated[
        list[str] | None,
        typer.Option(metavar="TEXT", help="FIELD=VALUE set on every record that lacks it (repeatable), e.g. outlet=Herald"),
    ] = None,
    drop_field: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT",
            help="an input field not to carry onto the rows (repeatable), e.g. html: every sentence row would copy it",
        ),
    ] = None,
    outlet_from: Annotated[str | None, typer.Option(help="'parent': a .txt/.html file's folder name is its outlet")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="sentences per model batch")] = DEFAULTS.batch_size,
    workers: Annotated[
        int, typer.Option(min=0, help="worker processes, each running the whole pipeline; 0 = one per CPU core, at most 4")
    ] = 0,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:1, ...")] = DEFAULTS.device,
    backend: Annotated[str, typer.Option(help=backend_choices(notes=True))] = DEFAULTS.backend,
    shard_size: Annotated[int, typer.Option(min=1, help="input records per committed shard")] = _RUN.shard_articles,
    resume: Annotated[bool, typer.Option(help="finish an interrupted run of the same command")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output")] = False,
    engine: Annotated[
        str,
        typer.Option(
            help="'local' (this machine) or 'ray' (Ray Data on a cluster; pip install 'stance[ray]'; --out is a directory of Parquet parts)"
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="--engine ray: 'auto' (the cluster of this machine), ray://host:port (Ray Client); default: start a local Ray"
        ),
    ] = None,
    actors_per_node: Annotated[
        int,
        typer.Option(
            min=0, help="--engine ray: scoring actors per node, each loading the model once; 0 = one per CPU core, at most 4"
        ),
    ] = 0,
) -> None:
    """Score article collections: one row per sentence with actor stances and framing devices.

    Example: stance score news/ --out scores.parquet

    On a Ray cluster: stance score news/ --out scores.parquet --engine ray --address auto --actors-per-node 8
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from stance.io.readers import (
        FOLDER_SUFFIXES,
        InputPathError,
        check_drop_fields,
        check_encoding,
        check_paths,
        unread_in_folders,
    )
    from stance.io.writers import output_format
    from stance.pipeline.actors import PARTY_MEMBERS
    from stance.run.local import (
        NoInputError,
        OutputCompleteError,
        OutputExistsError,
        WorkerStartError,
        auto_workers,
        decide_backend,
        light_process,
        pin_model,
        score_collection,
        worker_threads,
    )
    from stance.run.options import check_device

    try:
        if engine not in ("local", "ray"):
            raise ValueError(f"--engine must be 'local' or 'ray', not {engine!r}")
        if resume and overwrite:
            raise ValueError("--resume and --overwrite contradict each other: give one (resume keeps the finished shards)")
        if engine == "local" and (address is not None or actors_per_node):
            raise ValueError("--address and --actors-per-node are for --engine ray")
        check_device(device)
        if engine == "local":
            check_paths(inputs, text_column=text_column, id_column=id_column, id_from=id_from)
            for folder, skipped in unread_in_folders(inputs).items():
                console.print(
                    f"[yellow]note:[/yellow] {folder}: {sum(skipped.values())} files not read ("
                    + ", ".join(f"{suffix}: {n}" for suffix, n in skipped.items())
                    + f"); a folder's {', '.join(sorted(FOLDER_SUFFIXES))} files are read, other files must be given as inputs of their own"
                )
        elif resume:
            raise ValueError("--resume is for the local engine; a Ray run retries failed work itself (rerun with --overwrite)")
        constant = tuple(_field_value(m) for m in meta or ())
        if outlet_from not in (None, "parent"):
            raise ValueError(f"--outlet-from must be 'parent', not {outlet_from!r}")
        if engine == "ray" and (
            meta
            or drop_field
            or outlet_from
            or (text_column, id_column, encoding) != (_RUN.text_column, _RUN.id_column, _RUN.encoding)
        ):
            raise ValueError(
                "--meta, --drop-field, --outlet-from, --text-column, --id-column and --encoding are for the local engine"
            )
        check_drop_fields(drop_field or (), text_column, id_column)
        output_format(out)
        if id_from not in ("field", "line"):
            raise ValueError("--id-from must be 'field' or 'line'")
        check_encoding(encoding)
        if party_members not in PARTY_MEMBERS:
            raise ValueError(f"--party-members must be one of {', '.join(PARTY_MEMBERS)}, not {party_members!r}")
        if backend not in BACKENDS:
            raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    except ValueError as exc:
        fail(str(exc))
    if workers == 0:
        workers = auto_workers()
    options = ScoreOptions(
        model=model,
        actors=tuple(str(a) for a in actors or ()),
        use_ner=ner,
        party_members=party_members,
        id_from=id_from,
        max_chars=max_chars,
        batch_size=batch_size,
        workers=workers,
        device=device,
        shard_articles=shard_size,
        backend=backend,
        encoding=encoding,
        text_column=text_column,
        id_column=id_column,
        meta=constant,
        drop_fields=tuple(drop_field or ()),
        outlet_from=outlet_from,
    )
    try:  # the model is found and checked (a hub id: its snapshot), once: workers, resume and run.json all use this one
        options = pin_model(options)
    except ValueError as exc:  # before anything is written (no OUT.parts to --overwrite)
        fail(str(exc))
    started = time.perf_counter()
    if engine == "local" and workers == 1:  # this process scores: with an exported backend it needs no torch
        options = decide_backend(options, worker_threads(1))
        light_process(options)
    if engine == "ray":
        summary = _score_on_ray(
            inputs, out, options, errors=errors, overwrite=overwrite, address=address, actors_per_node=actors_per_node
        )
    else:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        ) as progress:
            task = progress.add_task("loading the model", total=None)

            def on_progress(articles: int, sentences: int) -> None:
                dt = max(time.perf_counter() - started, 1e-9)
                progress.update(
                    task,
                    description=f"{articles:,} articles ({articles / dt:,.1f}/s), {sentences:,} sentences ({sentences / dt:,.0f}/s)",
                )

            try:
                summary = score_collection(
                    inputs, out, options, errors_path=errors, resume=resume, overwrite=overwrite, on_progress=on_progress
                )
            except OutputCompleteError as exc:
                console.print(str(exc))
                return
            except (OutputExistsError, InputPathError, WorkerStartError, NoInputError) as exc:
                fail(str(exc))
    console.print(
        f"[green]done[/green] in {summary.seconds:.1f} s: {summary.articles_read:,} input records -> "
        f"{summary.articles_scored:,} articles scored ({summary.sentences:,} sentences, "
        f"{summary.sentences_scored / max(summary.seconds, 1e-9):,.0f} scored sentences/s) + {summary.errors:,} in {summary.errors_path}"
        + (f"; resumed after {summary.resumed_records:,} committed records" if summary.resumed_records else "")
    )
    from stance.run.record import run_metadata_path

    console.print(f"output: {out}   run metadata: {run_metadata_path(out)}")
    if summary.articles_read == 0:
        fail(f"no input records in {', '.join(inputs)}: nothing was scored")
    if summary.articles_scored == 0:
        fail(f"every one of the {summary.errors:,} input records failed: nothing was scored (why: {summary.errors_path})", code=1)


def _field_value(item: str) -> tuple[str, str]:
    """``FIELD=VALUE`` of --meta as a pair; ValueError for anything else."""
    field, sep, value = item.partition("=")
    if not sep or not field.strip():
        raise ValueError(f"--meta takes FIELD=VALUE (e.g. outlet=Herald), not {item!r}")
    if field.strip() in ("id", "text"):
        raise ValueError(f"--meta cannot set {field.strip()!r}")
    return field.strip(), value


def _score_on_ray(
    inputs: list[str], out: Path, options, *, errors: Path | None, overwrite: bool, address: str | None, actors_per_node: int
):
    """``stance score --engine ray``: the run summary, or exit 2 with a message (no Ray, Ray not reached,
    bad input) or 1 (a run that stopped: a batch that kept killing its actor, parts not on shared storage)."""
    from stance.io.readers import InputPathError
    from stance.run.local import OutputExistsError

    try:
        import ray.data  # noqa: F401  (an optional extra)

        from stance.run.ray_engine import RayConnectError, RayOptions, RayRunError, score_collection_ray
    except ImportError as exc:
        fail(f"--engine ray needs Ray Data: pip install 'stance[ray]' ({exc})")
    try:
        ray_options = RayOptions(address=address, actors_per_node=actors_per_node)
        console.print(f"scoring on Ray ({address or 'a local Ray instance'}); Ray Data logs each stage as it finishes")
        return score_collection_ray(
            inputs,
            out,
            options,
            ray_options,
            errors_path=errors,
            overwrite=overwrite,
            on_note=lambda note: console.print(f"[yellow]note:[/yellow] {note}"),
        )
    except (OutputExistsError, InputPathError, RayConnectError, ValueError) as exc:
        fail(str(exc))
    except RayRunError as exc:
        fail(str(exc), code=1)


def _converter_names() -> str:
    """The help of `stance convert`'s source: the converters' registry, so that it never lists fewer."""
    from training.convert import CONVERTERS

    *first, last = CONVERTERS
    return f"{', '.join(first)} or {last}"


@app.command()
def convert(
    source: Annotated[str, typer.Argument(help=_converter_names())],
    split: Annotated[str, typer.Option(help="the split to convert")] = "train",
    out: Annotated[Path, typer.Option(help="output JSONL in the project's label format")] = Path("converted.jsonl"),
    data_dir: Annotated[Path, typer.Option(help="where the public datasets live")] = Path("../shared/data"),
    raw_labels: Annotated[bool, typer.Option(help="keep the dataset's own device labels instead of the taxonomy's")] = False,
) -> None:
    """Convert a public dataset to the project's label format (see README: Label format)."""
    from stance.labels.format import write_label_file
    from stance.labels.taxonomy import Taxonomy
    from training.convert import get_converter, resolve_data_dir
    from training.data import map_to_taxonomy

    folder = data_dir
    try:
        folder = resolve_data_dir(data_dir)
        records = get_converter(source)(folder, split)
        if not raw_labels:
            taxonomy = Taxonomy.load()
            records = (map_to_taxonomy(r, source, taxonomy) for r in records)
        n = write_label_file(records, out)
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: not found; is --data-dir ({folder}) the folder of the public datasets, with {source}/ in it?")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    console.print(f"wrote {n} sentences to {out}")


def _register_optional_commands() -> None:
    """Commands that live in their own modules (each keeps its heavy imports inside the command)."""
    from stance.cli import actors, compare, labels, models, retrain, serve

    app.command("compare")(compare.compare)
    app.command("actors")(actors.actors)
    app.command("serve")(serve.serve)
    app.add_typer(labels.app, name="labels")
    app.add_typer(models.app, name="models")
    app.command("retrain")(retrain.retrain)


_register_optional_commands()

if __name__ == "__main__":
    app()
