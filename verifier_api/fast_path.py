"""The common keyed JSON request, answered without FastAPI's per-request machinery (issue 14).

FastAPI answers a route by solving its dependencies (the service, the bearer credentials, the key
check), validating the body, running a sync endpoint in the thread pool, then validating and
encoding what it returns: for ``POST /v1/verify`` more CPU than the verification itself. A route
of :class:`FastJsonRoute` whose endpoint has a fast form (:func:`fast_form`) answers the common
request with it: a key the cache or this request knows, of one of the route's scopes, counted by
the in-memory rate limiter (:func:`~verifier_api.auth.admitted_from_memory`); a body the strict pass
decoded (:class:`~verifier_api.limits.ParsedBody`) sent as plain ``application/json`` and accepted
by the route's own body field; none of the route's optional headers. The rate limit is then counted
(429 past it, as the dependency answers) and the fast form runs with the validated body.

Any other request goes FastAPI's way, unchanged: no key or one it must look up, another scope,
a deferred body refusal, an invalid body, an optional header, Redis. Nothing is counted before the
fast way is taken, so each request is counted once whichever way it goes; and the fast form must
answer as its endpoint does (tests/integration/api/test_fast_path.py holds one to the other).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from starlette.requests import Request
from starlette.responses import Response

from verifier_api.auth import admitted_from_memory, enforce_rate_limit, get_service, route_scopes
from verifier_api.limits import PARSED_BODY, ParsedBody, ParsedJsonRoute
from verifier_api.models import ApiKey
from verifier_api.service import Service

FastForm = Callable[[Service, ApiKey, Any, ParsedBody], Awaitable[Response]]
"""An endpoint's fast form: the service, the admitted key, the validated body model and the body
as decoded (its size) to the answer."""
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_FAST_FORMS: dict[Callable[..., Any], FastForm] = {}
PLAIN_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})
"""The Content-Type values (lower-cased) of the fast way: JSON to the strict pass and to FastAPI
alike (any other JSON media type goes FastAPI's way)."""


def fast_form(form: FastForm) -> Callable[[Endpoint], Endpoint]:
    """Give the decorated endpoint ``form`` as its fast form (put it under the route decorator)."""

    def register(endpoint: Endpoint) -> Endpoint:
        _FAST_FORMS[endpoint] = form
        return endpoint

    return register


@dataclass(frozen=True)
class _Shape:
    """What the fast way checks of a route: its key scopes, body field and optional headers."""

    scopes: frozenset[str]
    body: ModelField
    headers: frozenset[bytes]


class FastJsonRoute(ParsedJsonRoute):
    """A :class:`~verifier_api.limits.ParsedJsonRoute` taking the fast way when it can (see the
    module); a route without a fast form is a plain ``ParsedJsonRoute``.

    Raises:
        TypeError: The endpoint with a fast form takes more than a JSON body, the service, one
            API key and optional headers (its fast form could not answer as it does).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, behind the fast way when the endpoint has a fast form."""
        general = super().get_route_handler()
        form = _FAST_FORMS.get(self.endpoint)
        if form is None:
            return general
        shape = _shape(self.dependant, self.body_field)

        async def fast_json_handler(request: Request) -> Response:
            admitted = _admitted(request, shape)
            if admitted is None:
                return await general(request)
            service, key, body, parsed = admitted
            enforce_rate_limit(service, key)
            return await form(service, key, body, parsed)

        return fast_json_handler


def _shape(dependant: Dependant, body: ModelField | None) -> _Shape:
    """The route's key scopes, body field and optional headers.

    Raises:
        TypeError: The route takes anything else (see :class:`FastJsonRoute`).
    """
    calls = [d.call for d in dependant.dependencies if d.call is not None]
    scopes = [found for call in calls if (found := route_scopes(call)) is not None]
    others = [call for call in calls if call is not get_service and route_scopes(call) is None]
    single_body = len(dependant.body_params) == 1 and body is dependant.body_params[0]
    special = (dependant.request_param_name, dependant.response_param_name)
    if (
        body is None
        or not single_body
        or len(scopes) != 1
        or others
        or dependant.path_params
        or dependant.query_params
        or dependant.cookie_params
        or any(name is not None for name in special)
        or dependant.background_tasks_param_name is not None
        or not all(_optional_header(field) for field in dependant.header_params)
    ):
        raise TypeError(f"{dependant.call} has a fast form but takes more than it can answer")
    headers = {name for field in dependant.header_params for name in _header_names(field)}
    return _Shape(scopes[0], body, frozenset(headers))


def _optional_header(field: ModelField) -> bool:
    """Whether the header parameter may be absent and is read by its name or plain alias."""
    info = field.field_info
    return not info.is_required() and info.validation_alias in (None, info.alias)


def _header_names(field: ModelField) -> set[bytes]:
    """The names FastAPI may read the header parameter from, lower-cased."""
    names = {field.alias, field.name, field.name.replace("_", "-")}
    return {name.lower().encode("latin-1") for name in names}


def _admitted(request: Request, shape: _Shape) -> tuple[Service, ApiKey, Any, ParsedBody] | None:
    """The service, key, validated body and decoded body of a request the fast way answers,
    else None (see the module); counts nothing."""
    parsed = request.scope.get("state", {}).get(PARSED_BODY)
    if not isinstance(parsed, ParsedBody) or not _plain(request, shape.headers):
        return None
    service: Service = request.app.state.service
    key = admitted_from_memory(request, service, shape.scopes)
    if key is None:
        return None
    body, errors = shape.body.validate(parsed.value, {}, loc=("body",))
    return None if errors else (service, key, body, parsed)


def _plain(request: Request, optional: frozenset[bytes]) -> bool:
    """Whether the request's first Content-Type is plain JSON and it sends none of ``optional``."""
    content_type = None
    for name, value in request.scope["headers"]:
        if name.lower() in optional:
            return False
        if name == b"content-type" and content_type is None:
            content_type = value.lower()
    return content_type in PLAIN_JSON
