"""What every command shares: the console (stderr), the way a command fails (a red message, an exit
code) and the ``--model`` help text.

Example:
    >>> from stance.cli.common import console, fail
    >>> fail("no such file: x.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

console = Console(stderr=True, soft_wrap=True)

# `stance compare` and `stance actors` read scored files alike: the same page-furniture rule
# (stance.io.score_files.without_repeated_sentences; its REPEATED_IN is the default, not imported: pandas)
RepeatedIn = Annotated[
    int,
    typer.Option(
        min=0,
        help="a sentence found in at least this many articles (and 5% of the articles) of one outlet is page furniture, counted once; 0 keeps every copy",
    ),
]


def print_table(table: Any) -> None:
    """Print a rich table on the console; piped or captured (a log), with room for 200 columns, where rich
    would cut cells at 80 ("newsmt…") or wrap names ("Democrati / c Party").

    Example:
        >>> from rich.table import Table
        >>> print_table(Table("set", "metric"))  # doctest: +SKIP
    """
    wide = console if console.is_terminal else Console(stderr=True, soft_wrap=True, width=max(console.width, 200))
    wide.print(table, markup=False)


MODEL_HELP = "'active' (the registry's active version, else the shipped default), 'default', a registry version id, a model directory or a hub id"
"""Help text of every command's ``--model`` option that loads a model to score with (score, predict-stance, serve)."""


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` and exit with ``code`` (2: bad input or options; 1: the work failed)."""
    from rich.markup import escape  # a path or an option in the message may hold brackets ("stance[ray]", "o[draft]/")

    console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)
