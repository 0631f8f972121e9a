"""Certificates (scope ``admin``), revocations (scope ``admin``), the CRL and the trust root."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Response

from verifier_api import crud
from verifier_api.auth import AdminKey, ServiceDep
from verifier_api.errors import ApiError
from verifier_api.limits import ParsedJsonRoute
from verifier_api.schemas import (
    CertificateRequest,
    CertificateResponse,
    RevocationRequest,
    RevocationResponse,
)
from verifier_api.service import Service, utc_now

router = APIRouter(tags=["authority"], route_class=ParsedJsonRoute)
TRUST_ROOT_MEDIA_TYPE = "application/vnd.provenance.trust-root.v1+json"


@router.post("/v1/certificates", response_model=CertificateResponse, status_code=201)
def issue_certificate(request: CertificateRequest, service: ServiceDep, _key: AdminKey) -> Any:
    """Certify the key of a CSR for the identity the publisher asserts; returns the chain."""
    chain = service.authority.issue(
        request.csr.encode("utf-8"), request.identity, request.days, utc_now()
    )
    return CertificateResponse(
        certificate_chain=[c.public_bytes(Encoding.PEM).decode("ascii") for c in chain],
        serial_number=f"{chain[0].serial_number:x}",
    )


def _revoked_certificate(service: Service, request: RevocationRequest) -> x509.Certificate:
    if request.certificate is not None:
        try:
            presented = x509.load_pem_x509_certificate(request.certificate.encode("utf-8"))
        except ValueError as exc:
            message = f"certificate: not a PEM certificate: {exc}"
            raise ApiError(422, "request.invalid", message) from exc
        serial = presented.serial_number
    else:
        assert request.serial_number is not None
        serial = int(request.serial_number, 16)
    issued = crud.issued_certificate(service.engine, serial)
    if issued is None:
        raise ApiError(404, "certificate.unknown", f"this CA issued no certificate {serial:x}")
    return issued


@router.post("/v1/revocations", response_model=RevocationResponse, status_code=201)
def revoke_certificate(request: RevocationRequest, service: ServiceDep, _key: AdminKey) -> Any:
    """Revoke a certificate this CA issued; the next CRL lists it."""
    certificate = _revoked_certificate(service, request)
    now = utc_now()
    entry, crl = service.authority.revoke(
        certificate, x509.ReasonFlags(request.reason), request.invalidity_date, now
    )
    return RevocationResponse(
        serial_number=f"{entry.serial_number:x}",
        revoked_at=entry.revoked_at,
        reason=entry.reason.value,
        invalidity_date=entry.invalidity_date,
        crl_number=crl.crl_number,
    )


@router.get(
    "/v1/crl",
    response_class=Response,
    responses={200: {"content": {"application/pkix-crl": {}}}},
)
def crl(service: ServiceDep) -> Response:
    """The stored CRL (DER), signed by the issuing CA; a read (the CRL refresher re-issues it)."""
    state = service.authority.stored_crl()
    return Response(state.crl_der, media_type="application/pkix-crl")


@router.get(
    "/.well-known/provenance/trust-root.json",
    response_class=Response,
    responses={200: {"content": {TRUST_ROOT_MEDIA_TYPE: {}}}},
)
def trust_root(service: ServiceDep) -> Response:
    """This publisher's trust root: root and issuing CA, log key, stored CRL."""
    trust, _ = service.authority.trust_root()
    return Response(trust.to_json(), media_type="application/json")
