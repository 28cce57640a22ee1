"""The FastAPI application: ``create_app(settings)``.

The model is loaded once, in the lifespan, into ``app.state.stance``; articles from concurrent
requests are scored together by a :class:`~stance.service.batcher.MicroBatcher` whose one worker
runs ``scorer.score_articles`` in a one-thread executor (so the model is used by one thread at
a time and the event loop stays free). On shutdown the queue is drained before the model goes.

Example:
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(ServiceSettings(model="runs/default/model", use_ner=False))  # doctest: +SKIP
    >>> with TestClient(app) as client:  # doctest: +SKIP
    ...     client.post("/v1/score", json={"articles": [{"id": "a1", "text": "Beijing hailed the deal."}]}).json()["rows"][0]["mentions"]
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from stance import __version__
from stance.io.readers import validate_record
from stance.io.records import Article, InputError
from stance.service.batcher import ItemError, MicroBatcher, QueueFullError
from stance.service.errors import ApiError, field_name, install_error_handlers
from stance.service.middleware import BodySizeLimit
from stance.service.schemas import (
    ErrorBody,
    ModelInfo,
    ScoreRequest,
    ScoreResponse,
    StanceRequest,
    StanceResponse,
    StatsOut,
    Status,
    json_problems,
)
from stance.service.settings import ServiceSettings

log = logging.getLogger("stance.service")
SENTENCES_PER_ARTICLE = 8  # /v1/stance queues sentences: max_queue articles' worth of them


class Scorer(Protocol):
    """What the service needs of a scorer (:class:`stance.pipeline.scorer.StanceScorer`, or a fake in tests)."""

    model: Any

    def score_articles(self, articles: Sequence[Article]) -> list[list[Any]]: ...


@dataclass
class ServiceState:
    """``app.state.stance``: the loaded scorer, the batchers and the model description."""

    settings: ServiceSettings
    scorer: Scorer | None = None
    articles: MicroBatcher | None = None
    sentences: MicroBatcher | None = None
    info: dict[str, Any] = field(default_factory=dict)
    phase: str = "starting"  # starting -> ready -> draining -> stopped
    started_at: float = field(default_factory=time.time)

    @property
    def ready(self) -> bool:
        return self.phase == "ready" and self.articles is not None and self.articles.running


def load_scorer(settings: ServiceSettings) -> Scorer:
    """The scorer for the settings (the model, the actor registry and its files, spaCy when ``use_ner``).

    Example:
        >>> scorer = load_scorer(ServiceSettings(model="default", use_ner=False))  # doctest: +SKIP
    """
    from stance.pipeline.scorer import StanceScorer

    return StanceScorer.from_settings(settings)


def _add_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the swagger-ui-bundle package's files, served by the app itself, so
    that the page works offline (FastAPI's default loads them from a CDN). Without the package, the
    default page (CDN) and a log line saying so."""
    from fastapi.openapi.docs import get_swagger_ui_html

    try:
        import swagger_ui_bundle
    except ImportError:
        log.warning("swagger-ui-bundle is not installed: /docs loads Swagger UI from a CDN (blank offline)")
        assets = None
    else:
        from fastapi.staticfiles import StaticFiles

        assets = "/docs-assets"
        app.mount(assets, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:
            return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="stance - API")
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="stance - API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )


def served_model_name(path: str | None, given: str) -> str:
    """The name responses give the model that runs: its registry version, ``default`` for the shipped
    model, else the name it was given (never ``active``, which changes when another version is promoted)."""
    from stance.store.model_files import resolve_model
    from stance.store.registry import registry_version

    if path:
        version = registry_version(path)
        if version:
            return version
        if Path(path).resolve() == Path(resolve_model("default")).resolve():
            return "default"
    return given


