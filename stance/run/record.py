"""What a scoring run leaves behind besides its rows: ``OUT.run.json`` (model, registry hash, options,
counts, timings, machine), written by both engines.

Example:
    >>> run_metadata_path("runs/scores.parquet").name
    'scores.run.json'
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stance import __version__
from stance.io.atomic import write_atomic
from stance.run.options import ScoreOptions


@dataclass
class RunSummary:
    """Counts and timings of a run (also written to run.json)."""

    articles_read: int = 0
    articles_scored: int = 0
    errors: int = 0
    sentences: int = 0
    sentences_scored: int = 0
    mentions: int = 0
    devices: int = 0
    resumed_records: int = 0
    not_english: int = 0  # articles scored that do not look like English (stance.pipeline.language)
    not_english_ids: list[str] = field(default_factory=list)  # the first few of them
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    out: str = ""
    errors_path: str = ""
    backend: str = ""


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` through a temporary file and a rename: a reader never sees half a file.

    Example:
        >>> write_json_atomic(Path("out/manifest.json"), {"shards": []})  # doctest: +SKIP
    """
    write_atomic(path, json.dumps(obj, indent=1))


def run_metadata_path(out: str | Path) -> Path:
    """Where a run's metadata goes: ``OUT.run.json`` beside the output (``scores.run.json`` for
    ``scores.parquet``); a second output of the same name before its suffix is refused
    (:func:`stance.run.local.refuse_shared_files`), so each output keeps its own provenance.

    Example:
        >>> run_metadata_path("runs/scores.parquet").name
        'scores.run.json'
    """
    out = Path(out)
    return out.with_name(out.stem + ".run.json")


def default_errors_path(out: str | Path) -> Path:
    """Where a run's errors go without ``--errors``: ``OUT.errors.jsonl`` beside the output.

    Example:
        >>> default_errors_path("runs/scores.parquet").name
        'scores.errors.jsonl'
    """
    out = Path(out)
    return out.with_name(out.stem + ".errors.jsonl")


def other_output_sharing_files(out: str | Path) -> Path | None:
    """Another output in ``out``'s folder whose run record is where ``out``'s goes (``scores.parquet`` and
    ``scores.csv`` would share ``scores.run.json`` and ``scores.errors.jsonl``), where that output exists; None
    when the record is ``out``'s own, absent, or its output is gone. A run for ``out`` must not take them over.

    Example:
        >>> other_output_sharing_files("runs/scores.csv")  # doctest: +SKIP
        PosixPath('runs/scores.parquet')
    """
    out = Path(out)
    recorded = recorded_output(run_metadata_path(out))
    if recorded is None or recorded == out.name or not out.with_name(recorded).exists():
        return None
    return out.with_name(recorded)


def recorded_output(run_json: Path) -> str | None:
    """The file name of the output a run record was written for (None where there is no readable record)."""
    try:
        return Path(json.loads(run_json.read_text(encoding="utf-8"))["output"]).name
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_label(options: ScoreOptions) -> str:
    """How messages name the pinned model: its path and version."""
    return f"{options.model} (version {options.model_version})" if options.model_version else options.model


def write_run_json(out: Path, options: ScoreOptions, summary: RunSummary, fingerprint: str, run: Any = None) -> None:
    """Write a run's metadata beside its output (:func:`run_metadata_path`): model, registry hash, options, counts,
    timings; with ``run`` (a local run's :class:`stance.run.local.RunState`), its settings and the digest of its input
    files, which a later ``--resume`` compares with its own.

    Example:
        >>> write_run_json(Path("scores.parquet"), options, summary, fingerprint)  # doctest: +SKIP
    """
    from stance.pipeline.actor_registry import ActorRegistry
    from stance.store.model_files import model_version, resolve_model
    from stance.store.registry import registry_version

    model_dir = Path(resolve_model(options.model))
    run = {
        "stance_version": __version__,
        "model": {
            "name": options.model_name or options.model,
            "path": str(model_dir),
            "version": options.model_version or model_version(model_dir),
            "registry_version": registry_version(model_dir),
            "backend": summary.backend,
        },
        "registry_hash": ActorRegistry.load(*options.actors).hash,
        "options": asdict(options),
        "fingerprint": fingerprint,
        **({"settings": run.settings, "inputs": run.inputs.digest} if run is not None else {}),
        "counts": {
            k: v for k, v in asdict(summary).items() if k not in ("stage_seconds", "seconds", "out", "errors_path", "backend")
        },
        "timings": {"seconds": summary.seconds, "stages": summary.stage_seconds},
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "output": str(out),
        "errors": summary.errors_path,
    }
    write_json_atomic(run_metadata_path(out), run)
