"""`stance train`: train a model from a YAML config (training.train does the work)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import console, fail


def train(
    config: Annotated[Path, typer.Argument(help="YAML training config, e.g. configs/default.yaml")],
    output_dir: Annotated[str | None, typer.Option("--output-dir", "-o", help="overrides output_dir of the config")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the last checkpoint in the output directory")] = False,
) -> None:
    """Train a model from a YAML config (checkpoints, early stopping, metrics in the output directory).

    Example: stance train configs/default.yaml --output-dir runs/default
    """
    import logging

    from training.config import TrainConfig
    from training.train import train as run_training

    if not config.exists():
        fail(f"config {config} does not exist")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        cfg = TrainConfig.from_yaml(config, output_dir=output_dir)
    except ValueError as exc:
        fail(str(exc))
    result = run_training(cfg, resume=resume)
    console.print_json(json.dumps(result["headline"]))
