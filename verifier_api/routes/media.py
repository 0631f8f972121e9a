"""``POST /v1/verify/media`` and ``POST /v1/sign/media``: C2PA media, uploaded as multipart.

Media bodies have their own cap (``PROVENANCE_MAX_MEDIA_BYTES``). c2pa-python comes with the
``media`` extra; without it these routes answer 501.
"""

from __future__ import annotations

import mimetypes
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from provenance import Policy, PolicyError, StrictDecodeError, VerificationResult, loads_strict
from verifier_api.auth import AnyKey, ServiceDep, SignKey
from verifier_api.errors import ApiError
from verifier_api.schemas import json_kind
from verifier_api.service import utc_now
from verifier_api.settings import HTTP_LIMITS
from verifier_api.signing import ACCOUNT_ID, author_id
from verifier_api.verification import DEFAULT_POLICY, Moment, request_policy, verified

router = APIRouter(prefix="/v1", tags=["media"])
MEDIA_ROUTES = ("/v1/verify/media", "/v1/sign/media")
SIDECAR_MIME_TYPE = "application/c2pa"


def _media() -> ModuleType:
    try:
        from provenance import media  # noqa: PLC0415 (optional extra)
    except ImportError as exc:
        raise ApiError(
            501, "media.unavailable", "this server has no media support (install the media extra)"
        ) from exc
    return media


def _mime_type(upload: UploadFile, given: str | None) -> str:
    mime_type = given or upload.content_type or ""
    if not mime_type or mime_type == "application/octet-stream":
        guessed, _ = mimetypes.guess_type(upload.filename or "")
        mime_type = guessed or ""
    if not mime_type:
        raise ApiError(
            422, "media.type.missing", "give mimeType (or a file name with a known type)"
        )
    return mime_type


def _form_json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return loads_strict(text, max_bytes=HTTP_LIMITS.max_form_json_bytes)
    except StrictDecodeError as exc:
        raise ApiError(422, "request.invalid", f"{what} is not a JSON document: {exc}") from exc


async def _sent_claims(request: Request) -> str | None:
    """The ``claims`` form field as sent: FastAPI reads an empty field as an absent one, which
    would sign ``claims=`` as "no claims" (the form is parsed once; this reads it again).

    Raises:
        ApiError: 422 ``request.invalid``: ``claims`` was sent as a file.
    """
    value = (await request.form()).get("claims")
    if value is None or isinstance(value, str):
        return value
    raise ApiError(422, "request.invalid", "claims must be a form field, found a file")


def _claims(text: str | None) -> dict[str, Any]:
    """The attested claims: none when the field is absent, else the JSON object it holds.

    Raises:
        ApiError: 422 ``request.invalid``: the field is not a JSON object (``[]``, ``false``,
            ``0``, an empty field, not JSON at all).
    """
    if text is None:
        return {}
    if not text:
        raise ApiError(422, "request.invalid", "claims must be a JSON object, found an empty field")
    value = _form_json(text, "claims")
    if not isinstance(value, dict):
        found = json_kind(value)
        raise ApiError(422, "request.invalid", f"claims must be a JSON object, found {found}")
    return value


def _policy(text: str | None) -> Policy:
    try:
        return request_policy(_form_json(text, "policy")) or DEFAULT_POLICY
    except PolicyError as exc:
        raise ApiError(422, exc.code, exc.message) from exc


@router.post("/verify/media", summary="Verify an uploaded image, audio or video (C2PA)")
def verify_media(
    service: ServiceDep,
    _key: AnyKey,
    file: Annotated[UploadFile, File(description="The media file.")],
    sidecar: Annotated[UploadFile | None, File(description="A .c2pa sidecar manifest.")] = None,
    mime_type: Annotated[str | None, Form(alias="mimeType")] = None,
    policy: Annotated[str | None, Form(description="The policy, as JSON (see /v1/verify).")] = None,
) -> dict[str, Any]:
    """Verify against this publisher's trust root; 200 with ``verified: false`` when it fails."""
    media = _media()
    chosen = _policy(policy)
    mime = _mime_type(file, mime_type)
    manifest = sidecar.file.read() if sidecar is not None else None

    def check(moment: Moment) -> VerificationResult:
        return media.verify_media(  # type: ignore[no-any-return]
            file.file, mime, moment.trust, chosen, at=moment.at, sidecar=manifest
        )

    document: dict[str, Any] = verified(service, check).to_json()
    return document


@router.post(
    "/sign/media",
    summary="Sign an uploaded image, audio or video (C2PA) for an attested author",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def sign_media(
    service: ServiceDep,
    _key: SignKey,
    file: Annotated[UploadFile, File(description="The media file.")],
    account_id: Annotated[str, Form(alias="accountId", pattern=ACCOUNT_ID.pattern)],
    mime_type: Annotated[str | None, Form(alias="mimeType")] = None,
    claims: Annotated[str | None, Form(description="Attested claims, as a JSON object.")] = None,
    sidecar: Annotated[bool, Form(description="Return a .c2pa sidecar manifest.")] = False,
    sent_claims: Annotated[str | None, Depends(_sent_claims)] = None,
) -> Response:
    """Embed a C2PA manifest signed by the publisher's signing service (or return a sidecar).

    ``claims`` documents the field; ``sent_claims`` is the same field as sent (an empty one too).
    """
    del claims
    media = _media()
    attested = _claims(sent_claims)
    publisher = service.publisher
    author = author_id(publisher, account_id)
    mime = _mime_type(file, mime_type)
    signed = media.sign_media(
        file.file,
        mime,
        key=publisher.service_key,
        chain=publisher.service_chain,
        at=utc_now(),
        author=author,
        claims=attested,
        sidecar=sidecar,
    )
    service.metrics.signatures.inc()
    headers = {"X-Author-Id": author}
    return Response(signed, media_type=SIDECAR_MIME_TYPE if sidecar else mime, headers=headers)
