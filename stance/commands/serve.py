"""`stance serve` (placeholder until implemented)."""

import typer


def serve() -> None:
    """Run the HTTP service (not implemented yet)."""
    raise typer.Exit(2)
