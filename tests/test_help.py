"""Every command's --help reads well at 80 columns: nothing cut off, option names whole, brackets kept
(the extras: `pip install 'stance[onnx]'`), no type noise on options."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from stance.cli.main import app

COMMANDS = [
    [],
    ["score"],
    ["compare"],
    ["actors"],
    ["serve"],
    ["train"],
    ["evaluate"],
    ["predict-stance"],
    ["retrain"],
    ["labels"],
    ["labels", "suggest"],
    ["labels", "import"],
    ["labels", "validate"],
    ["models"],
    ["models", "use"],
    ["models", "show"],
    ["models", "list"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "stance")
def test_help_at_80_columns(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "…" not in result.output
    assert not any(re.search(r"<(bool|list\[)", line) for line in lines), [line for line in lines if "<" in line]
    for name in re.findall(r"(--[a-z][a-z0-9-]+)", result.output):
        assert not name.endswith("-"), name


def test_extras_keep_their_brackets() -> None:
    result = CliRunner().invoke(app, ["score", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert "'stance[onnx]'" in result.output and "'stance[ray]'" in result.output
    assert "--drop-small-groups" in CliRunner().invoke(app, ["compare", "--help"], terminal_width=80).output


def test_version_and_the_plain_score_example_first() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"stance {version('stance')}"
    score_help = CliRunner().invoke(app, ["score", "--help"], terminal_width=80).output
    assert score_help.index("Example: stance score news/ --out scores.parquet") < score_help.index("--engine ray")


def test_every_output_option_has_the_short_form_o() -> None:
    """`stance score news -o scores.parquet` was "No such option: -o": every command's output option (``--out``
    or ``--output-dir``) takes ``-o`` too, and no command uses ``-o`` for anything else."""
    import typer.main

    def commands(command, path: tuple[str, ...] = ()):  # typer's own click: groups are told by their sub-commands
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from commands(sub, (*path, name))
        else:
            yield path, command

    found = []
    for path, command in commands(typer.main.get_command(app)):
        for param in command.params:
            if "-o" in param.opts or {"--out", "--output-dir"} & set(param.opts):
                assert set(param.opts) in ({"--out", "-o"}, {"--output-dir", "-o"}), (path, param.opts)
                found.append(" ".join(path))
    assert {"score", "compare", "predict-stance", "retrain", "train", "evaluate", "convert"} <= set(found), found
