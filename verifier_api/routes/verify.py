"""``POST /v1/verify`` and ``POST /v1/verify/batch``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from provenance import Code, DecodedBundle, Policy, PolicyError
from provenance.verify import POLICY_LIMITS, count_identity_patterns
from verifier_api.auth import AnyKey, ServiceDep
from verifier_api.errors import ApiError, SafeJSONResponse, validation_message
from verifier_api.fast_path import FastJsonRoute, fast_form
from verifier_api.limits import ParsedBody
from verifier_api.models import ApiKey
from verifier_api.schemas import VerifyBatchRequest, VerifyBatchResponse, VerifyRequest
from verifier_api.service import Service
from verifier_api.settings import HTTP_LIMITS
from verifier_api.verification import request_policy, verify_bundle, verify_bundle_held

router = APIRouter(prefix="/v1", tags=["verify"], route_class=FastJsonRoute)
"""The body is decoded once (the strict pass, reused by FastAPI through :class:`FastJsonRoute`)
and each bundle is built once from that decoded value (:func:`verify_bundle`)."""


def _check(service: Service, item: VerifyRequest, policy: Policy | None) -> dict[str, Any]:
    return verify_bundle(
        service, item.content_bytes(), DecodedBundle(item.bundle), policy
    ).to_json()


async def _verify_now(
    service: Service, _key: ApiKey, request: VerifyRequest, body: ParsedBody
) -> Response:
    """The fast form of :func:`verify`: the same answer, on the event loop when the request
    carries no policy, nothing in it can wait on I/O and the body is small
    (:func:`verify_bundle_held`), else in the thread pool. A request's policy is built in the
    thread pool, as :func:`verify` builds it (its RE2 compiles must not hold up the loop).

    Raises:
        PolicyError: ``policy.malformed``.
    """
    if request.policy is None and body.size <= HTTP_LIMITS.max_inline_verify_bytes:
        content, bundle = request.content_bytes(), DecodedBundle(request.bundle)
        held = verify_bundle_held(service, content, bundle, None)
        if held is not None:
            return SafeJSONResponse(held.to_json())
    return SafeJSONResponse(await run_in_threadpool(_check_with_policy, service, request))


def _check_with_policy(service: Service, request: VerifyRequest) -> dict[str, Any]:
    """The request's policy built, then :func:`_check` (in the thread pool).

    Raises:
        PolicyError: ``policy.malformed``.
    """
    return _check(service, request, request_policy(request.policy))


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


@router.post("/verify", response_model=dict[str, Any], summary="Verify content against its bundle")
@fast_form(_verify_now)
def verify(request: VerifyRequest, service: ServiceDep, _key: AnyKey) -> Response:
    """Verify against this publisher's trust root; 200 with ``verified: false`` when it fails."""
    return SafeJSONResponse(_check_with_policy(service, request))


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