def describe(scorer: Scorer, settings: ServiceSettings) -> dict[str, Any]:
    """The ``GET /v1/model`` body: name, version, labels, device taxonomy, model-card metrics, limits."""
    from stance.labels.taxonomy import Taxonomy

    model = scorer.model
    path = model.path
    reported = set(model.device_labels)
    try:
        taxonomy = [
            {"name": d.name, "definition": d.definition, "internal": d.internal, "reported": d.name in reported}
            for d in Taxonomy.load().devices
        ]
    except (OSError, ValueError) as exc:
        log.warning("device taxonomy not available: %s", exc)
        taxonomy = []
    registry = getattr(getattr(scorer, "finder", None), "registry", None)
    from stance.store.model_files import model_version
    from stance.store.registry import registry_version

    return ModelInfo(
        name=served_model_name(path, settings.model if getattr(model, "name", None) in (None, "") else str(model.name)),
        path=path,
        version=model_version(path) if path else None,
        registry_version=registry_version(path),
        stance_version=__version__,
        labels={"stance": list(model.stance_labels), "devices": list(model.device_labels)},
        taxonomy=taxonomy,
        metrics=model.evaluation() if hasattr(model, "evaluation") else {},
        registry_hash=registry.hash if registry is not None else None,
        use_ner=settings.use_ner,
        backend=model.backend.name if hasattr(model, "backend") else None,
        limits={
            "max_body_bytes": settings.max_body_bytes,
            "max_article_chars": settings.max_article_chars,
            "max_batch_size": settings.max_batch_size,
            "max_queue": settings.max_queue,
            "request_timeout_s": settings.request_timeout_s,
        },
    ).model_dump()


def _score_fn(scorer: Scorer) -> Callable[[list[Article]], list[list[dict[str, Any]]]]:
    from stance.io.writers import normalise_row  # the row as `stance score` writes it

    def score(articles: list[Article]) -> list[list[dict[str, Any]]]:
        return [[normalise_row(s.to_row()) for s in rows] for rows in scorer.score_articles(articles)]

    return score


def _stance_fn(
    scorer: Scorer, batch_size: int
) -> Callable[[list[tuple[str, list[tuple[int, int]]]]], list[list[dict[str, Any]]]]:
    def predict(items: list[tuple[str, list[tuple[int, int]]]]) -> list[list[dict[str, Any]]]:
        preds = scorer.model.predict([t for t, _ in items], [spans for _, spans in items], batch_size=batch_size)
        return [
            [{"stance": p.stance, "probs": dict(p.probs)} for p in pred.targets] for pred in preds
        ]  # 4 decimals, as everywhere

    return predict


