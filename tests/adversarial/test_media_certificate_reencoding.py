"""A media signer's certificate re-encoded outside its signed part (the rule bundles and model
containers keep, `load_certificate_der`): its signature BIT STRING declaring 1 unused bit made
another certificate DER of the same TBS, and the media verified with it, where the same leaf in
a bundle is `bundle.malformed`. The x5chain is now read as bundles read their chain
(`media.signature.malformed`, as for any x5chain certificate that is not DER X.509)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity import build_crl, export_trust_root
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from tests.certificate_edits import ECDSA_SHA256, rebuilt
from tests.factories import CertifiedAuthor, certified_author, make_authority
from tests.media_samples import tiny_png

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from provenance.media import sign_media, verify_media

NOW = datetime.now(UTC)  # c2pa checks certificates at the wall clock
PNG = "image/png"


def _author_with_even_last_byte() -> tuple[CertifiedAuthor, object]:
    authority = make_authority(created=NOW - timedelta(days=30))
    trust = export_trust_root(authority, crl=build_crl(authority, now=NOW - timedelta(hours=1)))
    for _ in range(64):
        author = certified_author(authority, issued=NOW - timedelta(days=1))
        if author.chain[0].public_bytes(Encoding.DER)[-1] % 2 == 0:
            return author, trust
    raise AssertionError("no leaf with an even last signature byte in 64 tries")


def test_media_signed_with_a_re_encoded_leaf_does_not_verify() -> None:
    author, trust = _author_with_even_last_byte()
    der = author.chain[0].public_bytes(Encoding.DER)
    edited = x509.load_der_x509_certificate(rebuilt(der, ECDSA_SHA256, 1))
    chain = [edited, *author.chain[1:]]
    asset = sign_media(tiny_png(), PNG, key=author.key, chain=chain, at=NOW, trust=trust)  # type: ignore[arg-type]
    result = verify_media(asset, PNG, trust, UnsafeAcceptAnyIdentity(), at=NOW)  # type: ignore[arg-type]
    assert not result.verified
    assert [f.code for f in result.findings if not f.ok] == ["media.signature.malformed"]


def test_media_signed_with_the_leaf_as_issued_verifies() -> None:
    author, trust = _author_with_even_last_byte()
    asset = sign_media(tiny_png(), PNG, key=author.key, chain=author.chain, at=NOW, trust=trust)  # type: ignore[arg-type]
    assert verify_media(asset, PNG, trust, UnsafeAcceptAnyIdentity(), at=NOW).verified  # type: ignore[arg-type]
