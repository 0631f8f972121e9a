"""The request body cap: bodies above the limit get 413 JSON before anything parses them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verifier_api.errors import error_response


class BodyTooLargeError(HTTPException):
    """The streamed body passed the cap (FastAPI re-raises HTTPExceptions from body reading)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    """Refuse bodies over the cap: by Content-Length up front, else while streaming.

    Args:
        app: The wrapped app.
        max_bytes: The cap.
        path_caps: Other caps for some paths (e.g. media uploads).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, path_caps: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_caps = dict(path_caps or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_caps.get(scope.get("path", ""), self.max_bytes)
        declared = _content_length(scope)
        if declared is None or declared > limit:
            message = (
                f"the request body exceeds {limit} bytes"
                if declared is not None
                else "the Content-Length header is malformed"
            )
            status = 413 if declared is not None else 400
            code = "request.too_large" if declared is not None else "request.malformed"
            await error_response(status, code, message)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; 0 when absent; None when malformed."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return 0
