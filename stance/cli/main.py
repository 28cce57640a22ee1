"""The ``stance`` command. Each sub-command is a thin layer over the library; heavy modules
are imported inside the commands so that ``stance --help`` is instant."""

from __future__ import annotations

from typing import Annotated

import typer

# typer (0.29) prints a Python type after a positional argument's name in help ("PATH... <list[Path]>"), with no
# setting to turn it off; an argument given a metavar says enough. Options take a metavar directly.
if hasattr(typer.core, "TyperArgument") and hasattr(typer.core.TyperArgument, "display_type_rich"):
    _argument_type = typer.core.TyperArgument.display_type_rich

    # (typed as the method it replaces, which TyperArgument inherits from typer's _TyperParameter)
    def _argument_type_unless_metavar(self: typer.core._TyperParameter, ctx: typer.core._click.Context) -> str | None:
        return None if self.metavar else _argument_type(self, ctx)

    # a deliberate patch of typer's method (see above), which mypy reports as assigning to a method
    typer.core.TyperArgument.display_type_rich = _argument_type_unless_metavar  # type: ignore[method-assign]

app = typer.Typer(
    rich_markup_mode=None,
    help="Stance toward actors and framing devices in news text.",
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"stance {version('stance')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Stance toward actors and framing devices in news text."""


def _register_commands() -> None:
    """Every command lives in a module of its own (each keeps its heavy imports inside the command);
    they are registered here, in the order ``stance --help`` lists them."""
    from stance.cli import actors, compare, convert, evaluate, labels, models, predict_stance, retrain, score, serve, train

    app.command("train")(train.train)
    app.command("evaluate")(evaluate.evaluate)
    app.command("predict-stance")(predict_stance.predict_stance)
    app.command("score")(score.score)
    app.command("convert")(convert.convert)
    app.command("compare")(compare.compare)
    app.command("actors")(actors.actors)
    app.command("serve")(serve.serve)
    app.add_typer(labels.app, name="labels")
    app.add_typer(models.app, name="models")
    app.command("retrain")(retrain.retrain)


_register_commands()

if __name__ == "__main__":
    app()
