"""Request and response bodies of the HTTP service (pydantic models; they also make /docs).

Example:
    >>> ScoreRequest.model_validate({"articles": [{"id": "a1", "text": "Beijing hailed the deal.", "outlet": "Wire"}]}).articles[0].outlet
    'Wire'
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from stance.io.records import SURROGATE


def json_problems(value: Any, loc: tuple[str | int, ...] = ("body",)) -> list[dict[str, Any]]:
    """What a parsed request body holds that JSON does not allow, as 422 ``detail`` items: NaN and
    Infinity (Python's parser takes them; a response cannot carry them) and lone
    surrogates (``"\\ud83d"``: half a character, which no tokenizer reads), in values and field names.

    Example:
        >>> [p["loc"] for p in json_problems({"sentences": [{"text": "ok", "w": float("nan")}]})]
        [['body', 'sentences', 0, 'w']]
    """
    problems: list[dict[str, Any]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [(loc, value)]
    while stack:  # not recursive: the parser allows deeper nesting than Python's call stack
        where, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            token = "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            problems.append(
                {"loc": list(where), "msg": f"{token} is not valid JSON (send null or a string)", "type": "json_invalid"}
            )
        elif isinstance(v, str) and (m := SURROGATE.search(v)):
            problems.append({"loc": list(where), "msg": _half_character(m, "at"), "type": "json_invalid"})
        elif isinstance(v, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, x in v.items():
                if m := SURROGATE.search(key):
                    shown = key.encode("utf-8", "backslashreplace").decode("utf-8")  # a response cannot carry it either
                    problems.append(
                        {"loc": [*where, shown], "msg": _half_character(m, "in the field name at"), "type": "json_invalid"}
                    )
                else:
                    children.append(((*where, key), x))
            stack.extend(reversed(children))
        elif isinstance(v, list):
            stack.extend(((*where, i), x) for i, x in reversed(list(enumerate(v))))
    return problems


def _half_character(m: re.Match[str], where: str) -> str:
    return (
        f"lone surrogate \\u{ord(m.group()):04x} {where} character {m.start()}: half a character, not text "
        "(an emoji cut in two? send both halves, or the character itself)"
    )


class ArticleIn(BaseModel):
    """One article: ``text`` (required), ``id`` (default: its position in the request), ``title``;
    any other field is metadata, carried through to every row of the article."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "a1",
                    "title": "Kremlin rejects plan",
                    "outlet": "Ledger",
                    "text": "MOSCOW (Reuters) - The Kremlin rejected the so-called peace plan.",
                }
            ]
        },
    )

    id: StrictStr | StrictInt | None = None
    text: StrictStr
    title: StrictStr | None = None


class ScoreRequest(BaseModel):
    """``POST /v1/score``: one or more articles."""

    articles: list[ArticleIn] = Field(min_length=1)


class MentionOut(BaseModel):
    actor: str
    type: str
    text: str
    start: int
    end: int
    stance: str | None
    probs: dict[str, float] | None
    resolution: str = "name"  # how the actor was decided: name, article, registry, ambiguous, unresolved


class DeviceOut(BaseModel):
    label: str
    text: str
    start: int
    end: int
    score: float
    technique: str | None = None  # for ``propaganda`` spans: the most likely PTC technique


class RowOut(BaseModel):
    """A row of the batch output (``stance score``): one sentence. Metadata fields follow, as
    strings (JSON text for non-strings)."""

    model_config = ConfigDict(extra="allow")

    doc_id: str
    sentence_id: int
    start: int
    end: int
    text: str
    section: str
    boilerplate: bool
    mentions: list[MentionOut]
    devices: list[DeviceOut]


class ArticleError(BaseModel):
    """An article of the request that could not be scored (the others were)."""

    index: int
    id: str
    reason: str


class ScoreResponse(BaseModel):
    """Rows of every article, in request order; ``errors``: articles that failed while scoring
    (a request whose articles all fail gets a 500 instead)."""

    model: str
    rows: list[RowOut]
    errors: list[ArticleError] = []


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    start: StrictInt
    end: StrictInt


class SentenceIn(BaseModel):
    """The ``stance predict-stance`` line format: ``text`` and target spans (other fields kept)."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"examples": [{"text": "Beijing hailed the deal.", "targets": [{"start": 0, "end": 7}]}]}
    )

    text: StrictStr
    targets: list[TargetIn]


class StanceRequest(BaseModel):
    """``POST /v1/stance``: sentences with their target spans."""

    sentences: list[SentenceIn] = Field(min_length=1)


class StanceResponse(BaseModel):
    """The sentences as sent, each target with ``stance`` and ``probs`` added."""

    model: str
    sentences: list[dict[str, Any]]


class DeviceInfo(BaseModel):
    name: str
    definition: str
    internal: bool
    reported: bool


class ModelInfo(BaseModel):
    """``GET /v1/model``."""

    name: str
    path: str | None
    version: str | None
    registry_version: str | None = None  # the model registry's version id, when the model is one (stance models list)
    stance_version: str
    labels: dict[str, list[str]]
    taxonomy: list[DeviceInfo]
    metrics: dict[str, Any]
    registry_hash: str | None
    use_ner: bool
    backend: str | None = (
        None  # what runs the network: a backend of stance.model.backends, with its precision (e.g. openvino-bf16)
    )
    limits: dict[str, float | int]


class BatcherStatsOut(BaseModel):
    batches: int
    items: int
    failed_batches: int
    failed_items: int
    largest_batch: int
    queued: int
    mean_batch: float | None


class StatsOut(BaseModel):
    """``GET /v1/stats``: micro-batching counters (articles for /v1/score, sentences for /v1/stance)."""

    uptime_s: float
    articles: BatcherStatsOut
    sentences: BatcherStatsOut


class Status(BaseModel):
    status: str


class ErrorBody(BaseModel):
    """Every error response: a code, a message for people and, for 422, the failing fields."""

    error: str
    message: str
    detail: list[dict[str, Any]] | None = None
