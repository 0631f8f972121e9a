"""``POST /v1/verify`` and ``POST /v1/verify/batch``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from provenance import Code, DecodedBundle, Policy, PolicyError
from provenance.verify import POLICY_LIMITS, count_identity_patterns
from verifier_api.auth import AnyKey, ServiceDep
from verifier_api.errors import ApiError, validation_message
from verifier_api.limits import ParsedJsonRoute
from verifier_api.schemas import VerifyBatchRequest, VerifyBatchResponse, VerifyRequest
from verifier_api.service import Service
from verifier_api.settings import HTTP_LIMITS
from verifier_api.verification import request_policy, verify_bundle

router = APIRouter(prefix="/v1", tags=["verify"], route_class=ParsedJsonRoute)
"""The body is decoded once (the strict pass, reused by FastAPI through :class:`ParsedJsonRoute`)
and each bundle is built once from that decoded value (:func:`verify_bundle`)."""


def _check(service: Service, item: VerifyRequest, policy: Policy | None) -> dict[str, Any]:
    return verify_bundle(
        service, item.content_bytes(), DecodedBundle(item.bundle), policy
    ).to_json()


@dataclass(frozen=True)
class _Refused:
    """A batch item refused as a lone ``/v1/verify`` would be (422), in its place."""

    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The item's answer: not verified, and the error a lone request would get."""
        return {"verified": False, "error": {"code": self.code, "message": self.message}}


def _batch_item(number: int, raw: object) -> VerifyRequest | _Refused:
    """Item ``number`` of a batch as a request, or why it is not one."""
    try:
        return VerifyRequest.model_validate(raw)
    except ValidationError as exc:
        return _Refused("request.invalid", validation_message(exc.errors(), ("items", number)))


def _batch_policies(items: list[VerifyRequest | _Refused]) -> list[Policy | _Refused | None]:
    """Each item's policy (None: the default), built once per distinct policy document, after
    bounding the identity patterns of all of them together; a malformed one fails its items.

    Raises:
        ApiError: 422 ``policy.malformed`` when the distinct policies within the per-policy cap
            hold more than ``HTTP_LIMITS.max_batch_identity_patterns`` identity patterns (counted before
            compiling any; a policy over the per-policy cap fails its items uncompiled).
    """
    documents = [item.policy for item in items if isinstance(item, VerifyRequest)]
    distinct = {_policy_key(document): document for document in documents}
    counts = (count_identity_patterns(document) for document in distinct.values())
    patterns = sum(c for c in counts if c <= POLICY_LIMITS.max_identity_patterns)
    if patterns > HTTP_LIMITS.max_batch_identity_patterns:
        raise ApiError(
            422,
            Code.POLICY_MALFORMED,
            f"the policies of one batch hold at most {HTTP_LIMITS.max_batch_identity_patterns} identity"
            f" patterns (items that share a policy count it once); found {patterns}",
        )
    built = {key: _item_policy(document) for key, document in distinct.items()}
    return [
        built[_policy_key(item.policy)] if isinstance(item, VerifyRequest) else item
        for item in items
    ]


def _item_policy(document: dict[str, Any] | None) -> Policy | _Refused | None:
    try:
        return request_policy(document)
    except PolicyError as exc:
        return _Refused(exc.code, exc.message)


def _policy_key(document: dict[str, Any] | None) -> str:
    return json.dumps(document, sort_keys=True)


def _batch_result(
    service: Service, item: VerifyRequest | _Refused, policy: Policy | _Refused | None
) -> dict[str, Any]:
    if isinstance(item, _Refused):
        return item.to_json()
    if isinstance(policy, _Refused):
        return policy.to_json()
    return _check(service, item, policy)


@router.post("/verify", summary="Verify content against its bundle")
def verify(request: VerifyRequest, service: ServiceDep, _key: AnyKey) -> dict[str, Any]:
    """Verify against this publisher's trust root; 200 with ``verified: false`` when it fails."""
    return _check(service, request, request_policy(request.policy))


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
    items = [_batch_item(number, raw) for number, raw in enumerate(request.items)]
    policies = _batch_policies(items)
    return {
        "results": [
            _batch_result(service, item, policy)
            for item, policy in zip(items, policies, strict=True)
        ]
    }
