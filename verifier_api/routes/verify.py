"""``POST /v1/verify`` and ``POST /v1/verify/batch``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from provenance.bundle import DecodedBundle
from provenance.trust_store import StoreVerification, TrustStore, TrustStoreError, chain_anchored
from provenance.verify.policy import Identity, Policy, policy_from_json
from verifier_api.auth import AnyKey, ServiceDep
from verifier_api.errors import ApiError
from verifier_api.limits import ParsedJsonRoute
from verifier_api.schemas import VerifyBatchRequest, VerifyBatchResponse, VerifyRequest
from verifier_api.service import Service, utc_now

router = APIRouter(prefix="/v1", tags=["verify"], route_class=ParsedJsonRoute)
"""The body is decoded once (the strict pass, reused by FastAPI through :class:`ParsedJsonRoute`)
and each bundle is built once, by the Verifier's parse step from that decoded value."""


def _policy(service: Service, policy: dict[str, Any] | None) -> Policy:
    if policy is None:
        return Identity(service.publisher.service_identity)
    return policy_from_json(policy)


def _check(service: Service, item: VerifyRequest) -> dict[str, Any]:
    policy = _policy(service, item.policy)
    now = utc_now()
    _, verifier = service.authority.trust_root(now)
    result = verifier.check(item.content_bytes(), DecodedBundle(item.bundle), policy, at=now)
    answer = result.to_json()
    if not result.verified and not chain_anchored(result) and service.settings.trust_store:
        bundle = json.dumps(item.bundle).encode("utf-8")  # the trust store reads bytes
        other = _other_publisher(service.settings.trust_store, item, bundle, policy, now)
        if other is not None:
            result, answer = other.result, {**other.result.to_json(), "publisher": other.publisher}
    service.metrics.verifications.labels(str(result.verified).lower()).inc()
    return answer


def _other_publisher(
    store: Path, item: VerifyRequest, bundle: bytes, policy: Policy, now: datetime
) -> StoreVerification | None:
    """The verification by the trust-store publisher anchoring the chain, if there is one."""
    try:
        return TrustStore(store).verify(item.content_bytes(), bundle, policy, at=now)
    except TrustStoreError:
        return None


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
