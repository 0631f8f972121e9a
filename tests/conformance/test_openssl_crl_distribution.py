"""Issue 13.4: certificates say where revocation lives. A leaf the authority issues carries a CRL
distribution point (the publisher's `/v1/crl`), and OpenSSL, an independent validator, accepts the
chain in strict mode with the authority's CRL and refuses it once the CRL revokes the leaf. Served on
loopback, OpenSSL finds the CRL by itself (`-crl_download`) through the distribution point of a
certificate the service issued, and sees a revocation made through the API."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import FastAPI

from provenance.identity import create_csr
from provenance.identity.authority import CertificateAuthority, create_authority, issue_certificate
from provenance.identity.crl import build_crl, revoke
from provenance.keys import KeyType, generate_key
from tests.factories import IDENTITY, NOW
from tests.integration.trust.support import Publisher, served_publisher
from verifier_api import crud
from verifier_api.scopes import Scope

CRL_URL = "https://reviews.example/v1/crl"
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def _authority() -> CertificateAuthority:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=30)).authority
    authority.crl_url = CRL_URL
    return authority


def _write(path: Path, *items: x509.Certificate | x509.CertificateRevocationList) -> Path:
    path.write_bytes(b"".join(item.public_bytes(Encoding.PEM) for item in items))
    return path


def _openssl_verify(
    tmp_path: Path,
    authority: CertificateAuthority,
    leaf: x509.Certificate,
    crl: x509.CertificateRevocationList,
) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    args = [
        OPENSSL,
        "verify",
        "-x509_strict",
        "-crl_check",
        "-attime",
        str(int(NOW.timestamp())),
        "-CAfile",
        str(_write(tmp_path / "root.pem", authority.root_certificate)),
        "-untrusted",
        str(_write(tmp_path / "issuing.pem", authority.issuing_certificate)),
        "-CRLfile",
        str(_write(tmp_path / "crl.pem", crl)),
        str(_write(tmp_path / "leaf.pem", leaf)),
    ]
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)


def test_issued_leaf_names_the_crl_distribution_point() -> None:
    authority = _authority()
    leaf = issue_certificate(authority, generate_key(KeyType.P256).public_key, IDENTITY, now=NOW)[0]
    points = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert not points.critical
    assert [name.value for point in points.value for name in point.full_name or []] == [CRL_URL]


def test_openssl_accepts_the_issued_chain_with_its_crl_in_strict_mode(tmp_path: Path) -> None:
    authority = _authority()
    leaf = issue_certificate(authority, generate_key(KeyType.P256).public_key, IDENTITY, now=NOW)[0]
    result = _openssl_verify(tmp_path, authority, leaf, build_crl(authority, now=NOW))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("OK")


def test_openssl_refuses_the_leaf_once_the_crl_revokes_it(tmp_path: Path) -> None:
    authority = _authority()
    leaf = issue_certificate(
        authority, generate_key(KeyType.P256).public_key, IDENTITY, now=NOW - timedelta(days=2)
    )[0]
    revoke(authority, leaf, reason=x509.ReasonFlags.key_compromise, now=NOW - timedelta(days=1))
    result = _openssl_verify(tmp_path, authority, leaf, build_crl(authority, now=NOW))
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr


def test_leaf_without_a_crl_url_has_no_distribution_point() -> None:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=30)).authority
    leaf = issue_certificate(authority, generate_key(KeyType.P256).public_key, IDENTITY, now=NOW)[0]
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints)


def _served_leaf(publisher: Publisher, admin: str, tmp_path: Path) -> tuple[Path, str]:
    """A leaf issued through ``POST /v1/certificates``; its PEM file and serial number."""
    body = {"csr": create_csr(generate_key(KeyType.P256), IDENTITY).decode(), "identity": IDENTITY}
    headers = {"Authorization": f"Bearer {admin}"}
    response = httpx.post(f"{publisher.url}/v1/certificates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    issued = response.json()
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(issued["certificateChain"][0])
    return leaf, issued["serialNumber"]


def _openssl_downloads_crl(
    tmp_path: Path, publisher: Publisher, leaf: Path
) -> subprocess.CompletedProcess[str]:
    """``openssl verify`` that finds the CRL only through the leaf's distribution point."""
    assert OPENSSL is not None
    authority = publisher.service.publisher.authority
    args = [
        OPENSSL,
        "verify",
        "-x509_strict",
        "-crl_check",
        "-crl_download",
        "-CAfile",
        str(_write(tmp_path / "root.pem", authority.root_certificate)),
        "-untrusted",
        str(_write(tmp_path / "issuing.pem", authority.issuing_certificate)),
        str(leaf),
    ]
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)


def test_openssl_fetches_the_crl_from_the_served_distribution_point(tmp_path: Path) -> None:
    with served_publisher(tmp_path / "homes", "Reviews Example", loopback_crl_url=True) as pub:
        _, admin = crud.create_api_key(pub.service.engine, "a", Scope.ADMIN, now=datetime.now(UTC))
        leaf, serial = _served_leaf(pub, admin, tmp_path)
        points = x509.load_pem_x509_certificate(leaf.read_bytes()).extensions
        cdp = points.get_extension_for_class(x509.CRLDistributionPoints).value
        assert [n.value for p in cdp for n in p.full_name or []] == [f"{pub.url}/v1/crl"]
        accepted = _openssl_downloads_crl(tmp_path, pub, leaf)
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert accepted.stdout.strip().endswith("OK")
        revocation = {"serialNumber": serial, "reason": "keyCompromise"}
        headers = {"Authorization": f"Bearer {admin}"}
        response = httpx.post(f"{pub.url}/v1/revocations", json=revocation, headers=headers)
        assert response.status_code == 201, response.text
        refused = _openssl_downloads_crl(tmp_path, pub, leaf)
        assert refused.returncode != 0
        assert "certificate revoked" in refused.stdout + refused.stderr


def test_openssl_without_a_reachable_crl_refuses_the_leaf(tmp_path: Path) -> None:
    with served_publisher(tmp_path / "homes", "Reviews Example", loopback_crl_url=True) as pub:
        _, admin = crud.create_api_key(pub.service.engine, "a", Scope.ADMIN, now=datetime.now(UTC))
        leaf, _ = _served_leaf(pub, admin, tmp_path)
        pub.swap.app = FastAPI()  # the distribution point now answers 404
        result = _openssl_downloads_crl(tmp_path, pub, leaf)
        assert result.returncode != 0
        assert "unable to get certificate CRL" in result.stdout + result.stderr
