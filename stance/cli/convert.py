"""`stance convert`: a public dataset's split in the label format (training.convert does the work)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import console, fail
from training.convert import DEFAULT_DATA_DIR


def _converter_names() -> str:
    """The help of `stance convert`'s source: the converters' registry, so that it never lists fewer."""
    from training.convert import CONVERTERS

    *first, last = CONVERTERS
    return f"{', '.join(first)} or {last}"


def convert(
    source: Annotated[str, typer.Argument(help=_converter_names())],
    split: Annotated[str, typer.Option(help="the split to convert")] = "train",
    out: Annotated[Path, typer.Option("--out", "-o", help="output JSONL in the project's label format")] = Path(
        "converted.jsonl"
    ),
    data_dir: Annotated[Path, typer.Option(help="where the public datasets live")] = Path(DEFAULT_DATA_DIR),
    raw_labels: Annotated[bool, typer.Option(help="keep the dataset's own device labels instead of the taxonomy's")] = False,
) -> None:
    """Convert a public dataset to the project's label format (see README: Label format).

    Example: stance convert newsmtsc --split dev_rw --out dev_rw.jsonl
    """
    from stance.labels.format import write_label_file
    from stance.labels.taxonomy import Taxonomy
    from training.convert import get_converter, resolve_data_dir
    from training.data import map_to_taxonomy

    folder = data_dir
    try:
        folder = resolve_data_dir(data_dir)
        records = get_converter(source)(folder, split)
        if not raw_labels:
            taxonomy = Taxonomy.load()
            records = (map_to_taxonomy(r, source, taxonomy) for r in records)
        n = write_label_file(records, out)
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: not found; is --data-dir ({folder}) the folder of the public datasets, with {source}/ in it?")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    console.print(f"wrote {n} sentences to {out}")
