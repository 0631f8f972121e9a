"""API key authentication, scopes and the per-key rate limit (FastAPI dependencies).

Clients send ``Authorization: Bearer prov_<id>_<secret>``. Only the key id is ever logged. Keys
are read through :class:`verifier_api.keycache.ApiKeyCache` (bounded staleness); the rate limit
counts requests per key in fixed one-minute windows in memory, or in Redis when one is configured
(:mod:`verifier_api.ratelimit`); past the limit the answer is 429 with ``Retry-After``. A verify
request neither reads nor writes the database in the steady state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import Scope as AsgiScope

from verifier_api.errors import ApiError
from verifier_api.limits import raise_body_error
from verifier_api.models import ApiKey
from verifier_api.ratelimit import (
    RATE_WINDOW_SECONDS,
    MemoryRateLimiter,
    RateLimiterUnavailableError,
)
from verifier_api.scopes import Scope
from verifier_api.service import Service, unix_now

logger = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="An API key: prov_<id>_<secret>")


async def get_service(request: Request) -> Service:
    """The app's :class:`Service` (async: FastAPI calls it on the event loop, not in a thread)."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


_KEY_STATE = "provenance.api_key"
"""The request-state key of the presented key text and the key it authenticated (or None), so that
the body check and the route's dependency look a key up once per request."""
_ROUTE_SCOPES: dict[Callable[..., object], frozenset[str]] = {}


def _known_key(
    state: dict[str, object], service: Service, presented: str
) -> tuple[bool, ApiKey | None]:
    """Whether the key is known without a database read (this request looked it up already, or
    the key cache holds its fresh row), and the key it authenticated (None: refused)."""
    looked_up = state.get(_KEY_STATE)
    if isinstance(looked_up, tuple) and looked_up[0] == presented:
        key: ApiKey | None = looked_up[1]
        return True, key
    known, cached = service.keys.cached(presented)
    if known:
        state[_KEY_STATE] = (presented, cached)
    return known, cached


def _presented_key(state: dict[str, object], service: Service, presented: str) -> ApiKey | None:
    """The key ``presented`` authenticates, looked up once per request; may read the database,
    so it runs in the thread pool, never on the event loop."""
    looked_up = state.get(_KEY_STATE)
    if isinstance(looked_up, tuple) and looked_up[0] == presented:
        known: ApiKey | None = looked_up[1]
        return known
    key = service.keys.authenticate(presented)
    state[_KEY_STATE] = (presented, key)
    return key


async def key_admits(service: Service, scope: AsgiScope, allowed: frozenset[str]) -> bool:
    """Whether the request's ``Authorization: Bearer`` key is valid and has one of ``allowed``
    (the check of :func:`require_scope`, without the rate limit; for the strict body pass).

    A key the cache knows is answered on the event loop; any other is looked up in the thread
    pool, so that a database read never blocks the loop.
    """
    scheme, presented = get_authorization_scheme_param(Headers(scope=scope).get("Authorization"))
    if scheme.lower() != "bearer" or not presented:
        return False
    state = scope.setdefault("state", {})
    known, key = _known_key(state, service, presented)
    if not known:
        key = await run_in_threadpool(_presented_key, state, service, presented)
    return key is not None and key.scope in allowed


def route_scopes(call: Callable[..., object]) -> frozenset[str] | None:
    """The scopes a :func:`require_scope` dependency admits; None for any other callable."""
    return _ROUTE_SCOPES.get(call)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "auth.required", message, {"WWW-Authenticate": "Bearer"})


def _authenticated(
    request: Request, service: Service, credentials: HTTPAuthorizationCredentials | None
) -> ApiKey:
    if credentials is None:
        raise _unauthorized("send Authorization: Bearer <api key>")
    key = _presented_key(request.scope.setdefault("state", {}), service, credentials.credentials)
    if key is None:
        raise _unauthorized("the API key is unknown, malformed or revoked")
    return key


