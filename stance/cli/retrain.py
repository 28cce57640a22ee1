"""`stance retrain`: continue from a model on newly labelled sentences, gate, register, promote."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer


def retrain(
    new: Annotated[
        list[Path], typer.Option("--new", metavar="FILE", help="newly labelled sentences (label-format JSONL); repeatable")
    ],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="the new model, gate.json / gate.md, logs")],
    base: Annotated[
        str, typer.Option(help="the model to continue from: 'active', 'default', a version id or a directory")
    ] = "active",
    config: Annotated[
        Path | None, typer.Option(help="retrain settings (YAML, TrainConfig keys; default configs/retrain.yaml)")
    ] = None,
    replay: Annotated[
        list[Path] | None,
        typer.Option(metavar="FILE", help="label file to replay instead of the base's training data; repeatable"),
    ] = None,
    no_replay: Annotated[bool, typer.Option("--no-replay", help="train on the new labels only (risks forgetting)")] = False,
    replay_ratio: Annotated[float, typer.Option(min=0, help="replayed sentences per new training sentence")] = 3.0,
    replay_max: Annotated[int, typer.Option(min=0, help="at most this many replayed sentences")] = 4000,
    eval: Annotated[
        list[Path] | None,
        typer.Option("--eval", metavar="FILE", help="label file to gate on instead of the base's dev sets; repeatable"),
    ] = None,
    heldout_fraction: Annotated[float, typer.Option(help="share of the new labels' articles held out for the gate")] = 0.2,
    add_device: Annotated[
        list[str] | None, typer.Option(metavar="TEXT", help="a new device label (the device head grows); repeatable")
    ] = None,
    tolerance: Annotated[float, typer.Option(min=0, help="largest allowed drop of any fixed-set metric (not negative)")] = 0.01,
    min_improvement: Annotated[
        float, typer.Option(min=0, help="new-label metrics must improve by more than this (not negative)")
    ] = 0.0,
    significant: Annotated[bool, typer.Option(help="new-label improvements must have a bootstrap interval above 0")] = True,
    bootstrap: Annotated[int, typer.Option(min=1, help="bootstrap resamples of articles")] = 1000,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the config's)")] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="where the public datasets live (default: as the base was trained)")
    ] = None,
    promote: Annotated[bool, typer.Option(help="make the new version active if the gate passes")] = False,
    preset: Annotated[
        str | None,
        typer.Option(help="'small': a first retrain on few labels (30% held out, no significance required); sets those options"),
    ] = None,
    register: Annotated[bool, typer.Option(help="add the new version to the model registry (inactive unless promoted)")] = True,
) -> None:
    """Retrain on newly labelled sentences (plus a replay of the base's training data), compare with the
    base on the same evaluation sets, register the new version, and with --promote make it active if no
    metric dropped beyond --tolerance and the new-label metrics improved. Exit code 1 when the gate fails.

    Example:
        stance retrain --base active --new new_labels.jsonl --output-dir runs/retrain --promote
    """
    import json
    from dataclasses import replace

    from stance.cli.common import console, fail
    from training.retrain import PRESETS, RetrainOptions, describe_result
    from training.retrain import retrain as run_retrain

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    options = RetrainOptions(
        new=tuple(str(p) for p in new),
        output_dir=str(output_dir),
        base=base,
        config=str(config) if config else None,
        replay=tuple(str(p) for p in replay or ()),
        no_replay=no_replay,
        replay_ratio=replay_ratio,
        replay_max=replay_max,
        eval=tuple(str(p) for p in eval or ()),
        heldout_fraction=heldout_fraction,
        add_devices=tuple(add_device or ()),
        tolerance=tolerance,
        min_improvement=min_improvement,
        require_significant=significant,
        bootstrap=bootstrap,
        seed=seed,
        data_dir=data_dir,
        register=register,
        promote=promote,
    )
    if preset is not None:
        if preset not in PRESETS:
            fail(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
        options = replace(options, **PRESETS[preset])
    notes = _DataWarnings()
    watched = [logging.getLogger(name) for name in ("stance.data", "stance.retrain")]  # the retrain's: corrections, sets left out
    for logger in watched:
        logger.addHandler(notes)
    try:
        result = run_retrain(options)
    except (ValueError, OSError) as exc:  # bad input, or an unwritable output folder / a full disk: a message, not a traceback
        fail(str(exc))
    finally:
        for logger in watched:
            logger.removeHandler(notes)
    _print_gate(console, result.gate)
    console.print_json(json.dumps(describe_result(result)))
    for message in notes.messages:  # e.g. labels past the model's maximum length, which training cannot see
        console.print(f"[yellow]note[/yellow]: {message}")
    if promote and not result.promoted:
        why = result.gate.against_reason() or "the gate failed"
        console.print(f"[red]not promoted[/red]: {why}; the version {result.version} is registered but inactive")
        if result.gate.against_reason():
            console.print(f"(`stance models use {result.version} --force` makes it active anyway)")
    elif result.promoted:
        console.print(f"[green]promoted[/green]: {result.version} is now the active model")
    if not result.gate.passed:
        raise typer.Exit(1)


class _DataWarnings(logging.Handler):
    """Collects the warnings of the training data and the retrain (loggers ``stance.data``, ``stance.retrain``) to
    repeat them after the gate table."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _print_gate(console, report) -> None:
    from stance.cli.common import print_table

    print_table(_rows_table(report, report.rows, f"gate: {'PASSED' if report.passed else 'FAILED'}", "base"))
    for note in report.set_notes():
        console.print(note, markup=False)
    if report.against:
        title = f"against the active version {report.against}, which --promote would replace"
        print_table(_rows_table(report, report.against_rows, title, "active"))


def _rows_table(report, rows, title: str, base_name: str):
    from rich.table import Table
    from rich.text import Text  # styled cells: print_table reads no markup (the CI column's brackets are text)

    table = Table(title=title)
    for column in ("set", "metric", "kind", base_name, "new", "diff", f"{int(report.level * 100)}% CI", "docs", "verdict"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.dataset,
            r.metric,
            r.kind,
            f"{r.base:.3f}",
            f"{r.new:.3f}",
            f"{r.diff:+.3f}",
            f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]",
            str(r.n_docs),
            Text(r.reason, style="red") if r.failed else Text("ok", style="green"),
        )
    return table
