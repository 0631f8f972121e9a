"""API key authentication, scopes and the per-key rate limit (FastAPI dependencies).

Clients send ``Authorization: Bearer prov_<id>_<secret>``. Only the key id is ever logged. Keys
are read through :class:`verifier_api.keycache.ApiKeyCache` (bounded staleness); the rate limit
counts requests per key in fixed one-minute windows in memory, or in Redis when one is configured
(:mod:`verifier_api.ratelimit`); past the limit the answer is 429 with ``Retry-After``. A verify
request neither reads nor writes the database in the steady state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from verifier_api.errors import ApiError
from verifier_api.limits import raise_body_error
from verifier_api.models import ApiKey
from verifier_api.ratelimit import RATE_WINDOW_SECONDS, RateLimiterUnavailableError
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


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "auth.required", message, {"WWW-Authenticate": "Bearer"})


def _authenticated(service: Service, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
    if credentials is None:
        raise _unauthorized("send Authorization: Bearer <api key>")
    key = service.keys.authenticate(credentials.credentials)
    if key is None:
        raise _unauthorized("the API key is unknown, malformed or revoked")
    return key


def _enforce_rate_limit(service: Service, key: ApiKey) -> None:
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


def require_scope(*scopes: Scope) -> Callable[[Request, Service, Credentials], ApiKey]:
    """A dependency admitting keys with one of ``scopes`` (401 without a valid key, 403 else).

    FastAPI solves it before it validates the body, and it raises the body's deferred refusal
    (415, 422; see :class:`verifier_api.limits.StrictJsonMiddleware`) only after the key passed:
    a request without a valid key gets 401 whatever its body.
    """
    allowed = frozenset(scopes)

    def dependency(request: Request, service: ServiceDep, credentials: Credentials) -> ApiKey:
        key = _authenticated(service, credentials)
        if key.scope not in allowed:
            raise ApiError(
                403,
                "auth.forbidden",
                f"this route needs a key with scope {' or '.join(sorted(allowed))};"
                f" key {key.id} has scope {key.scope}",
            )
        _enforce_rate_limit(service, key)
        raise_body_error(request)
        return key

    return dependency


AnyKey = Annotated[ApiKey, Depends(require_scope(Scope.VERIFY, Scope.LOG, Scope.SIGN, Scope.ADMIN))]
SignKey = Annotated[ApiKey, Depends(require_scope(Scope.SIGN))]
LogKey = Annotated[ApiKey, Depends(require_scope(Scope.LOG, Scope.SIGN))]
AdminKey = Annotated[ApiKey, Depends(require_scope(Scope.ADMIN))]
