"""Request bodies: the size cap (413 before anything parses them) and strict JSON (422)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenance import StrictDecodeError, loads_strict
from verifier_api.errors import ApiError, error_response
from verifier_api.settings import HTTP_LIMITS

BODY_ERROR = "provenance.body_error"
"""The request-state key of a body refusal deferred until the API key is checked."""
PARSED_BODY = "provenance.parsed_body"
"""The request-state key of the :class:`ParsedBody` the strict pass decoded (routes reuse it)."""


class BodyTooLargeError(HTTPException):
    """The streamed body passed the cap (FastAPI re-raises HTTPExceptions from body reading)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


JsonRoutes = Mapping[tuple[str, str], frozenset[str] | None]
"""The routes whose body is a JSON document, as ``(method, path)``, each with the API key scopes
it admits (None when it needs no key)."""

KeyCheck = Callable[[Scope, frozenset[str]], Awaitable[bool]]
"""Whether the request carries a valid API key of one of the scopes (the route's own key check)."""


def route_path(scope: Scope) -> str:
    """The path the app routes on: ``path`` without the ``root_path`` prefix, as Starlette does.

    Behind ``uvicorn --root-path /api`` the scope's ``path`` is ``/api/v1/sign`` and Starlette
    routes ``/v1/sign``; every routing decision outside the router (which body to parse, which cap)
    must use the same path, or it is skipped for every request (attacker review, root path).
    """
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


class BodyGate:
    """Hold request bodies to the cap, and the bodies of JSON routes to strict JSON: one pass.

    The cap: a declared Content-Length over it is refused up front (413, a malformed one 400),
    an undeclared body while it streams (413). Then strict JSON: Python's ``json`` (which FastAPI
    uses) keeps the last of duplicate keys and accepts ``NaN``: a parser differential an attacker
    could use between this service and the tools that store the same bundle. Bodies of the routes
    that take JSON must pass :func:`provenance.encoding.loads_strict` (no duplicate keys, no
    non-finite numbers, integers within +-(2**53-1), bounded nesting), else 422
    ``request.invalid``. Lone surrogates are left to the fields' own checks, so that a bundle
    holding one fails its own batch item (``bundle.malformed``), not the whole request. Only a
    capped body is ever held.

    Only the routes of ``json_routes`` (method and path, the path below the root path as the
    router sees it: :func:`route_path`) are parsed: a body sent to a path that
    does not exist or takes no JSON is passed on untouched (still capped), whatever its
    Content-Type. A route that needs an API key is parsed only once ``key_check`` admits the
    request's key; otherwise the route gets an empty body and its own key check answers 401 or
    403 (attacker review F9: a 1 MiB body cost about 200 ms of CPU before 404 or 401). A body that
    is not JSON by its Content-Type gets 415 ``request.unsupported_media_type``. Refusals are
    deferred (:data:`BODY_ERROR` in the request state, an empty body passed on) to the route's key
    check (:func:`raise_body_error`). The decoded value is kept (:data:`PARSED_BODY`) for the route.
    A body over ``HTTP_LIMITS.max_inline_parse_bytes`` is parsed in the thread pool, a smaller one
    on the event loop (attacker review: 1 MiB of nested empty arrays held the loop 1-2 s).

    The routes of ``form_routes`` (a multipart or urlencoded body) that need a key get their body
    only once ``key_check`` admits the request's key; otherwise the route gets no body and no
    Content-Type, and its own key check answers 401 or 403: a form is never parsed (nor spooled to
    disk) for a request without a valid key of the route's scope (attacker review).

    Args:
        app: The wrapped app.
        max_bytes: The cap.
        path_caps: Other caps for some paths (e.g. media uploads).
        json_routes: The routes whose body is a JSON document, with the key scopes they admit.
        form_routes: The routes whose body is a form, with the key scopes they admit.
        key_check: The API key check for routes that need a key (none admitted without it).
        max_depth: The deepest nesting a request may have.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        path_caps: Mapping[str, int] | None = None,
        json_routes: JsonRoutes | None = None,
        form_routes: JsonRoutes | None = None,
        key_check: KeyCheck | None = None,
        max_depth: int = HTTP_LIMITS.max_request_depth,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_caps = dict(path_caps or {})
        self.json_routes = dict(json_routes or {})
        self.form_routes = dict(form_routes or {})
        self.key_check = key_check
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        limit = self.path_caps.get(path, self.max_bytes)
        declared = _content_length(scope)
        if declared is None or declared > limit:
            await _declared_refusal(declared, limit)(scope, receive, send)
            return
        route = (scope.get("method", ""), path)
        if route in self.form_routes and not await self._admitted(scope, self.form_routes[route]):
            await self.app(_without_body(scope), _replay(b""), send)
            return
        if route not in self.json_routes:
            await self.app(scope, _counting(receive, limit), send)
            return
        try:
            body = await _read_body(receive, limit)
        except BodyTooLargeError as exc:
            await error_response(413, "request.too_large", str(exc.detail))(scope, receive, send)
            return
        await self.app(scope, await self._checked(scope, body, self.json_routes[route]), send)

    async def _checked(
        self, scope: Scope, body: bytes, key_scopes: frozenset[str] | None
    ) -> Receive:
        """The body the route gets: as sent once it passed (its value kept), else empty (the
        refusal deferred, or no key admitted to have it parsed)."""
        if not await self._admitted(scope, key_scopes):
            return _replay(b"")
        error, parsed = await self._parsed_off_loop(body, _media_type(scope))
        if error is not None:
            scope.setdefault("state", {})[BODY_ERROR] = error
            return _replay(b"")
        if body:
            scope.setdefault("state", {})[PARSED_BODY] = ParsedBody(parsed, len(body))
        return _replay(body)

    async def _admitted(self, scope: Scope, key_scopes: frozenset[str] | None) -> bool:
        """Whether the body may be parsed: the route needs no key, or the request's key passes."""
        if key_scopes is None:
            return True
        return self.key_check is not None and await self.key_check(scope, key_scopes)

    async def _parsed_off_loop(
        self, body: bytes, media_type: str | None
    ) -> tuple[ApiError | None, Any]:
        """:meth:`_parsed`, in the thread pool for a body over ``max_inline_parse_bytes``."""
        if len(body) <= HTTP_LIMITS.max_inline_parse_bytes:
            return self._parsed(body, media_type)
        return await run_in_threadpool(self._parsed, body, media_type)

    def _parsed(self, body: bytes, media_type: str | None) -> tuple[ApiError | None, Any]:
        """The body's refusal, or None and the JSON value it holds."""
        if not body:
            return None, None
        if not _is_json(media_type):
            found = f"Content-Type {media_type}" if media_type else "no Content-Type"
            error = ApiError(
                415,
                "request.unsupported_media_type",
                f"expected a body of Content-Type application/json, found {found[:100]}",
            )
            return error, None
        try:
            parsed = loads_strict(
                body,
                max_bytes=len(body),
                max_depth=self.max_depth,
                allow_lone_surrogates=True,  # each field's own parser refuses them
            )
        except StrictDecodeError as exc:
            return ApiError(422, "request.invalid", f"the body is not strict JSON: {exc}"), None
        return None, parsed


