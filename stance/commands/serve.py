"""`stance serve`: the HTTP service (FastAPI + uvicorn; ``pip install 'stance[serve]'``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    model: Annotated[str | None, typer.Option(help="'active' (the registry's active version, else the shipped default), 'default', a registry version id, a model directory or a hub id (default: active; env STANCE_MODEL)")] = None,
    host: Annotated[str, typer.Option(help="address to listen on (127.0.0.1: this machine only)", envvar="STANCE_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on", envvar="STANCE_PORT")] = 8000,
    actors: Annotated[list[Path] | None, typer.Option(help="YAML file adding or overriding actor registry entries; repeatable (env STANCE_ACTORS, comma-separated)")] = None,
    ner: Annotated[bool | None, typer.Option("--ner/--no-ner", help="find actors missing from the registry with spaCy NER (default: on; env STANCE_USE_NER)")] = None,
    party_members: Annotated[str | None, typer.Option(help="'party' (default) or 'separate': \"Republicans\" as the party or as a group (env STANCE_PARTY_MEMBERS)")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, ... (default: cpu; env STANCE_DEVICE)")] = None,
    backend: Annotated[
        str | None, typer.Option(help="torch, openvino, onnx, onnx-int8 or auto (default: auto; env STANCE_BACKEND)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="sentences per model batch (default: 64; env STANCE_BATCH_SIZE)")] = None,
    max_batch_size: Annotated[int | None, typer.Option(min=1, help="articles scored together (micro-batch) (default: 32; env STANCE_MAX_BATCH_SIZE)")] = None,
    max_wait_ms: Annotated[float | None, typer.Option(min=0, help="how long an article waits for others to batch with (default: 5; env STANCE_MAX_WAIT_MS)")] = None,
    max_queue: Annotated[int | None, typer.Option(min=1, help="articles waiting before requests get 503 (default: 256; env STANCE_MAX_QUEUE)")] = None,
    max_body_bytes: Annotated[int | None, typer.Option(min=1, help="request body limit (413 over it) (default: 8 MiB; env STANCE_MAX_BODY_BYTES)")] = None,
    max_article_chars: Annotated[int | None, typer.Option(min=1, help="article length limit (413 over it) (default: 100,000; env STANCE_MAX_ARTICLE_CHARS)")] = None,
    request_timeout_s: Annotated[float | None, typer.Option(min=0.001, help="per-request limit (504 over it) (default: 30; env STANCE_REQUEST_TIMEOUT_S)")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(help="allow browser requests from this origin; repeatable (default: CORS off; env STANCE_CORS_ORIGINS, comma-separated)")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
    access_log: Annotated[bool, typer.Option(help="log every request (uvicorn's access log)")] = True,
) -> None:
    """Run the HTTP service: POST /v1/score, POST /v1/stance, GET /v1/model, /healthz, /readyz, docs at /docs.

    The API key, when wanted, comes from the environment only: STANCE_API_KEY.

    Example:
        stance serve --model default --host 127.0.0.1 --port 8000
    """
    from stance.cli import fail

    try:
        import uvicorn

        from stance.service import ServiceSettings, create_app
    except ImportError as exc:
        fail(f"the service needs its extra dependencies: pip install 'stance[serve]' ({exc})")
    try:
        settings = ServiceSettings.from_env(
            model=model, actors=tuple(str(a) for a in actors) if actors else None, use_ner=ner, party_members=party_members, device=device, backend=backend, batch_size=batch_size,
            max_batch_size=max_batch_size, max_wait_ms=max_wait_ms, max_queue=max_queue, max_body_bytes=max_body_bytes,
            max_article_chars=max_article_chars, request_timeout_s=request_timeout_s, cors_origins=tuple(cors_origin) if cors_origin else None,
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

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        logging.getLogger("stance.service").warning("listening on %s without an API key (set STANCE_API_KEY)", host)
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level=log_level.lower(), access_log=access_log,
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
