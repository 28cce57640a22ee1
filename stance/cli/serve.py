"""`stance serve`: the HTTP service (FastAPI + uvicorn; ``pip install 'stance[serve]'``)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from stance.cli.common import MODEL_HELP
from stance.model.backends import backend_choices


class LogLevel(str, Enum):
    """The levels uvicorn accepts (``uvicorn.config.LOG_LEVELS``; a test checks they agree)."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


def _setting(name: str, text: str, shown: str | None = None) -> str:
    """Help text of a service setting: its default (from ServiceSettings, written once) and its variable."""
    from dataclasses import fields

    from stance.service.settings import ENV_PREFIX, ServiceSettings

    default = shown if shown is not None else next(f.default for f in fields(ServiceSettings) if f.name == name)
    return f"{text} [default: {default}; env {ENV_PREFIX}{name.upper()}]"


def serve(
    model: Annotated[str | None, typer.Option(help=_setting("model", MODEL_HELP))] = None,
    host: Annotated[
        str,
        typer.Option(
            help="address to listen on (127.0.0.1: this machine only) [default: 127.0.0.1; env STANCE_HOST]",
            envvar="STANCE_HOST",
            show_envvar=False,
            show_default=False,
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="port to listen on [default: 8000; env STANCE_PORT]",
            envvar="STANCE_PORT",
            show_envvar=False,
            show_default=False,
        ),
    ] = 8000,
    actors: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE",
            help=_setting(
                "actors", "YAML file adding or overriding actor registry entries; repeatable (env: comma-separated)", "none"
            ),
        ),
    ] = None,
    ner: Annotated[
        bool | None,
        typer.Option("--ner/--no-ner", help=_setting("use_ner", "find actors missing from the registry with spaCy NER", "on")),
    ] = None,
    party_members: Annotated[
        str | None,
        typer.Option(help=_setting("party_members", "'party' or 'separate': \"Republicans\" as the party or as a group")),
    ] = None,
    device: Annotated[str | None, typer.Option(help=_setting("device", "cpu, cuda, ..."))] = None,
    backend: Annotated[str | None, typer.Option(help=_setting("backend", backend_choices()))] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help=_setting("batch_size", "sentences per model batch"))] = None,
    max_batch_size: Annotated[
        int | None, typer.Option(min=1, help=_setting("max_batch_size", "articles scored together (micro-batch)"))
    ] = None,
    max_wait_ms: Annotated[
        float | None, typer.Option(min=0, help=_setting("max_wait_ms", "how long an article waits for others to batch with"))
    ] = None,
    max_queue: Annotated[
        int | None, typer.Option(min=1, help=_setting("max_queue", "articles waiting before requests get 503"))
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(min=1, help=_setting("max_body_bytes", "request body limit in bytes (413 over it)"))
    ] = None,
    max_article_chars: Annotated[
        int | None, typer.Option(min=1, help=_setting("max_article_chars", "article length limit (413 over it)"))
    ] = None,
    request_timeout_s: Annotated[
        float | None, typer.Option(min=0.001, help=_setting("request_timeout_s", "per-request limit (504 over it)"))
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT",
            help=_setting(
                "cors_origins", "allow browser requests from this origin; repeatable (env: comma-separated)", "CORS off"
            ),
        ),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option(case_sensitive=False, help="how much to log")] = LogLevel.info,
    access_log: Annotated[bool, typer.Option(help="log every request (uvicorn's access log)")] = True,
) -> None:
    """Run the HTTP service: POST /v1/score, POST /v1/stance, GET /v1/model, /healthz, /readyz, docs at /docs.

    The API key, when wanted, comes from the environment only: STANCE_API_KEY.

    Example:
        stance serve --model default --host 127.0.0.1 --port 8000
    """
    from stance.cli.common import fail

    try:
        import uvicorn
        from uvicorn.config import LOG_LEVELS

        from stance.service import ServiceSettings, create_app
    except ImportError as exc:
        fail(f"the service needs its extra dependencies: pip install 'stance[serve]' ({exc})")
    try:
        settings = ServiceSettings.from_env(
            model=model,
            actors=tuple(str(a) for a in actors) if actors else None,
            use_ner=ner,
            party_members=party_members,
            device=device,
            backend=backend,
            batch_size=batch_size,
            max_batch_size=max_batch_size,
            max_wait_ms=max_wait_ms,
            max_queue=max_queue,
            max_body_bytes=max_body_bytes,
            max_article_chars=max_article_chars,
            request_timeout_s=request_timeout_s,
            cors_origins=tuple(cors_origin) if cors_origin else None,
        )
    except ValueError as exc:
        fail(str(exc))
    model_path = Path(settings.model).expanduser()
    if (model_path.is_absolute() or settings.model.startswith(".")) and not (model_path / "config.json").is_file():
        fail(f"model directory {settings.model} does not exist or has no config.json")
    for path in settings.actors:
        if not Path(path).is_file():
            fail(f"actors file {path} does not exist")
    import logging

    level = log_level.value
    logging.basicConfig(level=LOG_LEVELS[level], format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # trace: 5
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        logging.getLogger("stance.service").warning("listening on %s without an API key (set STANCE_API_KEY)", host)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=level,
        access_log=access_log,
        timeout_graceful_shutdown=int(settings.request_timeout_s) + 5,  # in-flight requests finish, then the queue drains
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when the start-up fails
        if exc.code not in (0, None):
            fail("the service did not start (see the messages above)", code=1)
        raise
    if not server.started:  # start-up failed (the model did not load, the port is taken): uvicorn has said why
        fail("the service did not start (see the messages above)", code=1)
