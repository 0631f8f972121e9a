"""One place that turns errors into JSON answers ``{"error": {"code": ..., "message": ...}}``.

Library errors keep their stable status codes (``policy.malformed``, ``statement.malformed``,
...): the same strings the CLI and the library report. Malformed requests get 4xx, never 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from provenance.errors import (
    AuthorityError,
    CanonicalizationError,
    KeyFormatError,
    LogError,
    ProvenanceError,
    VerificationError,
)
from verifier_api.crud import ConflictError

logger = logging.getLogger(__name__)
MAX_VALIDATION_MESSAGES = 5

_HTTP_CODES = {
    400: "request.malformed",
    401: "auth.required",
    403: "auth.forbidden",
    404: "not_found",
    405: "method.not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "rate.limited",
}
_LIBRARY_ERRORS: tuple[tuple[type[ProvenanceError], int, str], ...] = (
    (AuthorityError, 422, "authority.refused"),
    (CanonicalizationError, 422, "content.not_canonicalizable"),
    (KeyFormatError, 422, "key.malformed"),
    (LogError, 503, "log.unavailable"),
)


class ApiError(Exception):
    """An error answer with an HTTP status, a stable code and a message.

    Args:
        status: The HTTP status code.
        code: The stable error code.
        message: What was expected and what was found (never a secret).
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON error answer."""
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def library_error_status(exc: ProvenanceError) -> tuple[int, str]:
    """The HTTP status and code of a library error."""
    if isinstance(exc, VerificationError):
        return 422, exc.code
    for kind, status, code in _LIBRARY_ERRORS:
        if isinstance(exc, kind):
            return status, code
    return 400, "provenance.error"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = [
        f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()[:MAX_VALIDATION_MESSAGES]
    ]
    return error_response(422, "request.invalid", "; ".join(parts) or "invalid request")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _library_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProvenanceError)
    status, code = library_error_status(exc)
    if status >= 500:
        logger.error("service error %s: %s", code, exc)
    return error_response(status, code, str(exc))


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, "conflict", str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error; see the service log")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProvenanceError, _library_error)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(Exception, _unexpected)
