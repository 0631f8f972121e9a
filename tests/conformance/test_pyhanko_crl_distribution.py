"""Issue 13.4 with a second independent validator: pyHanko's certvalidator, allowed to fetch,
finds the CRL through the distribution point of a certificate the service issued (served on
loopback), validates the leaf, and refuses it once a revocation is made through the API."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyhanko_certvalidator as certvalidator
import pytest
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator.errors import RevokedError

from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from tests.factories import IDENTITY
from tests.integration.trust.support import Publisher, served_publisher
from verifier_api import crud
from verifier_api.scopes import Scope


def _issue(publisher: Publisher, admin: str) -> dict[str, str]:
    body = {"csr": create_csr(generate_key(KeyType.P256), IDENTITY).decode(), "identity": IDENTITY}
    headers = {"Authorization": f"Bearer {admin}"}
    response = httpx.post(f"{publisher.url}/v1/certificates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    issued: dict[str, str] = response.json()
    return issued


def _load(pem: str) -> asn1_x509.Certificate:
    _, _, der = asn1_pem.unarmor(pem.encode("ascii"))
    return asn1_x509.Certificate.load(der)


def _validate(publisher: Publisher, leaf_pem: str) -> None:
    """Validate with fetching allowed; a distribution point that cannot be read fails (hard-fail).

    The issuing CA names no distribution point (its revocation travels in the trust root), so
    pyHanko's "require" mode, which wants revocation data for every CA too, is not used.
    """
    authority = publisher.service.publisher.authority
    root = asn1_x509.Certificate.load(authority.root_certificate.public_bytes(Encoding.DER))
    issuing = asn1_x509.Certificate.load(authority.issuing_certificate.public_bytes(Encoding.DER))
    context = certvalidator.ValidationContext(
        trust_roots=[root],
        other_certs=[issuing],
        allow_fetching=True,
        revocation_mode="hard-fail",
        moment=datetime.now(UTC),
    )
    validator = certvalidator.CertificateValidator(
        _load(leaf_pem), intermediate_certs=[issuing], validation_context=context
    )
    checking = validator.async_validate_usage({"digital_signature"})  # type: ignore[no-untyped-call]
    # in a thread of its own: a loop another test left running in this one refuses asyncio.run
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, checking).result()


def test_pyhanko_fetches_the_crl_and_sees_a_revocation(tmp_path: Path) -> None:
    with served_publisher(tmp_path / "homes", "Reviews Example", loopback_crl_url=True) as pub:
        _, admin = crud.create_api_key(pub.service.engine, "a", Scope.ADMIN, now=datetime.now(UTC))
        issued = _issue(pub, admin)
        leaf = issued["certificateChain"][0]
        _validate(pub, leaf)
        revocation = {"serialNumber": issued["serialNumber"], "reason": "keyCompromise"}
        headers = {"Authorization": f"Bearer {admin}"}
        response = httpx.post(f"{pub.url}/v1/revocations", json=revocation, headers=headers)
        assert response.status_code == 201, response.text
        with pytest.raises(RevokedError):
            _validate(pub, leaf)
