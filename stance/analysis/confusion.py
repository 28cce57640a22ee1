"""Which confusion matrix corrects a comparison for the model's errors: an explicit one (a
:class:`~stance.analysis.quantify.Confusion`, a dict or a JSON file), else the one in a model's
``evaluation.json``, the model being by default the one recorded in the scores' run metadata.

Example:
    >>> from stance.analysis.confusion import matrix_for
    >>> notes: list[str] = []
    >>> conf = matrix_for("scores.parquet", method="acc", model="recorded", confusion=None, notes=notes)  # doctest: +SKIP
    >>> notes  # where the matrix came from, or why there is none  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from stance.analysis.quantify import NOISY_CONDITION, Confusion
from stance.io.score_files import Source
from stance.labels.format import STANCE_LABELS

RECORDED = "recorded"  # compare_scores(model=...): the model named in the inputs' run metadata

ConfusionSource: TypeAlias = Confusion | Mapping[str, Any] | str | Path


def matrix_for(
    data: Source, *, method: str, model: str | None, confusion: ConfusionSource | None, notes: list[str]
) -> Confusion | None:
    """The confusion matrix to correct ``data``'s shares with, or None: looked for when ``method`` is
    ``acc`` or a ``confusion`` is given; ``model="recorded"`` is the model of :func:`recorded_model`. Where
    it came from, why there is none, and whether it is poorly conditioned are appended to ``notes``.
    ValueError for an explicit ``confusion`` that is not valid.

    Example:
        >>> matrix_for(["scores.parquet"], method="acc", model="recorded", confusion=None, notes=[])  # doctest: +SKIP
    """
    if method != "acc" and confusion is None:
        return None
    if model == RECORDED and confusion is None:
        model, how = recorded_model(data)
        notes.append(how)
    conf, problem = resolve_confusion(model, confusion)
    if problem:
        shown_instead = "; classify-and-count is shown instead" if method == "acc" else ""
        notes.append(f"no correction for the model's errors ({problem}){shown_instead}")
    elif conf is not None and conf.condition > NOISY_CONDITION:
        notes.append(
            f"the confusion matrix is poorly conditioned (condition number {conf.condition:.0f}): corrected shares are noisy"
        )
    if conf is not None:
        notes.append(f"corrected with the confusion matrix of {conf.source or 'the given matrix'} ({confusion_support(conf)})")
        rows = conf.counts.sum(axis=1)
        if conf.is_counts and rows.min() < FEW_LABELS:
            fewest = STANCE_LABELS[int(rows.argmin())]
            notes.append(
                f"the confusion matrix has only {int(rows.min())} labelled targets whose gold stance is {fewest}: the "
                "correction rests on few labels (its intervals are wide for that reason)"
            )
    return conf


FEW_LABELS = 10  # a gold row with fewer labelled targets than this is named in a note


def confusion_support(conf: Confusion) -> str:
    """What stands behind a confusion matrix, in words, for notes and the report.

    Example:
        >>> import numpy as np
        >>> confusion_support(Confusion(np.array([[8.0, 2, 0], [1, 8, 1], [0, 1, 9]])))
        '30 labelled targets; its uncertainty is in the intervals'
    """
    if conf.is_counts:
        return f"{int(conf.counts.sum()):,} labelled targets; its uncertainty is in the intervals"
    return "given as rates, so how many labels stand behind it is unknown: its uncertainty is not in the intervals"


def recorded_model(data: Source) -> tuple[str | None, str]:
    """The model the scores were made with, from each input's run metadata (``OUT.run.json``), and a
    note saying where it came from; None (no correction: another model's matrix would correct for errors
    these scores do not have) when there is none or the inputs disagree (the note says so).

    Example:
        >>> recorded_model(["scores.parquet"])  # doctest: +SKIP
        ('/home/me/.local/share/stance/models/v3', 'the confusion matrix comes from the model recorded in scores.run.json (v3)')
    """
    from stance.run.record import recorded_output, run_metadata_path

    unknown = "so no model's confusion matrix is taken for them (give --model or --confusion)"
    if isinstance(data, pd.DataFrame):
        return (
            None,
            "a DataFrame carries no run metadata, so no model's confusion matrix is taken for it (give model= or confusion=)",
        )
    items = [data] if isinstance(data, (str, Path)) else list(data)
    models = {}
    for item in items:
        meta = run_metadata_path(item)
        if (recorded := recorded_output(meta)) is not None and recorded != Path(item).name:
            return None, f"{meta.name} beside {item} is the run record of {recorded}, not of it, {unknown}"
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))["model"]
            models[(record["path"], record.get("version"))] = (meta.name, record)
        except (OSError, ValueError, KeyError, TypeError):
            return None, f"no run metadata beside {item} ({meta.name}) names the model that scored it, {unknown}"
    if len(models) > 1:
        listed = "; ".join(f"{name}: {r['path']}" for name, r in models.values())
        return None, f"the inputs were scored by different models ({listed}), {unknown}"
    (path, version), (name, record) = next(iter(models.items()))
    return path, f"the model is the one recorded in {name}: {record.get('name')} ({path}, version {version})"


def resolve_confusion(model: str | None, confusion: ConfusionSource | None) -> tuple[Confusion | None, str | None]:
    """The confusion matrix to correct with, and else why there is none. An explicit ``confusion`` (a
    :class:`Confusion`, a dict or a JSON file) must be valid (ValueError otherwise); the one stored in
    ``model``'s ``evaluation.json`` is used when present (the network is not loaded).

    Example:
        >>> conf, problem = resolve_confusion("default", None)  # doctest: +SKIP
    """
    if confusion is not None:
        if isinstance(confusion, Confusion):
            conf = confusion
        elif isinstance(confusion, Mapping):
            conf = Confusion.from_dict(confusion, "the given confusion matrix")
        else:
            conf = Confusion.from_file(confusion)
    elif model:
        model_dir = _model_dir(model)
        if isinstance(model_dir, str):
            return None, model_dir
        path = model_dir / "evaluation.json"
        if not path.exists():
            return None, f"{path} does not exist"
        try:
            conf = Confusion.from_file(path)
        except ValueError as exc:
            return None, str(exc)
    else:
        return None, "no model or confusion matrix given"
    problem = conf.problem()
    return (None, f"{conf.source}: {problem}") if problem else (conf, None)


def check_model_for_confusion(model: str) -> Path:
    """The local directory of a model a user named to correct with; ValueError where there is none (a
    misspelt ``--model`` silently became classify-and-count). A model only recorded in the scores' run
    metadata is not checked so: it may be gone, and the comparison then says so and counts instead.

    Example:
        >>> check_model_for_confusion("default").name
        'default'
    """
    found = _model_dir(model)
    if isinstance(found, str):
        raise ValueError(f"--model: {found}")
    return found


def _model_dir(model: str) -> Path | str:
    """The model's local directory, or a reason why there is none."""
    from stance.store.model_files import resolve_model

    try:
        resolved = Path(resolve_model(model))
    except ValueError as exc:
        return str(exc)
    return resolved if resolved.is_dir() else f"model {model!r} is not a local directory (pass --confusion)"
