"""One place that turns errors into JSON answers ``{"error": {"code": ..., "message": ...}}``.

Library errors keep their stable status codes (``policy.malformed``, ``statement.malformed``,
...): the same strings the CLI and the library report. Malformed requests get 4xx, never 500.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from provenance import (
    AuthorityError,
    CanonicalizationError,
    KeyFormatError,
    LogError,
    MediaError,
    ProvenanceError,
    VerificationError,
    dumps_text,
    printable,
)
from verifier_api.crud import ConflictError
from verifier_api.service_errors import ServiceError
from verifier_api.settings import HTTP_LIMITS

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "request.malformed",
    401: "auth.required",
    403: "auth.forbidden",
    404: "route.not_found",
    405: "method.not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "request.invalid",
    429: "rate.limited",
}
_LIBRARY_ERRORS: tuple[tuple[type[ProvenanceError], int, str], ...] = (
    (AuthorityError, 422, "authority.refused"),
    (CanonicalizationError, 422, "content.not_canonicalizable"),
    (KeyFormatError, 422, "key.malformed"),
    (LogError, 503, "log.unavailable"),
    (MediaError, 422, "media.refused"),
)
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
"""Errors of a database that is away, read-only or out of space: 503, never 500."""
_SQLITE_READ_ONLY = 8  # SQLITE_READONLY (primary result code)
_SQLITE_IO_ERROR = 10  # SQLITE_IOERR (e.g. a write refused by the file-size limit)
_SQLITE_FULL = 13  # SQLITE_FULL
_DATABASE_FAULTS: dict[int, tuple[str, str]] = {
    _SQLITE_READ_ONLY: ("database.read_only", "the database is read-only; nothing was written"),
    _SQLITE_FULL: ("database.disk_full", "the database's disk is full; nothing was written"),
    _SQLITE_IO_ERROR: ("database.io_error", "the database could not write; nothing was written"),
}
_UNREACHABLE = ("database.unreachable", "the database does not answer; retry later")


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: a lone surrogate quoted from the input (a policy's identity, a
    key of a refused object) is written as its ``\\uXXXX`` escape instead of failing with 500.

    A value of plain JSON types (:func:`plain_json`) is written by orjson, which writes it byte
    for byte as :func:`~provenance.encoding.dumps_text` does (compact, non-ASCII as UTF-8, the
    same escapes) in a tenth of the time; any other value, or one orjson refuses (a lone
    surrogate, deep nesting), goes through ``dumps_text``
    (tests/property/test_safe_json_response.py holds the two to the same bytes).
    """

    def render(self, content: Any) -> bytes:
        """The compact JSON text of ``content`` as UTF-8."""
        if plain_json(content):
            try:
                return orjson.dumps(content)
            except orjson.JSONEncodeError:
                pass  # a lone surrogate or deep nesting: dumps_text decides
        return dumps_text(content, compact=True).encode("utf-8")


_INT64_MIN, _UINT64_END = -(2**63), 2**64


def plain_json(value: Any) -> bool:
    """Whether ``value`` holds only dicts with str keys, lists, tuples, str, bool, None and
    integers within 64 bits, of exactly those types (no subclass, no float: orjson writes some
    floats otherwise than ``json``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is not int or not _INT64_MIN <= item < _UINT64_END:
            return False
    return True


class ApiError(ServiceError):
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
    return SafeJSONResponse(body, status_code=status, headers=headers)


def library_error_status(exc: ProvenanceError) -> tuple[int, str]:
    """The HTTP status and code of a library error."""
    if isinstance(exc, VerificationError):
        return 422, exc.code
    for kind, status, code in _LIBRARY_ERRORS:
        if isinstance(exc, kind):
            return status, code
    return 400, "provenance.error"


def database_fault(exc: SQLAlchemyError) -> tuple[str, str]:
    """The stable code and a secret-free message of a database that cannot serve.

    SQLite's result code tells a read-only file or a full disk from other faults; any other
    operational error (a lost connection, a server that does not answer) is ``unreachable``.
    """
    orig = getattr(exc, "orig", None)
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return _DATABASE_FAULTS.get(sqlite_code & 0xFF, _UNREACHABLE)
    return _UNREACHABLE


def _database_cause(exc: BaseException) -> SQLAlchemyError | None:
    """The database error behind ``exc`` (itself or a ``raise ... from`` cause), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DATABASE_UNAVAILABLE):
            return seen
        seen = seen.__cause__
    return None


def _database_response(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    code, message = database_fault(exc)
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).splitlines() or [""])[0]  # the driver's reason, never the SQL or its values
    logger.error(
        "%s on %s %s: %s: %s", code, request.method, request.url.path, type(orig).__name__, reason
    )
    return error_response(503, code, message)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SQLAlchemyError)
    return _database_response(request, exc)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def validation_message(errors: Sequence[Any], prefix: tuple[str | int, ...] = ()) -> str:
    """One line naming each invalid field (its location, under ``prefix``) and why; a location
    holds the client's own field names, shown through :func:`printable`."""
    parts = [
        printable(
            f"{'.'.join(str(p) for p in (*prefix, *error.get('loc', ())))}:"
            f" {error.get('msg', 'invalid')}"
        )
        for error in errors[: HTTP_LIMITS.max_validation_messages]
    ]
    return "; ".join(parts) or "invalid request"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "request.invalid", validation_message(exc.errors()))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _library_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProvenanceError)
    cause = _database_cause(exc)
    if cause is not None:
        return _database_response(request, cause)
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
    for database_error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
