"""``python -m stance.cli``: the same as the ``stance`` command."""

from stance.cli.main import app

app()
