"""``/healthz`` (the process answers), ``/readyz`` (the database answers), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from verifier_api.auth import ServiceDep
from verifier_api.db import is_reachable
from verifier_api.errors import ApiError

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(service: ServiceDep) -> dict[str, str]:
    """Readiness: the database answers."""
    if not is_reachable(service.engine):
        raise ApiError(503, "database.unreachable", "the database does not answer")
    return {"status": "ready"}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(service: ServiceDep) -> Response:
    """Prometheus metrics of this process."""
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")
