"""`stance compare` (placeholder until implemented)."""

import typer


def compare() -> None:
    """Compare how outlets frame actors (not implemented yet)."""
    raise typer.Exit(2)