def admitted_from_memory(
    request: Request, service: Service, allowed: frozenset[str]
) -> ApiKey | None:
    """The key :func:`require_scope` would admit on the event loop (a memory rate limiter, and a
    bearer key of one of ``allowed`` that the cache or this request knows), else None: the
    dependency decides (401, 403, a database read, Redis). No side effect: the rate limit is
    not counted (:func:`enforce_rate_limit`)."""
    if not isinstance(service.rate_limiter, MemoryRateLimiter):
        return None
    authorization = request.headers.get("Authorization")
    scheme, presented = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and presented) or scheme.lower() != "bearer":
        return None  # what HTTPBearer(auto_error=False) answers None for
    known, key = _known_key(request.scope.setdefault("state", {}), service, presented)
    return key if known and key is not None and key.scope in allowed else None


def enforce_rate_limit(service: Service, key: ApiKey) -> None:
    """Count one request of ``key`` in its window.

    Raises:
        ApiError: 429 ``rate.limited`` (with ``Retry-After``) past the limit, 503
            ``ratelimit.unavailable`` when Redis does not answer.
    """
    now = unix_now()
    window = now - now % RATE_WINDOW_SECONDS
    try:
        count = service.rate_limiter.hit(key.id, window)
    except RateLimiterUnavailableError as exc:
        logger.warning("rate limit store unavailable: %s", exc)
        raise ApiError(
            503, "ratelimit.unavailable", "the rate-limit store does not answer"
        ) from exc
    if count > service.settings.rate_limit_per_minute:
        logger.warning("rate limit reached by key %s", key.id)
        retry_after = window + RATE_WINDOW_SECONDS - now
        raise ApiError(
            429,
            "rate.limited",
            f"at most {service.settings.rate_limit_per_minute} requests per minute per key",
            {"Retry-After": str(max(retry_after, 1))},
        )


def require_scope(
    *scopes: Scope,
) -> Callable[[Request, Service, Credentials], Coroutine[Any, Any, ApiKey]]:
    """A dependency admitting keys with one of ``scopes`` (401 without a valid key, 403 else).

    A key the cache knows, under the in-memory rate limit, is admitted on the event loop (memory
    only, no thread hand-off); a database read or a Redis count runs in the thread pool.

    FastAPI solves it before it validates the body, and it raises the body's deferred refusal
    (415, 422; see :class:`verifier_api.limits.StrictJsonMiddleware`) only after the key passed:
    a request without a valid key gets 401 whatever its body.
    """
    allowed = frozenset(scopes)

    def admit(request: Request, service: Service, key: ApiKey) -> ApiKey:
        if key.scope not in allowed:
            raise ApiError(
                403,
                "auth.forbidden",
                f"this route needs a key with scope {' or '.join(sorted(allowed))};"
                f" key {key.id} has scope {key.scope}",
            )
        enforce_rate_limit(service, key)
        raise_body_error(request)
        return key

    def admit_looked_up(
        request: Request, service: Service, credentials: HTTPAuthorizationCredentials | None
    ) -> ApiKey:
        return admit(request, service, _authenticated(request, service, credentials))

    async def dependency(request: Request, service: ServiceDep, credentials: Credentials) -> ApiKey:
        if credentials is not None and isinstance(service.rate_limiter, MemoryRateLimiter):
            state = request.scope.setdefault("state", {})
            known, key = _known_key(state, service, credentials.credentials)
            if known and key is not None:
                return admit(request, service, key)  # memory only: on the event loop
        return await run_in_threadpool(admit_looked_up, request, service, credentials)

    _ROUTE_SCOPES[dependency] = frozenset(str(scope) for scope in allowed)
    return dependency


AnyKey = Annotated[ApiKey, Depends(require_scope(Scope.VERIFY, Scope.LOG, Scope.SIGN, Scope.ADMIN))]
SignKey = Annotated[ApiKey, Depends(require_scope(Scope.SIGN))]
LogKey = Annotated[ApiKey, Depends(require_scope(Scope.LOG, Scope.SIGN))]
AdminKey = Annotated[ApiKey, Depends(require_scope(Scope.ADMIN))]
