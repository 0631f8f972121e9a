"""``POST /v1/sign``: sign a submission at the publisher (scope ``sign``)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from verifier_api import crud
from verifier_api.auth import ServiceDep, SignKey
from verifier_api.errors import ApiError, SafeJSONResponse
from verifier_api.fast_path import FastJsonRoute, fast_form
from verifier_api.limits import ParsedBody
from verifier_api.models import ApiKey, IdempotencyRecord
from verifier_api.schemas import SignRequest, SignResponse
from verifier_api.service import Service, utc_now
from verifier_api.signing import Submission, sign_and_log

router = APIRouter(prefix="/v1", tags=["sign"], route_class=FastJsonRoute)
"""The body is decoded once (the strict pass, reused through :class:`FastJsonRoute`)."""
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="Retry-safe key: the same key and body return the first answer again.",
    ),
]


async def _sign(service: Service, request: SignRequest) -> dict[str, Any]:
    submission = Submission(
        content=request.content_bytes(),
        content_type=request.content_type,
        account_id=request.author.account_id,
        display_name=request.author.display_name,
        claims=request.claims,
    )
    signed = await sign_and_log(service.publisher, service.sequencer, submission, now=utc_now())
    service.metrics.signatures.inc()
    response = SignResponse(
        bundle=signed.bundle.to_json(),
        log_index=signed.log_index,
        content_sha256=signed.content_sha256,
        canonicalization=signed.canonicalization.value,
        author_id=signed.author_id,
    )
    return response.model_dump(by_alias=True)


def _request_sha256(request: SignRequest) -> str:
    canonical = json.dumps(request.model_dump(by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replayed(record: IdempotencyRecord, request_sha256: str) -> JSONResponse:
    if record.request_sha256 != request_sha256:
        raise ApiError(
            409,
            "idempotency.conflict",
            "this Idempotency-Key was used with a different request body",
        )
    return JSONResponse(json.loads(record.response_json), headers={"Idempotent-Replayed": "true"})


async def _sign_now(
    service: Service, _key: ApiKey, request: SignRequest, _body: ParsedBody
) -> Response:
    """The fast form of :func:`sign`, for a request without an Idempotency-Key."""
    return SafeJSONResponse(await _sign(service, request))


@router.post("/sign", response_model=SignResponse, summary="Sign and log a submission")
@fast_form(_sign_now)
async def sign(
    request: SignRequest, service: ServiceDep, key: SignKey, idempotency_key: IdempotencyKey = None
) -> Any:
    """Sign content for an author the publisher attests, log it, return the bundle.

    The request waits for the log's commit on the event loop, holding no thread (the sequencer
    commits many requests' entries in one transaction); the idempotency records, read and
    written in the database, go through the thread pool.
    """
    if idempotency_key is None:
        # built from a SignResponse already: returned as is, not validated a second time
        return SafeJSONResponse(await _sign(service, request))
    digest = _request_sha256(request)
    stored = await run_in_threadpool(crud.find_idempotent, service.engine, key.id, idempotency_key)
    if stored is not None:
        return _replayed(stored, digest)
    record = IdempotencyRecord(
        key_id=key.id,
        idempotency_key=idempotency_key,
        request_sha256=digest,
        response_json=json.dumps(await _sign(service, request)),
        created_at=utc_now(),
    )
    saved = await run_in_threadpool(crud.save_idempotent, service.engine, record)
    if saved.response_json != record.response_json:
        return _replayed(saved, digest)
    return JSONResponse(json.loads(record.response_json))
