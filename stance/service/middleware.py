"""ASGI middleware: a request body size limit that answers 413 in JSON.

Example:
    >>> app.add_middleware(BodySizeLimit, max_bytes=8 * 1024 * 1024)  # doctest: +SKIP
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stance.service.errors import error_response


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413: at once when ``Content-Length`` says so, else
    while reading (chunked bodies). The body is read here and handed on in one piece, so every
    route, whatever framework version, sees the same limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await error_response(400, "bad_request", "invalid Content-Length header")(scope, receive, send)
                return
            if int(length) > self.max_bytes:
                await self._too_large(scope, receive, send, int(length))
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(scope, receive, send, None)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, length: int | None) -> None:
        size = f"{length:,} bytes" if length is not None else "more than that"
        response = error_response(
            413,
            "payload_too_large",
            f"request body is {size}; the limit is {self.max_bytes:,} bytes (max_body_bytes)",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
