"""The local model registry: a directory of model versions, one of them active.

Layout (root: ``$STANCE_HOME/models``, default ``~/.stance/models``)::

    <id>/model/          the model files (config.json, model.safetensors, tokenizer, evaluation.json, ...)
    <id>/version.json    id, parent, created, config, data file hashes, metrics, gate report
    active               the id of the active version (absent: the shipped ``default`` model is in use)
    history.jsonl        every change of the active version: {time, action, active, previous}

The model name ``active`` (the default ``--model`` of ``stance score``, ``serve`` and
``predict-stance``) resolves to the active version's model, or to the shipped ``default`` when the
registry is empty or has no active version. A version id (or a unique prefix of one) works as a
model name too. This module imports neither torch nor transformers.

Example:
    >>> reg = ModelRegistry()                          # doctest: +SKIP
    >>> version = reg.add("runs/retrain/model", parent="default", activate=True)  # doctest: +SKIP
    >>> reg.active().id == version.id                  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stance.io.atomic import write_atomic


class UnknownVersionError(ValueError):
    """A name that is no version id or unique prefix of the registry (a path or hub id, then)."""


SHIPPED = "default"  # what "active" means when no registry version is active
VERSION_FILE = "version.json"


def registry_root() -> Path:
    """``$STANCE_HOME/models`` (default ``~/.stance/models``)."""
    home = os.environ.get("STANCE_HOME") or str(Path("~/.stance").expanduser())
    return Path(home).expanduser() / "models"


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version."""

    id: str
    path: Path
    parent: str | None
    created: str
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def model_dir(self) -> Path:
        return self.path / "model"