def _declared_refusal(declared: int | None, limit: int) -> Response:
    """The answer to a Content-Length over the cap (413), or a malformed one (400)."""
    if declared is None:
        return error_response(400, "request.malformed", "the Content-Length header is malformed")
    return error_response(413, "request.too_large", f"the request body exceeds {limit} bytes")


def _content_length(scope: Scope) -> int | None:
    """The declared length; 0 when absent; None when malformed (anything but ASCII digits:
    ``str.isdigit`` alone admits ``²``, which ``int`` refuses)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return 0


def _without_body(scope: Scope) -> Scope:
    """``scope`` without its Content-Type and Content-Length (a body that is not passed on)."""
    dropped = (b"content-type", b"content-length")
    headers = [(name, value) for name, value in scope.get("headers", []) if name not in dropped]
    return {**scope, "headers": headers}


@dataclass(frozen=True)
class ParsedBody:
    """A JSON body the strict pass decoded: its value and its size in bytes."""

    value: Any
    size: int


class ParsedJsonRequest(Request):
    """A request whose ``json()`` is the value :class:`BodyGate` decoded already.

    FastAPI reads a JSON body through ``Request.json()``; with this the body is decoded once per
    request (by the strict pass), not a second time by the framework's lenient parser.
    """

    async def json(self) -> Any:
        """The strict pass's value; else (a route the pass did not parse) the body decoded here,
        as strictly: never the framework's lenient parser (fail closed).

        Raises:
            HTTPException: The body is not strict JSON (422 ``request.invalid``; FastAPI lets an
                HTTPException from body reading through to the error handlers).
        """
        parsed = self.scope.get("state", {}).get(PARSED_BODY)
        if isinstance(parsed, ParsedBody):
            return parsed.value
        body = await self.body()
        try:
            return loads_strict(
                body,
                max_bytes=len(body),
                max_depth=HTTP_LIMITS.max_request_depth,
                allow_lone_surrogates=True,  # each field's own parser refuses them
            )
        except StrictDecodeError as exc:
            raise HTTPException(422, f"the body is not strict JSON: {exc}") from exc


class ParsedJsonRoute(APIRoute):
    """An APIRoute whose handlers see a :class:`ParsedJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The framework's handler, given the request as a :class:`ParsedJsonRequest`."""
        handler = super().get_route_handler()

        async def parsed_json_handler(request: Request) -> Response:
            return await handler(ParsedJsonRequest(request.scope, request.receive))

        return parsed_json_handler


def raise_body_error(request: Request) -> None:
    """Raise the body's deferred refusal, if any (call it once the API key was checked).

    Raises:
        ApiError: 415 ``request.unsupported_media_type`` or 422 ``request.invalid``.
    """
    error = request.scope.get("state", {}).get(BODY_ERROR)
    if isinstance(error, ApiError):
        raise error


def _media_type(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            text: str = value.decode("latin-1")
            return text.split(";", 1)[0].strip().lower()
    return None


def _is_json(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type == "application/json"
        or (media_type.startswith("application/") and media_type.endswith("+json"))
    )


def _counting(receive: Receive, limit: int) -> Receive:
    """``receive``, raising :class:`BodyTooLargeError` once the body streamed passes ``limit``."""
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLargeError(limit)
        return message

    return counting_receive


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, read until its last part.

    Raises:
        BodyTooLargeError: The body passed ``limit``.
    """
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
