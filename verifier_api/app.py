"""The app factory: ``create_app(settings)`` builds the service and mounts the routes."""

from __future__ import annotations

import gc
import inspect
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.routing import APIRoute

from verifier_api.auth import key_admits, route_scopes
from verifier_api.errors import SafeJSONResponse, install_error_handlers
from verifier_api.gate import RequestGate
from verifier_api.limits import BodyGate
from verifier_api.routes import certificates, health, log, media, sign, tuf, verify
from verifier_api.schemas import ErrorResponse
from verifier_api.service import build_service
from verifier_api.settings import Settings
from verifier_api.web import install_web
from verifier_api.web.docs import install_docs
from verifier_api.web.form_errors import FORM_PATHS, FormErrorPages

API_VERSION = "1.0.0"
_ERRORS = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Malformed request"),
        (401, "Missing, unknown or revoked API key"),
        (403, "The key's scope does not allow this route"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Body too large"),
        (415, "Body not sent as application/json"),
        (422, "Invalid request"),
        (429, "Rate limited (see Retry-After)"),
        (503, "Log or database unavailable"),
    )
}


def create_app(settings: Settings) -> FastAPI:
    """Build the app: load the publisher, migrate the database, mount the routes.

    Raises:
        SettingsError: The home, its keys or the settings are unusable.
    """
    service = build_service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield
        service.close()

    app = FastAPI(
        title="Provenance verifier service",
        version=API_VERSION,
        summary="Sign at submission, verify server side, identities, revocation, transparency log.",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        docs_url=None,
        redoc_url=None,
        responses=_ERRORS,  # type: ignore[arg-type]
        **fastapi_telemetry(os.environ),
    )
    app.state.service = service
    routers = (
        verify.router,
        sign.router,
        media.router,
        certificates.router,
        log.router,
        health.router,
        tuf.router,
    )
    for router in routers:
        app.include_router(router)
    install_web(app)
    install_docs(app)
    install_error_handlers(app)
    bodies = partial(
        BodyGate,
        max_bytes=settings.max_body_bytes,
        path_caps=dict.fromkeys(media.MEDIA_ROUTES, settings.max_media_bytes),
        json_routes=json_body_routes(routers),
        form_routes=form_body_routes(routers),
        key_check=partial(key_admits, service),
    )
    app.add_middleware(
        RequestGate,
        metrics=service.metrics,
        bodies=bodies,
        form_paths=FORM_PATHS,
        form_pages=partial(FormErrorPages, max_bytes=settings.max_body_bytes),
    )
    return app


def fastapi_telemetry(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``FastAPI(...)`` options of its native OpenTelemetry hooks (FastAPI 0.16x).

    They are left as FastAPI sets them when the process is set up for OpenTelemetry (an ``OTEL_*``
    or ``FASTAPI_OTEL_*`` variable in ``environ``, or a global tracer provider installed, as
    ``opentelemetry-instrument`` does) and turned off otherwise: unconfigured, they record nothing
    and cost every request a look at the global providers and the environment (~5% of the CPU of
    a ``POST /v1/sign``). The service's own metrics are at ``/metrics`` either way.
    """
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # a FastAPI without native telemetry
    if any(name.startswith(("OTEL_", "FASTAPI_OTEL_")) for name in environ) or _tracer_installed():
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _tracer_installed() -> bool:
    """Whether a global OpenTelemetry tracer provider is installed (not the API's proxy)."""
    try:
        from opentelemetry import trace  # noqa: PLC0415 (FastAPI's dependency, when it has one)
    except ImportError:
        return False
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def json_body_routes(
    routers: Iterable[APIRouter],
) -> dict[tuple[str, str], frozenset[str] | None]:
    """The ``(method, path)`` of the routes whose body is a JSON document (not a form or an
    upload), each with the API key scopes its :func:`~verifier_api.auth.require_scope` dependency
    admits (None when it needs no key)."""
    return {
        (method, route.path): _key_scopes(route)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.body_field is not None
        and not isinstance(route.body_field.field_info, params.Form)
        for method in route.methods or ()
    }


def form_body_routes(
    routers: Iterable[APIRouter],
) -> dict[tuple[str, str], frozenset[str] | None]:
    """The ``(method, path)`` of the routes whose body is a form (the media uploads) and that
    need an API key, each with the key scopes they admit."""
    return {
        (method, route.path): scopes
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.body_field is not None
        and isinstance(route.body_field.field_info, params.Form)
        and (scopes := _key_scopes(route)) is not None
        for method in route.methods or ()
    }


def _key_scopes(route: APIRoute) -> frozenset[str] | None:
    found = (route_scopes(d.call) for d in route.dependant.dependencies if d.call is not None)
    return next((scopes for scopes in found if scopes is not None), None)


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory verifier_api.app:app_from_environment`` (``prov serve``).

    What is built by now (modules, routes, schemas, the service and its caches) lives as long as
    the server process, so after one collection it is moved out of the cyclic collector's reach
    (:func:`gc.freeze`): a full collection under load then walks only what requests made since,
    about 2.5 ms instead of 170 ms (each of those paused every request in flight: the sign p99).
    """
    app = create_app(Settings())  # type: ignore[call-arg]
    gc.collect()
    gc.freeze()
    return app