class ModelRegistry:
    """Model versions under ``root`` (default :func:`registry_root`).

    Example:
        >>> reg = ModelRegistry("/tmp/stance-home/models")   # doctest: +SKIP
        >>> [v.id for v in reg.versions()]                   # doctest: +SKIP
        ['20261126-120000-1a2b3c4d']
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else registry_root()

    # ------------------------------------------------------------------ reading
    def versions(self) -> list[ModelVersion]:
        """All versions, oldest first."""
        found = [self._load(p) for p in self._version_dirs()]
        return sorted(found, key=lambda v: (v.created, v.id))

    def get(self, id_or_prefix: str) -> ModelVersion:
        """A version by id or unique id prefix; :class:`UnknownVersionError` when there is none, ValueError
        when several match or its version.json is damaged.

        Example:
            >>> ModelRegistry("/tmp/stance-home/models").get("2026")  # doctest: +SKIP
            Traceback (most recent call last):
            ValueError: '2026' is ambiguous: 20261126-120000-1a2b3c4d, 20261127-090000-5e6f7a8b
        """
        if not id_or_prefix or "/" in id_or_prefix or id_or_prefix in (".", ".."):
            raise UnknownVersionError(f"not a version id: {id_or_prefix!r}")
        exact = self.root / id_or_prefix
        if (exact / VERSION_FILE).is_file():
            return self._load(exact)
        matches = sorted(p for p in self._version_dirs() if p.name.startswith(id_or_prefix))
        if len(matches) == 1:
            return self._load(matches[0])
        if not matches:
            raise UnknownVersionError(f"no model version {id_or_prefix!r} in {self.root} (see `stance models list`)")
        raise ValueError(f"{id_or_prefix!r} is ambiguous: {', '.join(p.name for p in matches)}")

    def active(self) -> ModelVersion | None:
        """The active version, or None (the shipped default is in use); ValueError naming the version and
        its file when the active version is missing or damaged (never the shipped model in its place)."""
        active_id = self._active_id()
        if active_id is None:
            return None
        try:
            return self.get(active_id)
        except ValueError as exc:
            raise ValueError(
                f"the active model version {active_id!r} (named in {self.root / 'active'}) cannot be used: {exc}; "
                "make another one active with `stance models use ID` (or `default`)"
            ) from None

    def history(self) -> list[dict[str, Any]]:
        """Every change of the active version, oldest first."""
        path = self.root / "history.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def version_of(self, model_dir: str | Path) -> str | None:
        """The id of the version whose model directory is ``model_dir``, or None."""
        try:
            resolved = Path(model_dir).resolve()
            root = self.root.resolve()
        except OSError:
            return None
        if resolved.parent.parent != root or resolved.name != "model" or not (resolved.parent / VERSION_FILE).is_file():
            return None
        return resolved.parent.name

    # ------------------------------------------------------------------ changing
    def add(
        self,
        model_dir: str | Path,
        *,
        parent: str | None,
        activate: bool = False,
        **info: Any,
    ) -> ModelVersion:
        """Copy a saved model into the registry as a new version; ``info`` (config, data hashes,
        metrics, gate report, ...) goes into version.json. With ``activate``, make it the active one.

        Example:
            >>> ModelRegistry().add("runs/retrain/model", parent="default", metrics={"x": 1.0})  # doctest: +SKIP
        """
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise ValueError(f"{model_dir} is not a model directory (no config.json)")
        created = datetime.now(timezone.utc)
        digest = _dir_hash(model_dir)
        version_id = f"{created:%Y%m%d-%H%M%S}-{digest[:8]}"
        target = self.root / version_id
        if target.exists():
            raise ValueError(f"version {version_id} exists already")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{version_id}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(model_dir, staging / "model", ignore=shutil.ignore_patterns("checkpoints"))
        record = {
            "id": version_id,
            "parent": parent,
            "created": created.isoformat(timespec="seconds"),
            "model_sha256": digest,
            **info,
        }
        (staging / VERSION_FILE).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        os.replace(staging, target)
        version = self._load(target)
        if activate:
            self.use(version.id, action="promote")
        return version

    def use(self, id_or_prefix: str, *, action: str = "use") -> ModelVersion | None:
        """Make a version the active one (``default`` for the shipped model: returns None)."""
        version = None if id_or_prefix == SHIPPED else self.get(id_or_prefix)
        self._set_active(version.id if version else None, action)
        return version

    def rollback(self) -> ModelVersion | None:
        """Make the previously active version active again: the one the history says was active before the
        current one (the shipped default included: after ``use default``, the version it replaced); without
        history, the parent of the active version. Returns the now active version (None: the shipped default).
        ValueError when there is nothing to go back to.

        Example:
            >>> ModelRegistry().rollback()  # doctest: +SKIP
        """
        current = self.active()
        current_id = current.id if current else SHIPPED
        target = self._previous(current_id)
        if target is None and current is not None:
            target = current.parent or SHIPPED
        if target is None or target == current_id:
            raise ValueError(f"{_describe(current_id)} is active and the history names none before it: nothing to roll back")
        if target != SHIPPED:
            try:
                self.get(target)
            except UnknownVersionError:  # deleted since (a damaged one is reported)
                if current is None:
                    raise ValueError(
                        f"the version active before the shipped default, {target}, was deleted: nothing to roll back"
                    ) from None
                target = SHIPPED
        self._set_active(None if target == SHIPPED else target, "rollback")
        return self.active()

    def _previous(self, version_id: str) -> str | None:
        """The version active before ``version_id`` became active (``default`` for the shipped model), by the
        latest change that made it active (not a rollback, nor a change to the version already active); None
        when the history has none."""
        for event in reversed(self.history()):
            if event.get("active") == version_id and event.get("action") != "rollback" and event.get("previous") != version_id:
                return str(event.get("previous") or SHIPPED)
        return None

    # ------------------------------------------------------------------ internals
    def _version_dirs(self) -> list[Path]:
        return [p for p in self.root.iterdir() if (p / VERSION_FILE).is_file()] if self.root.is_dir() else []

    def _active_id(self) -> str | None:
        """The id the ``active`` file names (None: none), whether or not that version can be loaded."""
        pointer = self.root / "active"
        active_id = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
        return active_id or None

    def _set_active(self, version_id: str | None, action: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        previous = self._active_id()  # (a damaged active version can still be replaced)
        write_atomic(self.root / "active", (version_id or "") + "\n", tmp_name=".active.tmp")
        event = {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "action": action,
            "active": version_id or SHIPPED,
            "previous": previous or SHIPPED,
        }
        with open(self.root / "history.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event) + "\n")

    def _load(self, path: Path) -> ModelVersion:
        """The version in ``path``; ValueError naming the version and its file where that is damaged."""
        try:
            info = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"model version {path.name} is damaged: {path / VERSION_FILE} cannot be read ({exc})") from None
        if not isinstance(info, dict):
            raise ValueError(f"model version {path.name} is damaged: {path / VERSION_FILE} is not a JSON object")
        return ModelVersion(id=path.name, path=path, parent=info.get("parent"), created=str(info.get("created", "")), info=info)


def _describe(version_id: str) -> str:
    return "the shipped default model" if version_id == SHIPPED else f"version {version_id}"


def resolve_registry_name(name: str, root: str | Path | None = None) -> Path | None:
    """The model directory a registry name stands for: ``active`` -> the active version's model
    (None when none is active); a version id or unique prefix -> its model; else None. ValueError
    for an ambiguous prefix and a missing or damaged active version.

    Example:
        >>> resolve_registry_name("active")  # doctest: +SKIP
        PosixPath('/home/me/.stance/models/20261126-120000-1a2b3c4d/model')
    """
    reg = ModelRegistry(root)
    if name == "active":
        version = reg.active()
        return version.model_dir if version else None
    if not name or "/" in name or os.sep in name or not reg.root.is_dir():
        return None
    try:
        return reg.get(name).model_dir
    except UnknownVersionError:  # not a version: a path or hub id (an ambiguous prefix is an error)
        return None


def registry_version(model_dir: str | Path | None) -> str | None:
    """The registry version id of a model directory (None when it is not a registry version);
    ``stance score`` records it in run.json."""
    return ModelRegistry().version_of(model_dir) if model_dir else None


def _dir_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and "checkpoints" not in p.parts):
        digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