def create_app(settings: ServiceSettings | None = None, *, scorer: Scorer | None = None) -> FastAPI:
    """The service. ``settings``: default ``ServiceSettings.from_env()``; ``scorer``: use this one
    instead of loading ``settings.model`` (tests, embedding).

    Example:
        >>> app = create_app(ServiceSettings(model="default", api_key="s3cret"))  # doctest: +SKIP
        >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP

    Also usable as an app factory: ``uvicorn --factory stance.service:create_app`` (settings from ``STANCE_*``).
    """
    settings = settings or ServiceSettings.from_env()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")
        loop = asyncio.get_running_loop()
        try:
            started = time.perf_counter()
            try:
                state.scorer = scorer if scorer is not None else await loop.run_in_executor(executor, load_scorer, settings)
            except Exception as exc:  # noqa: BLE001  (logged, and raised again as one clear error)
                log.error("could not load the model %r: %s: %s", settings.model, type(exc).__name__, exc)
                raise RuntimeError(f"could not load the model {settings.model!r}") from None
            state.info = describe(state.scorer, settings)
            log.info(
                "model %s (version %s) loaded in %.1f s", state.info["name"], state.info["version"], time.perf_counter() - started
            )
            state.articles = MicroBatcher(
                _score_fn(state.scorer),
                max_batch_size=settings.max_batch_size,
                max_wait_ms=settings.max_wait_ms,
                max_queue=settings.max_queue,
                executor=executor,
                name="articles",
            )
            state.sentences = MicroBatcher(
                _stance_fn(state.scorer, settings.batch_size),
                max_batch_size=settings.batch_size,
                max_wait_ms=settings.max_wait_ms,
                max_queue=settings.max_queue * SENTENCES_PER_ARTICLE,
                executor=executor,
                name="sentences",
            )
            await state.articles.start()
            await state.sentences.start()
            state.phase = "ready"
            yield
        finally:
            state.phase = "draining"
            for batcher in (state.articles, state.sentences):
                if batcher is not None:
                    await batcher.stop(timeout=settings.request_timeout_s)
            executor.shutdown(wait=True)
            state.phase = "stopped"
            log.info("stopped")

    app = FastAPI(
        title="stance",
        version=__version__,
        summary="Stance toward actors and framing-device spans in news text, sentence by sentence.",
        lifespan=lifespan,
        responses={
            401: {"model": ErrorBody},
            413: {"model": ErrorBody},
            422: {"model": ErrorBody},
            503: {"model": ErrorBody},
            504: {"model": ErrorBody},
        },
        docs_url=None,
        redoc_url=None,
    )
    app.state.stance = state
    _add_docs(app)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # added last: outermost, so that errors carry the CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )

    app.get("/healthz", response_model=Status, tags=["health"], summary="Liveness: the process answers")(_healthz)

    @app.get(
        "/readyz",
        response_model=Status,
        tags=["health"],
        summary="Readiness: the model is loaded and requests are taken",
        responses={503: {"model": Status}},
    )
    async def readyz() -> JSONResponse:
        if state.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": state.phase if state.phase != "ready" else "unavailable"}, status_code=503)

    router = APIRouter(prefix="/v1", dependencies=[Depends(_auth_dependency(settings)), Depends(_standard_json)])

    @router.post("/score", response_model=ScoreResponse, tags=["scoring"], summary="Score articles: one row per sentence")
    async def score(body: ScoreRequest) -> JSONResponse:
        """Split each article into sentences, find the actors, and give the stance toward each
        actor and the framing-device spans of each sentence. The rows are those of
        ``stance score --out x.jsonl`` for the same articles."""
        articles = _check_articles(body, settings)
        results = await _submit(state, state.articles, articles)
        rows: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for i, (article, result) in enumerate(zip(articles, results, strict=True)):
            if isinstance(result, ItemError):
                errors.append({"index": i, "id": article.id, "reason": f"scoring failed: {str(result)[:300]}"})
            else:
                rows.extend(result)
        if errors and len(errors) == len(articles):
            raise ApiError(500, "scoring_failed", "scoring failed for every article of the request", detail=errors)
        return JSONResponse({"model": state.info["name"], "rows": rows, "errors": errors})

    @router.post("/stance", response_model=StanceResponse, tags=["scoring"], summary="Stance toward given target spans")
    async def stance(body: StanceRequest) -> JSONResponse:
        """The ``stance predict-stance`` line format: each sentence's targets gain ``stance`` and ``probs``."""
        lines = _check_sentences(body, settings)
        results = await _submit(
            state, state.sentences, [(line["text"], [(t["start"], t["end"]) for t in line["targets"]]) for line in lines]
        )
        failed = [
            {"index": i, "reason": f"prediction failed: {str(r)[:300]}"}
            for i, r in enumerate(results)
            if isinstance(r, ItemError)
        ]
        if failed:
            raise ApiError(500, "prediction_failed", "prediction failed for some sentences of the request", detail=failed)
        for line, preds in zip(lines, results, strict=True):
            for target, pred in zip(line["targets"], preds, strict=True):
                target.update(pred)
        return JSONResponse({"model": state.info["name"], "sentences": lines})

    @router.get("/model", response_model=ModelInfo, tags=["model"], summary="The model: name, version, labels, taxonomy, metrics")
    async def model_info() -> JSONResponse:
        if not state.info:
            raise ApiError(503, "unavailable", "the model is not loaded", headers={"Retry-After": "1"})
        return JSONResponse(state.info)

    @router.get("/stats", response_model=StatsOut, tags=["model"], summary="Micro-batching counters since start")
    async def stats() -> JSONResponse:
        out = {}
        for name, batcher in (("articles", state.articles), ("sentences", state.sentences)):
            if batcher is not None:
                out[name] = {
                    **asdict(batcher.stats),
                    "queued": batcher.queued,
                    "mean_batch": round(batcher.stats.items / batcher.stats.batches, 2) if batcher.stats.batches else None,
                }
        return JSONResponse({"uptime_s": round(time.time() - state.started_at, 1), **out})

    app.include_router(router)
    return app


async def _healthz() -> dict[str, str]:
    return {"status": "ok"}


_BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>` (when the service has an API key)")
_API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key (when the service has one)")


def _auth_dependency(settings: ServiceSettings) -> Callable[..., Any]:
    expected = (settings.api_key or "").encode("utf-8")

    async def require_key(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
        key: Annotated[str | None, Security(_API_KEY_HEADER)],
    ) -> None:
        if not expected:
            return
        given = [c for c in (credentials.credentials if credentials else None, key) if c]
        if not any(hmac.compare_digest(c.encode("utf-8"), expected) for c in given):
            raise ApiError(
                401,
                "unauthorized",
                "a valid API key is required (Authorization: Bearer <key> or X-API-Key: <key>)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_key


async def _standard_json(request: Request) -> None:
    """422 for a body with NaN, Infinity or a lone surrogate anywhere (Python's JSON parser takes them;
    the model and the response cannot), before the body's validation and any model work."""
    if request.method != "POST":
        return
    try:
        body = await request.json()  # already parsed for the route (the request caches it)
    except ValueError:  # not JSON at all: the route's own validation says so
        return
    problems = json_problems(body)
    if problems:
        message = "; ".join(f"{field_name(p['loc'])}: {p['msg']}" for p in problems[:5])
        raise ApiError(422, "validation_error", message, detail=problems)


def _check_articles(body: ScoreRequest, settings: ServiceSettings) -> list[Article]:
    """The articles of the request, checked by the rules of ``stance score`` (413 for length, title and
    text together; 422 otherwise)."""
    limit = settings.max_article_chars
    sizes = [(i, len(a.text) + len(a.title or ""), bool(a.title)) for i, a in enumerate(body.articles)]
    too_long = [(i, n, titled) for i, n, titled in sizes if n > limit]
    if too_long:
        detail = [
            {
                "loc": ["body", "articles", i] if titled else ["body", "articles", i, "text"],
                "msg": f"{n:,} characters{' (title and text)' if titled else ''}, over the limit of {limit:,}",
                "type": "too_long",
            }
            for i, n, titled in too_long
        ]
        i, n, titled = too_long[0]
        what = f"articles[{i}].title and .text have" if titled else f"articles[{i}].text has"
        raise ApiError(
            413,
            "article_too_long",
            f"{what} {n:,} characters; the limit is {limit:,} (max_article_chars)",
            detail=detail,
        )
    if len(body.articles) > settings.max_queue:
        raise ApiError(
            413,
            "too_many_articles",
            f"{len(body.articles)} articles in one request; the limit is {settings.max_queue} (max_queue)",
        )
    seen: set[str] = set()
    articles: list[Article] = []
    problems: list[dict[str, Any]] = []
    for i, a in enumerate(body.articles):
        obj = a.model_dump(exclude_unset=True)
        if obj.get("id") is None or obj.get("id") == "":
            obj["id"] = str(i)
        checked = validate_record(obj, seen, max_chars=limit, source="request", line=i)
        if isinstance(checked, InputError):
            where = "id" if checked.reason.startswith("duplicate id") else "text"
            problems.append({"loc": ["body", "articles", i, where], "msg": checked.reason, "type": "value_error"})
        else:
            articles.append(checked)
    if problems:
        message = "; ".join(f"articles[{p['loc'][2]}].{p['loc'][3]}: {p['msg']}" for p in problems[:5])
        raise ApiError(422, "validation_error", message, detail=problems)
    return articles


def _check_sentences(body: StanceRequest, settings: ServiceSettings) -> list[dict[str, Any]]:
    """The sentences as plain dicts, checked like ``stance predict-stance`` lines."""
    from stance.labels.format import LabelRecord

    limit = settings.max_article_chars
    lines = [s.model_dump(exclude_unset=True) for s in body.sentences]
    too_long = [(i, len(line["text"])) for i, line in enumerate(lines) if len(line["text"]) > limit]
    if too_long:
        i, n = too_long[0]
        raise ApiError(
            413,
            "sentence_too_long",
            f"sentences[{i}].text has {n:,} characters; the limit is {limit:,} (max_article_chars)",
            detail=[
                {
                    "loc": ["body", "sentences", j, "text"],
                    "msg": f"{m:,} characters, over the limit of {limit:,}",
                    "type": "too_long",
                }
                for j, m in too_long
            ],
        )
    if len(lines) > settings.max_queue * SENTENCES_PER_ARTICLE:
        raise ApiError(
            413,
            "too_many_sentences",
            f"{len(lines)} sentences in one request; the limit is {settings.max_queue * SENTENCES_PER_ARTICLE} (8 x max_queue)",
        )
    problems = []
    for i, line in enumerate(lines):
        try:
            LabelRecord.from_dict(line)
        except ValueError as exc:
            problems.append({"loc": ["body", "sentences", i], "msg": str(exc), "type": "value_error"})
    if problems:
        raise ApiError(
            422, "validation_error", "; ".join(f"sentences[{p['loc'][2]}]: {p['msg']}" for p in problems[:5]), detail=problems
        )
    return lines


async def _submit(state: ServiceState, batcher: MicroBatcher | None, items: list[Any]) -> list[Any]:
    settings = state.settings
    if batcher is None or not state.ready:
        raise ApiError(503, "unavailable", f"the service is {state.phase}", headers={"Retry-After": "1"})
    try:
        return await batcher.submit(items, timeout=settings.request_timeout_s)
    except QueueFullError as exc:
        raise ApiError(503, "overloaded", f"{exc}; retry later", headers={"Retry-After": "1"}) from None
    except asyncio.TimeoutError:
        raise ApiError(504, "timeout", f"not done within {settings.request_timeout_s:g} s (request_timeout_s)") from None
