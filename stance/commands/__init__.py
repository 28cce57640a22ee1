"""CLI commands that live in their own modules (registered in stance.cli)."""
