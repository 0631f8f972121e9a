"""a certificate with a repeated extension, in a time-stamp token c2pa never reads, makes
verify_media raise ``cryptography.x509.DuplicateExtension`` (undocumented; HTTP 500 in the service);
a certificate with an invalid version number raises ``x509.InvalidVersion`` the same way (from
``load_der_x509_certificate`` in ``token_certificates``, past ``except ValueError``).

The unprotected COSE header of anyone's genuine claim signature is unsigned: an attacker can add to
a victim's asset or sidecar (1) under ``sigTst2`` a genuine token of the trust root's TSA over the
victim's signature (a public TSA stamps any hash; the test stands in for it with its key) and (2)
under ``sigTst`` a token whose certificates include one with a repeated extension. c2pa reads only
the first of the two labels (``sigTst2``, ``timeStamp.trusted``); the toolkit's EKU rule
(provenance/media/timestamp.py) reads the certificates of both, and ``_is_ca`` reads
``certificate.extensions``, which raises ``x509.DuplicateExtension`` (an ``Exception``, not a
``ValueError``): neither ``usable_time_stamp`` nor ``_certificate`` catches it.

Expected: a VerificationResult (the stamp unusable, the check time the verification time), as for
every other bad token. Actual: ``DuplicateExtension`` escapes verify_media.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity import create_authority, export_trust_root
from provenance.verify.policy import Identity
from tests.adversarial.media_certificates import time_stamp_authority
from tests.adversarial.media_forgery import (
    COSE_SIGN1_TAG,
    Signature,
    replace_in_asset,
    self_made_time_stamp,
)
from tests.factories import certified_author
from tests.media_samples import tiny_png

pytest.importorskip("c2pa")

from provenance.media import sign_media, verify_media

PNG = "image/png"
VICTIM = "https://reviews.example/u/1"
NOW = datetime.now(UTC)


def _duplicate_extension_certificate(der: bytes) -> asn1_x509.Certificate:
    """``der`` with its first extension repeated (its signature no longer matters: nothing here
    verifies it; the toolkit only reads the extensions)."""
    certificate = asn1_x509.Certificate.load(der)
    tbs = certificate["tbs_certificate"]
    extensions = list(tbs["extensions"])
    tbs["extensions"] = asn1_x509.Extensions([*extensions, extensions[0]])
    return asn1_x509.Certificate.load(certificate.dump(force=True))


def _invalid_version_certificate(der: bytes) -> asn1_x509.Certificate:
    """``der`` with version v4 (the integer 3): pyca raises ``x509.InvalidVersion`` on loading."""
    certificate = asn1_x509.Certificate.load(der)
    certificate["tbs_certificate"]["version"] = 3
    return asn1_x509.Certificate.load(certificate.dump(force=True))


BAD_CERTIFICATES = {
    "repeated extension": _duplicate_extension_certificate,
    "invalid version": _invalid_version_certificate,
}


def _junk_token(certificate: asn1_x509.Certificate) -> bytes:
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "tst_info"},
            "certificates": [certificate],
            "signer_infos": [],
        }
    )
    token: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return token


def _restamped(signature: Signature, extra: dict[str, Any]) -> bytes:
    """The victim's COSE_Sign1 unchanged but for the unsigned header, as long as the original."""
    protected, _, _, sig = signature.parts()
    for pad in range(len(signature.cose), -1, -1):
        header = {**extra, "pad": bytes(pad)}
        cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, header, None, sig]))
        if len(cose) == len(signature.cose):
            return cose
    raise AssertionError("does not fit")


@pytest.mark.parametrize("kind", sorted(BAD_CERTIFICATES))
def test_a_bad_certificate_in_a_token_c2pa_ignores_is_a_result_not_an_exception(kind: str) -> None:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=3)).authority
    victim = certified_author(authority, VICTIM, issued=NOW - timedelta(days=2))
    tsa = time_stamp_authority(NOW)
    trust = export_trust_root(authority, crl=None)
    trust = replace(trust, roots=(*trust.roots, tsa.root))
    store = sign_media(tiny_png(), PNG, key=victim.key, chain=victim.chain, at=NOW, sidecar=True)

    signature = Signature.of_store(store)
    protected, _, _, sig = signature.parts()
    genuine = self_made_time_stamp(tsa.key, tsa.chain, protected, sig, NOW - timedelta(minutes=1))
    bad = BAD_CERTIFICATES[kind](tsa.chain[0].public_bytes(Encoding.DER))
    extra = {**genuine, "sigTst": {"tstTokens": [{"val": _junk_token(bad)}]}}
    forged = replace_in_asset(store, signature.cose, _restamped(signature, extra))

    # Fails while the bug exists: x509.DuplicateExtension / x509.InvalidVersion escape verify_media.
    result = verify_media(tiny_png(), PNG, trust, Identity(VICTIM), at=NOW, sidecar=forged)
    assert result.verified
    assert result.time_source is not None
    assert result.time_source.value == "verification"
