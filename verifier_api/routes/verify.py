"""``POST /v1/verify`` and ``POST /v1/verify/batch``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from provenance.bundle import DecodedBundle
from verifier_api.auth import AnyKey, ServiceDep
from verifier_api.errors import ApiError
from verifier_api.limits import ParsedJsonRoute
from verifier_api.schemas import VerifyBatchRequest, VerifyBatchResponse, VerifyRequest
from verifier_api.service import Service
from verifier_api.verification import request_policy, verify_bundle

router = APIRouter(prefix="/v1", tags=["verify"], route_class=ParsedJsonRoute)
"""The body is decoded once (the strict pass, reused by FastAPI through :class:`ParsedJsonRoute`)
and each bundle is built once from that decoded value (:func:`verify_bundle`)."""


def _check(service: Service, item: VerifyRequest) -> dict[str, Any]:
    policy = request_policy(item.policy)
    return verify_bundle(
        service, item.content_bytes(), DecodedBundle(item.bundle), policy
    ).to_json()


@router.post("/verify", summary="Verify content against its bundle")
def verify(request: VerifyRequest, service: ServiceDep, _key: AnyKey) -> dict[str, Any]:
    """Verify against this publisher's trust root; 200 with ``verified: false`` when it fails."""
    return _check(service, request)


@router.post(
    "/verify/batch", response_model=VerifyBatchResponse, summary="Verify several items in order"
)
def verify_batch(request: VerifyBatchRequest, service: ServiceDep, _key: AnyKey) -> dict[str, Any]:
    """Verify up to ``PROVENANCE_MAX_BATCH_ITEMS`` items; results in the order of the items."""
    limit = service.settings.max_batch_items
    if len(request.items) > limit:
        raise ApiError(
            422,
            "batch.too_large",
            f"a batch holds at most {limit} items, found {len(request.items)}",
        )
    return {"results": [_check(service, item) for item in request.items]}
