"""`stance actors`: the actors of a scored collection, with counts, surface forms and merge candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import RepeatedIn


def actors(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="`stance score` output: .parquet, .jsonl or .csv files, or directories of shards"),
    ],
    csv: Annotated[Path | None, typer.Option(help="write the whole actor table here as CSV")] = None,
    overrides: Annotated[
        Path | None, typer.Option(help="write the merge proposals here as an actor file to review and pass back with --actors")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="actors shown on screen (most mentioned first; the CSV holds all)")] = 30,
    repeated_in: RepeatedIn = 5,
) -> None:
    """List the actors of scored articles: type, mentions, articles, surface forms and merge candidates.

    Example: stance actors scores.parquet --csv actors.csv --overrides merges.yaml
    """
    from rich.table import Table

    from stance.analysis.actor_table import review_actors, write_overrides
    from stance.cli.common import console, fail, print_table

    try:
        review = review_actors([str(p) for p in inputs], repeated_in=repeated_in)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    table = Table(title=f"{len(review.actors):,} actors (top {min(top, len(review.actors))} by mentions)")
    for column in ("actor", "type", "mentions", "articles", "ambig.", "surface forms (top 3)", "merge candidates"):
        table.add_column(column, overflow="fold")
    for row in review.actors.head(top).itertuples(index=False):
        forms = "; ".join(row.surface_forms.split("; ")[:3])
        table.add_row(
            row.actor, row.type, f"{row.n_mentions:,}", f"{row.n_articles:,}", f"{row.n_ambiguous:,}", forms, row.merge_candidates
        )
    print_table(table)
    console.print(f"{len(review.merges):,} merge candidates")
    for note in review.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    try:
        if csv is not None:
            review.actors.to_csv(csv, index=False)
            console.print(f"actor table: {csv}")
        if overrides is not None:
            write_overrides(review, overrides)
            console.print(f"merge proposals: {overrides} (review it, then: stance compare ... --actors {overrides})")
    except OSError as exc:
        fail(f"cannot write: {exc}")
