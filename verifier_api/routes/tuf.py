"""The TUF repository of the trust root, under ``/.well-known/provenance/tuf/``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from provenance.trust_repository import TrustRepositoryError
from verifier_api.auth import ServiceDep
from verifier_api.errors import ApiError
from verifier_api.service import Service, utc_now

router = APIRouter(prefix="/.well-known/provenance/tuf", tags=["trust distribution"])
_JSON: dict[int | str, dict[str, object]] = {200: {"content": {"application/json": {}}}}


def _distribution(service: Service) -> None:
    if service.distribution is None:
        raise ApiError(404, "tuf.absent", "this publisher home has no TUF repository")


def _found(data: bytes | None, name: str, *, cache: str) -> Response:
    if data is None:
        raise ApiError(404, "tuf.not_found", f"no TUF file {name!r}")
    return Response(data, media_type="application/json", headers={"Cache-Control": cache})


@router.get("/metadata/{name}", response_class=Response, responses=_JSON)
def metadata(name: str, service: ServiceDep) -> Response:
    """A metadata file: ``<v>.root.json``, ``<v>.targets.json``, ``<v>.snapshot.json`` or
    ``timestamp.json`` (brought up to date before it is served)."""
    _distribution(service)
    assert service.distribution is not None
    try:
        if name == "timestamp.json":
            service.distribution.refresh(utc_now())
        data = service.distribution.repository.metadata_file(name)
    except TrustRepositoryError as exc:
        raise ApiError(503, "tuf.unavailable", str(exc)) from exc
    cache = "no-store" if name == "timestamp.json" else "public, max-age=300"
    return _found(data, name, cache=cache)


@router.get("/targets/{name}", response_class=Response, responses=_JSON)
def target(name: str, service: ServiceDep) -> Response:
    """A target file: ``<sha256>.trust-root.json`` (consistent snapshots: never changes)."""
    _distribution(service)
    assert service.distribution is not None
    try:
        data = service.distribution.repository.target_file(name)
    except TrustRepositoryError as exc:
        raise ApiError(503, "tuf.unavailable", str(exc)) from exc
    return _found(data, name, cache="public, max-age=31536000, immutable")
