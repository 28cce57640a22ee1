"""What a scoring run is: its options, and the model it uses, decided once (:func:`pin_model`).

Both engines (stance.run.local, stance.run.ray_engine), the per-batch predictor and the CLI read a
:class:`ScoreOptions`; the options that change the output are in its fingerprint, which decides
whether ``--resume`` may go on with an unfinished output.

Example:
    >>> pin_model(ScoreOptions(model="default", use_ner=False)).model_name
    'default'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from stance.io.readers import MAX_CHARS, check_encoding, check_id_from, check_outlet_from
from stance.model.backends import check_backend
from stance.run.settings import DEFAULTS, PipelineSettings


@dataclass(frozen=True)
class ScoreOptions:
    """Settings of a scoring run (the ones that change the output are in the run's fingerprint).

    The scoring pipeline's settings (model, actors, use_ner, party_members, batch_size, device,
    backend) take their defaults from :data:`stance.run.settings.DEFAULTS`; they stay fields of
    their own here, in this order, because run.json records the options as they are laid out.

    Example:
        >>> ScoreOptions().batch_size == DEFAULTS.batch_size
        True
    """

    model: str = DEFAULTS.model
    actors: tuple[str, ...] = DEFAULTS.actors
    use_ner: bool = DEFAULTS.use_ner
    party_members: str = DEFAULTS.party_members  # "separate": a party's members ("Republicans") as a group of their own
    id_from: str = "field"
    max_chars: int = MAX_CHARS
    batch_size: int = DEFAULTS.batch_size  # sentences per model batch
    chunk_articles: int = 64  # articles handed to a worker at a time (not the model batch)
    shard_articles: int = 2000
    workers: int = 1
    device: str = DEFAULTS.device
    backend: str = DEFAULTS.backend
    encoding: str = "utf-8"  # of .txt, .html and .csv inputs
    text_column: str = "text"  # of CSV and Parquet inputs
    id_column: str = "id"
    meta: tuple[tuple[str, str], ...] = ()  # constant fields for every record (--meta outlet=Herald)
    drop_fields: tuple[str, ...] = ()  # input fields not carried onto the rows (--drop-field html)
    outlet_from: str | None = None  # "parent": a .txt/.html file's folder name is its outlet
    model_name: str | None = None  # the name as given ("active"), once ``model`` is pinned to its directory (see pin_model)
    model_version: str | None = None  # the pinned model's version hash
    requested_backend: str | None = None  # the backend asked for, where ``backend`` holds what "auto" was decided to be

    def __post_init__(self) -> None:
        """Checked when made, so that a library caller's bad value fails at once, not later in a worker."""
        self.pipeline  # noqa: B018  (PipelineSettings checks the pipeline's own settings)
        check_backend(self.requested_backend or self.backend)
        check_id_from(self.id_from)
        check_outlet_from(self.outlet_from)
        check_encoding(self.encoding)
        for name in ("max_chars", "chunk_articles", "shard_articles", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int of at least 1, not {value!r}")

    @property
    def pipeline(self) -> PipelineSettings:
        """The scoring pipeline's settings of this run (what :meth:`StanceScorer.from_settings` builds a scorer from).

        Example:
            >>> ScoreOptions(use_ner=False).pipeline.use_ner
            False
        """
        return PipelineSettings(
            model=self.model,
            actors=self.actors,
            use_ner=self.use_ner,
            party_members=self.party_members,
            device=self.device,
            backend=self.backend,
            batch_size=self.batch_size,
        )

    def settings(self, inputs: Sequence[str], out: Path) -> dict[str, object]:
        """The settings that change the output, by name: a run may only be resumed with the same ones.

        Example:
            >>> ScoreOptions().settings(["news/"], Path("scores.parquet"))["backend"]
            'auto'
        """
        return {
            "inputs": [str(Path(p).resolve()) if p != "-" else "-" for p in inputs],
            "out": str(out.resolve()),
            "model": self.model,
            "model_version": self.model_version,
            "backend": self.requested_backend or self.backend,  # as asked: "auto" is decided alike on resume
            "actors": [str(Path(a).resolve()) for a in self.actors],
            "use_ner": self.use_ner,
            # "party" (the literal, not the default): runs from before the option had no such key
            **({"party_members": self.party_members} if self.party_members != "party" else {}),
            "id_from": self.id_from,
            "max_chars": self.max_chars,
            "encoding": self.encoding,
            "columns": [self.text_column, self.id_column],
            "meta": [list(kv) for kv in self.meta],
            "outlet_from": self.outlet_from,
            # only where given: runs from before the option had no such key
            **({"drop_fields": list(self.drop_fields)} if self.drop_fields else {}),
        }

    def fingerprint(self, inputs: Sequence[str], out: Path) -> str:
        """A short hash of :meth:`settings` (:func:`settings_fingerprint`)."""
        return settings_fingerprint(self.settings(inputs, out))


def settings_fingerprint(settings: dict[str, object]) -> str:
    """A short hash of a run's :meth:`ScoreOptions.settings`, kept in its manifest and run.json.

    Example:
        >>> len(settings_fingerprint({"backend": "auto"}))
        16
    """
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def pin_model(options: ScoreOptions) -> ScoreOptions:
    """``options`` with the model name resolved, once, at the start of a run: ``model`` becomes the
    model's directory (``active`` -> the version active now) and ``model_version`` its hash, so that
    every worker, the resume fingerprint and the run metadata use the same model even if another
    version is promoted during the run. The model's files are checked here
    (:func:`~stance.store.model_files.locate_model`), so that a folder that is no stance model fails
    before a run writes anything. A hub id stays as it is (each node of a Ray cluster finds its own
    copy), with the version of its snapshot. Idempotent.

    Example:
        >>> pin_model(ScoreOptions(model="default")).model_name
        'default'
    """
    if options.model_name is not None:
        return options
    from stance.store.model_files import locate_model, model_version, resolve_model

    resolved = resolve_model(options.model)
    directory = locate_model(resolved)
    pinned = str(directory.resolve()) if Path(resolved).is_dir() else resolved
    return replace(options, model=pinned, model_name=options.model, model_version=model_version(directory))


def check_device(device: str) -> str:
    """``device`` if torch can run on it here (``cpu``, ``cuda``, ``cuda:1``, ``mps``, ...), else a ValueError
    saying why, before a run writes anything (it failed in the workers, leaving ``OUT.parts/`` behind). torch is
    imported only for a device other than the CPU.

    Example:
        >>> check_device("cpu")
        'cpu'
    """
    if device == "cpu":
        return device
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"--device {device!r} is not a device ({exc}); e.g. cpu, cuda, cuda:1") from None
    available = {
        "cpu": lambda: True,
        "cuda": lambda: torch.cuda.is_available() and (parsed.index or 0) < torch.cuda.device_count(),
        "mps": lambda: torch.backends.mps.is_available(),
    }.get(parsed.type)
    if available is None or not available():
        raise ValueError(f"--device {device!r}: this machine's torch has no such device (use --device cpu)")
    return device
