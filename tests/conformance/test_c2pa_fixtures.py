"""The public C2PA fixtures of ../shared/fixtures/c2pa, verified as their README.txt expects.

"default" is a trust root with no anchors (every signer untrusted); "trusted" anchors the C2PA
SDK's test roots (test_cert_root_bundle.pem). The expected failure codes are the README's, each
behind the ``c2pa.`` prefix, plus the toolkit's own: C.jpg and XCA.jpg are signed by a certificate
whose key is RSASSA-PSS (SPKI OID 1.2.840.113549.1.1.10), which x509.verification's Web PKI profile,
and so the media profile, refuses (``certificate.profile``; specs/media-v1.md §3).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography import x509

from provenance.identity import TrustRoot
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from tests.shared import shared_dir

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from provenance.media import SIGNER_EKUS, verify_media

# file -> (sha256, mime type, failure codes without anchors, failure codes with the test anchors)
FIXTURES = {
    "C.jpg": (
        "a2d14755db55de67a47c04090340d8266e892367be4104a45626d7a6fa6e9ffd",
        "image/jpeg",
        ["c2pa.signingCredential.untrusted"],
        ["certificate.profile"],
    ),
    "C.dng": (
        "b7d1b762350be80c358ca1e36cbb31e9ce888eef6b59da0bea900988648cf364",
        "image/dng",
        ["c2pa.signingCredential.untrusted"],
        [],
    ),
    "C_with_CAWG_data.jpg": (
        "fa0b257c863cb5b367135a017813ce0c1fbfc690a03e94acdd047c25c2d1ed46",
        "image/jpeg",
        ["c2pa.cawg.x509.credential.untrusted", "c2pa.signingCredential.untrusted"],
        ["c2pa.cawg.x509.credential.untrusted"],
    ),
    "XCA.jpg": (
        "81f20702a2e81611b29aa773f811b59ade6095acd3d089d6ffdae6b591d6d5a5",
        "image/jpeg",
        ["c2pa.assertion.dataHash.mismatch", "c2pa.signingCredential.untrusted"],
        ["c2pa.assertion.dataHash.mismatch", "certificate.profile"],
    ),
    "E-sig-CA.jpg": (
        "20dc072a4c843d3b7d7cb4f4002fbb4d8f20d7ee859ca726f2458c1e0358a98c",
        "image/jpeg",
        ["c2pa.claimSignature.mismatch", "c2pa.signingCredential.untrusted"],
        ["c2pa.claimSignature.mismatch"],
    ),
    "no_manifest.jpg": (
        "9ac395ca04fc9d348acf6f81920f5e894d336341c3f764ca86c354eec6f7c2d6",
        "image/jpeg",
        ["media.unsigned"],
        ["media.unsigned"],
    ),
    "libpng-test.png": (
        "c5c635a1dbbec9a768c3bb4527dbaea62a1be05efcee17d66799cc07b673b29b",
        "image/png",
        ["media.unsigned"],
        ["media.unsigned"],
    ),
}
ANCHORS_SHA256 = "c67864bf6bae91c7df0abbef274abd1b03116063093ec225a8391d744f8356fc"
# The test signing certificates expire in 2030; c2pa checks them at the wall clock.
AT = datetime.now(UTC)


def _fixture(name: str, sha256: str) -> bytes:
    data = (shared_dir("fixtures", "c2pa") / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256, f"{name} differs from the README's"
    return data


def _trust(anchored: bool) -> TrustRoot:
    if not anchored:
        return TrustRoot(name="no anchors")
    pem = _fixture("test_cert_root_bundle.pem", ANCHORS_SHA256)
    return TrustRoot(name="C2PA test roots", roots=tuple(x509.load_pem_x509_certificates(pem)))


@pytest.mark.parametrize("anchored", [False, True], ids=["default", "trusted"])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_verdict_and_codes(name: str, anchored: bool) -> None:
    sha256, mime, default_codes, trusted_codes = FIXTURES[name]
    result = verify_media(
        _fixture(name, sha256), mime, _trust(anchored), UnsafeAcceptAnyIdentity(), at=AT
    )
    expected = trusted_codes if anchored else default_codes
    assert [f.code for f in result.failures] == expected
    assert result.verified is (not expected)


def test_trusted_fixture_reports_signer_without_identities() -> None:
    """C.dng's signer has no URI or email SAN: it is reported, with no identity (never its CN)."""
    sha256, mime, _, _ = FIXTURES["C.dng"]
    result = verify_media(
        _fixture("C.dng", sha256), mime, _trust(True), UnsafeAcceptAnyIdentity(), at=AT
    )
    assert result.verified
    assert result.signer is not None
    assert result.signer.identities == ()
    assert result.signer.issuer == (
        "CN=Intermediate CA,OU=FOR TESTING_ONLY,O=C2PA Test Intermediate Root CA,"
        "L=Somewhere,ST=CA,C=US"
    )
    assert result.certificate_checked_at == AT


def test_rsa_pss_signer_key_is_refused_by_the_media_profile() -> None:
    sha256, mime, _, _ = FIXTURES["C.jpg"]
    result = verify_media(
        _fixture("C.jpg", sha256), mime, _trust(True), UnsafeAcceptAnyIdentity(), at=AT
    )
    (failure,) = result.failures
    assert failure.code == "certificate.profile"
    assert "Forbidden public key algorithm" in failure.message
    assert result.signer is None
    # Its DigiCert time stamp is a real TSA's: the chain was checked at the stamp's time.
    assert result.time_source == "timestamp"


def test_store_cfg_lists_the_signer_ekus_we_configure() -> None:
    config = (shared_dir("fixtures", "c2pa") / "store.cfg").read_text()
    listed = {line.strip() for line in config.splitlines() if line.strip()}
    assert {oid.dotted_string for oid in SIGNER_EKUS} <= listed
