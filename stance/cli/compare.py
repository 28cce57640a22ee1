"""`stance compare`: how outlets (or months, or any metadata column) treat actors, with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import RepeatedIn


def compare(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="`stance score` output: .parquet, .jsonl or .csv files, or directories of shards"),
    ],
    by: Annotated[
        str, typer.Option(help="metadata column to group by, or COLUMN:PERIOD, e.g. date:month (day, week, month, quarter, year)")
    ] = "outlet",
    out: Annotated[
        Path, typer.Option("--out", "-o", help="output directory: tables (CSV + Parquet), report.html, PNG figures")
    ] = Path("report"),
    rollup: Annotated[
        str, typer.Option(help="'none', or 'affiliation': count a person under the state or organisation they serve")
    ] = "none",
    method: Annotated[
        str,
        typer.Option(
            help="shares to show: 'acc' (corrected for the model's errors), 'cc' (classify-and-count) or 'pa' (mean probabilities)"
        ),
    ] = "acc",
    model: Annotated[
        str,
        typer.Option(
            help="model whose evaluation.json gives the confusion matrix for 'acc' (the network is not loaded); 'recorded': the one named in the scores' OUT.run.json"
        ),
    ] = "recorded",
    confusion: Annotated[
        Path | None,
        typer.Option(
            help="JSON {labels, matrix: counts, rows gold x columns predicted} or an evaluation.json (e.g. of your own labels: stance evaluate MODEL --data mine.jsonl --out eval.json); overrides --model"
        ),
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=100, help="bootstrap resamples of articles")] = 1000,
    min_mentions: Annotated[int, typer.Option(min=1, help="cells with fewer mentions are flagged low_support (not hidden)")] = 20,
    min_articles: Annotated[
        int,
        typer.Option(
            min=2,
            help="cells (and device rates of groups) with fewer articles get no interval: too few for a bootstrap to hold its level",
        ),
    ] = 10,  # stance.analysis.quantify.MIN_ARTICLES (not imported: it would load scipy for every command)
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same intervals")] = 0,
    actors: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE",
            help="actor file (registry YAML, e.g. from `stance actors --overrides`): its merges (and its entries' aliases) counted under their actor's name as rescoring with it would count them, and it extends the registry for --rollup; repeatable",
        ),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(metavar="TEXT", help="keep only this actor (name after rollup); repeatable")
    ] = None,
    max_actors: Annotated[
        int, typer.Option(min=1, help="most mentioned actors in the heatmap and examples (the tables hold all)")
    ] = 30,
    drop_small_groups: Annotated[bool, typer.Option(help="leave out groups with a single article instead of stopping")] = False,
    repeated_in: RepeatedIn = 5,
) -> None:
    """Compare how outlets frame actors: stance shares, net stance, device rates and differences, with bootstrap intervals.

    Example: stance compare scores.parquet --by outlet --out report
    """
    from stance.analysis.compare import compare_scores
    from stance.analysis.measures import METHODS
    from stance.analysis.report import write_report
    from stance.cli.common import console, fail

    try:
        if model not in (None, "recorded") and confusion is None:
            from stance.analysis.confusion import check_model_for_confusion

            check_model_for_confusion(model)
        registry, merges = None, None
        if actors:
            from stance.analysis.actor_table import merge_map
            from stance.pipeline.actor_registry import ActorRegistry

            registry, merges = ActorRegistry.load(*actors), merge_map(actors)
        result = compare_scores(
            [str(p) for p in inputs],
            by,
            rollup=None if rollup == "none" else rollup,
            method=method,
            model=model,
            confusion=confusion,
            bootstrap=bootstrap,
            min_mentions=min_mentions,
            min_articles=min_articles,
            seed=seed,
            only=only,
            registry=registry,
            drop_small_groups=drop_small_groups,
            merges=merges,
            repeated_in=repeated_in,
        )
    except (ValueError, OSError) as exc:  # bad input, options, registry files: a message, exit code 2
        fail(str(exc))
    try:
        report = write_report(result, out, max_actors=max_actors)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc}")
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(
        f"[green]done[/green]: {len(result.groups)} group{'' if len(result.groups) == 1 else 's'}, {result.groups['n_articles'].sum():,} articles, "
        f"{result.groups['n_mentions'].sum():,} mentions; shares shown: {METHODS[result.method].title}"
    )
    console.print(f"report: {report}   tables: {out}/stance.csv, devices.csv, differences.csv (+ .parquet)")
