"""JSON error bodies for every failure: ``{"error": code, "message": text, "detail": [...]}``.

Example:
    >>> ApiError(413, "article_too_long", "articles[0].text has 120,000 characters").status_code
    413
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("stance.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
    504: "timeout",
}


class ApiError(Exception):
    """An error response: status, a short code, a message, optional per-field detail and headers."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        detail: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.detail = detail
        self.headers = headers


def error_response(
    status_code: int, error: str, message: str, detail: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON response for an error."""
    body: dict[str, Any] = {"error": error, "message": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status_code, headers=headers)


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "articles", 0, "text")`` -> ``articles[0].text``."""
    out = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def install_error_handlers(app: FastAPI) -> None:
    """JSON bodies for validation errors (422, naming the fields), HTTP errors and crashes."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.message, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        for e in exc.errors():
            item = {
                "loc": [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            if e.get("type") == "json_invalid":
                ctx = e.get("ctx") if isinstance(e.get("ctx"), dict) else {}
                item["msg"] = f"invalid JSON: {ctx.get('error', 'cannot decode')} (at character {item['loc'][-1]})"
                item["loc"] = ["body"]
            detail.append(item)  # the input is not echoed back (it may be a whole article)
        message = "; ".join(f"{field_name(d['loc'])}: {d['msg']}" for d in detail[:5]) + (
            f" (and {len(detail) - 5} more)" if len(detail) > 5 else ""
        )
        content_type = request.headers.get("content-type", "")
        if any(d["loc"] == ["body"] for d in detail) and "json" not in content_type:
            message += (
                f" (the body must be JSON, sent with Content-Type: application/json, not {content_type or 'no content type'})"
            )
        return error_response(422, "validation_error", message or "invalid request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(
            exc.status_code, _CODES.get(exc.status_code, "error"), str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error")
