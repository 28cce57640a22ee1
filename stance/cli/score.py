"""`stance score`: score article collections, locally or on Ray (stance.run does the work)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import MODEL_HELP, console, fail
from stance.model.backends import backend_choices
from stance.run.options import ScoreOptions
from stance.run.settings import ACTIVE_MODEL, DEFAULTS

_RUN = ScoreOptions()  # the defaults of a scoring run, written once there (and in DEFAULTS)


def score(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH", help="JSONL, JSON array, CSV, Parquet, directories of .txt/.html/.jsonl, or - (JSONL on stdin)"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="output file: .parquet (default format), .jsonl or .csv")],
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
        str,
        typer.Option(
            help="text encoding of .txt, .html and .csv files (e.g. cp1252), or a list (utf-8,cp1252: what is not UTF-8 is read as cp1252)"
        ),
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

    from stance.io.formats import FOLDER_SUFFIXES
    from stance.io.readers import check_drop_fields, check_paths, unread_in_folders
    from stance.io.records import InputPathError
    from stance.io.writers import output_format
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
        options = ScoreOptions(  # checks the rest (party members, backend, id source, encoding, sizes)
            model=model,
            actors=tuple(str(a) for a in actors or ()),
            use_ner=ner,
            party_members=party_members,
            id_from=id_from,
            max_chars=max_chars,
            batch_size=batch_size,
            workers=workers or auto_workers(),
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
    except ValueError as exc:
        fail(str(exc))
    try:  # the model is found and checked (a hub id: its snapshot), once: workers, resume and run.json all use this one
        options = pin_model(options)
    except ValueError as exc:  # before anything is written (no OUT.parts to --overwrite)
        fail(str(exc))
    started = time.perf_counter()
    if engine == "local" and options.workers == 1:  # this process scores: with an exported backend it needs no torch
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
    from rich.markup import escape  # paths and ids may hold brackets ("o[draft]/o.jsonl")

    rate = summary.sentences_scored / max(summary.seconds, 1e-9)
    rate_text = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"  # a slow run is not "0 sentences/s"
    console.print(
        f"[green]done[/green] in {summary.seconds:.1f} s: {summary.articles_read:,} input records -> "
        f"{summary.articles_scored:,} articles scored ({summary.sentences:,} sentences, "
        f"{rate_text} scored sentences/s) + {summary.errors:,} in {escape(summary.errors_path)}"
        + (f"; resumed after {summary.resumed_records:,} committed records" if summary.resumed_records else "")
    )
    if summary.not_english:
        console.print(
            f"[yellow]note:[/yellow] {summary.not_english:,} article(s) do not look like English "
            f"(e.g. {', '.join(escape(i) for i in summary.not_english_ids)}): the model reads English only, so their mentions, "
            "stances and devices are not to be trusted",
            highlight=False,
        )
    from stance.run.record import run_metadata_path

    console.print(f"output: {out}   run metadata: {run_metadata_path(out)}", markup=False)
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
    from stance.io.records import InputPathError
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
