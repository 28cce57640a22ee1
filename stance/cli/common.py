"""What every command shares: the console (stderr) and the way a command fails (a red message, an exit code).

Example:
    >>> from stance.cli.common import console, fail
    >>> fail("no such file: x.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` and exit with ``code`` (2: bad input or options; 1: the work failed)."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
