"""`stance models`: the local model registry (list, show, use, rollback) and `prepare`."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    rich_markup_mode=None,
    help="The local model registry ($STANCE_HOME/models): list, show, use, rollback; prepare a model for this machine.",
    no_args_is_help=True,
)


@app.command()
def prepare(
    model: Annotated[
        str, typer.Argument(help="model: 'active' (default), 'default', a registry version id, a directory or a hub id")
    ] = "active",
    workers: Annotated[int, typer.Option(min=0, help="the --workers of the runs to prepare for (0 = one per core)")] = 0,
) -> None:
    """Load the model (a folder that is no stance model is reported), convert it for OpenVINO (the
    graph `--backend openvino` runs, cached by the model's version) and decide what `--backend auto`
    runs on this machine, timing the backends where backends.json records one to agree with torch;
    once, so that the first run starts at once (setup.sh runs this for the shipped model).

    Example:
        stance models prepare default
    """
    from stance.cli.common import fail
    from stance.model.backends import auto_candidates
    from stance.model.exports import export_dir
    from stance.model.modeling import StanceModel
    from stance.run.local import auto_workers, decide_backend, worker_threads
    from stance.run.options import ScoreOptions, pin_model

    n = workers or auto_workers()
    try:
        options = pin_model(ScoreOptions(model=model))  # found and checked, as a run does
        loaded = StanceModel.from_pretrained(options.model, backend="openvino")
        loaded.backend  # noqa: B018 (converts the graph where this version of the model has none)
        typer.echo(f"{model}: OpenVINO graph in {export_dir(loaded.path, loaded.version, 'openvino')}")
        if not auto_candidates(loaded.path, loaded.version):
            typer.echo(f"{model}: backends.json records no backend to agree with torch (python bench/backends.py --record)")
        for threads in sorted({worker_threads(n), worker_threads(1)}):  # worker runs, and single-process runs
            chosen = decide_backend(options, threads).backend
            typer.echo(f"{model}: --backend auto runs {chosen} here with {threads} thread(s) per process")
    except (ValueError, OSError) as exc:
        fail(str(exc))


@app.command("list")
def list_() -> None:
    """List the registered versions (the active one marked with *).

    Example:
        stance models list
    """
    from stance.cli.common import fail
    from stance.store.registry import ModelRegistry

    reg = ModelRegistry()
    try:
        active, versions = reg.active(), reg.versions()
    except ValueError as exc:  # a damaged or missing version: named, with its file
        fail(str(exc))
    typer.echo(f"# models in {reg.root}; active: {active.id if active else 'the shipped default'}")
    typer.echo(f"  {'id':<26} {'created':<26} {'gate':<7} {'new':>5}  parent")
    for v in versions:
        gate = v.info.get("gate") or {}
        verdict = "passed" if gate.get("passed") else "failed" if gate else "-"
        mark = "*" if active and v.id == active.id else " "
        added = v.info.get("added_devices") or []
        typer.echo(
            f"{mark} {v.id:<26} {v.created:<26} {verdict:<7} {(v.info.get('counts') or {}).get('new_sentences', '-'):>5}  {v.parent}"
            + (f"  (+devices: {', '.join(added)})" if added else "")
        )


VERSION_HELP = "'active', 'default' (the shipped model), or a version id or unique prefix"


@app.command()
def show(version: Annotated[str, typer.Argument(help=VERSION_HELP)] = "active") -> None:
    """Print a version's record (version.json: parent, config, data hashes, metrics, gate report);
    for the shipped model, its path, version and dev metrics.

    Example:
        stance models show 20261126
    """
    import json

    from stance.cli.common import fail
    from stance.store.registry import ModelRegistry

    reg = ModelRegistry()
    try:
        v = None if version == "default" else reg.active() if version == "active" else reg.get(version)
    except ValueError as exc:
        fail(str(exc))
    if v is None:  # 'default', or 'active' while no registry version is: the shipped model
        typer.echo(json.dumps(_shipped_record(), indent=2))
        return
    typer.echo(json.dumps({**v.info, "path": str(v.model_dir)}, indent=2))


def _shipped_record() -> dict:
    import json
    from pathlib import Path

    from stance.store.model_files import model_version, resolve_model

    path = Path(resolve_model("default"))
    evaluation = path / "evaluation.json"
    metrics = json.loads(evaluation.read_text()).get("headline") if evaluation.exists() else None
    return {"id": "default", "shipped": True, "path": str(path), "version": model_version(path), "metrics": metrics}


@app.command()
def use(
    version: Annotated[str, typer.Argument(help=VERSION_HELP)],
    force: Annotated[bool, typer.Option(help="activate a version whose gate failed")] = False,
) -> None:
    """Make a version the active one (what `--model active`, the default, loads). A version whose
    gate failed needs --force.

    Example:
        stance models use 20261126-101500-1a2b3c4d
    """
    from stance.cli.common import console, fail
    from stance.store.registry import ModelRegistry

    reg = ModelRegistry()
    try:
        if version not in ("default", "active"):
            gate = reg.get(version).info.get("gate") or {}
            if gate and not gate.get("passed"):
                if not force:
                    fail(f"{version}: its gate failed ({gate_failures(gate)}); use --force to activate it anyway")
                console.print(f"[yellow]warning:[/yellow] {version} failed its gate; activating it because of --force")
        v = reg.use(version)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"active: {v.id if v else 'the shipped default model'}")


def gate_failures(gate: dict) -> str:
    """Why a stored gate report (version.json's ``gate``) failed: each failed row as ``set metric: reason``, else
    its ``reason``.

    Example:
        >>> gate_failures({"passed": False, "rows": [{"dataset": "new:heldout", "metric": "stance_macro_f1",
        ...     "failed": True, "reason": "no improvement on new labels (-0.010)"}]})
        'new:heldout stance_macro_f1: no improvement on new labels (-0.010)'
    """
    rows = [r for r in gate.get("rows") or () if isinstance(r, dict) and r.get("failed")]
    reasons = "; ".join(f"{r.get('dataset')} {r.get('metric')}: {r.get('reason') or 'failed'}" for r in rows)
    return reasons or str(gate.get("reason") or "see stance models show")


@app.command()
def rollback() -> None:
    """Make the previously active version active again, as the history names it (after `stance models use
    default`, the version that was active before), or the active version's parent.

    Example:
        stance models rollback
    """
    from stance.cli.common import console, fail
    from stance.store.registry import ModelRegistry

    try:
        v = ModelRegistry().rollback()
    except ValueError as exc:
        fail(str(exc))
    console.print(f"rolled back; active: {v.id if v else 'the shipped default model'}")
