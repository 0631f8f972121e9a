"""A certificate re-encoded outside its signed part (found by the seventh attack).

The signed part of a certificate is its TBS; the outer SEQUENCE also holds the signature
algorithm and the signature BIT STRING, which nothing signs. DER still leaves two choices there:
a BIT STRING may declare unused bits (1 to 7, padding zero), and pyca reads the outer
AlgorithmIdentifier without comparing it to the TBS's, whatever the TBS names. Either gives another certificate DER,
with the same serial, key and names, that validates: a second valid bundle with other
certificates, which bundle-v1 §6 says no bundle has. The outer encoding must be the one encoding
of the TBS: the TBS's own AlgorithmIdentifier, then the signature with no unused bits.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from bench.fixtures import review_fixture
from provenance.bundle import Bundle
from provenance.errors import BundleFormatError
from provenance.identity import build_crl
from provenance.identity.profile import load_certificate_der
from provenance.identity.trust import export_trust_root
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.certificate_edits import ECDSA_SHA256, p256_twin, rebuilt
from tests.factories import IDENTITY, NOW, REVIEW, certified_author, make_authority, sign

_ECDSA_SHA384 = bytes.fromhex("300a06082a8648ce3d040303")


def _one_unused_bit(der: bytes) -> bytes:
    return rebuilt(der, ECDSA_SHA256, 1)


def _other_outer_algorithm(der: bytes) -> bytes:
    return rebuilt(der, _ECDSA_SHA384)


EDITS: dict[str, Callable[[bytes], bytes]] = {
    "one_unused_bit": _one_unused_bit,
    "other_outer_algorithm": _other_outer_algorithm,
}


def _author_bundle_with_even_last_byte(position: int) -> tuple[Verifier, dict[str, object], bytes]:
    """A certified author's unlogged bundle whose chain certificate at ``position`` ends in an
    even byte (so 1 unused bit is valid DER), its verifier and that certificate's DER."""
    authority = make_authority()
    trust = export_trust_root(authority, crl=build_crl(authority, now=NOW - timedelta(hours=1)))
    for _ in range(64):
        author = certified_author(authority)
        document = sign(author.key, chain=author.chain).to_json()
        der = base64.b64decode(_chain(document)[position]["rawBytes"])
        if der[-1] % 2 == 0:
            return Verifier(trust), document, der
    raise AssertionError("no certificate with an even last signature byte in 64 tries")


def _chain(document: dict[str, object]) -> list[dict[str, str]]:
    material = document["verificationMaterial"]
    assert isinstance(material, dict)
    certificates: list[dict[str, str]] = material["x509CertificateChain"]["certificates"]
    return certificates


def _edited(document: dict[str, object], position: int, der: bytes) -> bytes:
    edited = json.loads(json.dumps(document))
    _chain(edited)[position] = {"rawBytes": base64.b64encode(der).decode("ascii")}
    return json.dumps(edited).encode("utf-8")


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_leaf_re_encoded_outside_its_signed_part_is_malformed(edit: str) -> None:
    verifier, document, der = _author_bundle_with_even_last_byte(0)
    edited = EDITS[edit](der)
    x509.load_der_x509_certificate(edited)  # pyca reads it: the edit is a valid certificate
    assert verifier.check(
        REVIEW, json.dumps(document).encode(), Identity(IDENTITY), at=NOW
    ).verified
    result = verifier.check(REVIEW, _edited(document, 0, edited), Identity(IDENTITY), at=NOW)
    assert not result.verified
    assert result.findings[0].code == "bundle.malformed"


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_logged_bundles_ca_re_encoded_outside_its_signed_part_is_malformed(edit: str) -> None:
    for _ in range(64):
        fixture = review_fixture(log_size=4)
        document = fixture.bundle.to_json()
        der = base64.b64decode(_chain(document)[1]["rawBytes"])
        if der[-1] % 2 == 0:
            break
    else:
        raise AssertionError("no issuing CA with an even last signature byte in 64 tries")
    verifier = Verifier(fixture.trust)
    result = verifier.check(
        fixture.content, _edited(document, 1, EDITS[edit](der)), fixture.policy, at=fixture.at
    )
    assert not result.verified
    assert result.findings[0].code == "bundle.malformed"


def test_the_canonical_rebuild_of_a_certificate_is_its_own_der() -> None:
    _, _, der = _author_bundle_with_even_last_byte(0)
    assert rebuilt(der, ECDSA_SHA256) == der
    assert load_certificate_der(der).public_bytes(Encoding.DER) == der


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_loading_a_re_encoded_certificate_names_the_outer_encoding(edit: str) -> None:
    _, _, der = _author_bundle_with_even_last_byte(0)
    with pytest.raises(ValueError, match="outside its signed part"):
        load_certificate_der(EDITS[edit](der))


def test_the_parser_refuses_a_re_encoded_leaf() -> None:
    _, document, der = _author_bundle_with_even_last_byte(0)
    with pytest.raises(BundleFormatError) as caught:
        Bundle.from_bytes(_edited(document, 0, _one_unused_bit(der)))
    assert caught.value.code == "bundle.malformed"


def test_a_high_s_twin_of_a_logged_leaf_is_an_entry_mismatch() -> None:
    fixture = review_fixture(log_size=4)
    document = fixture.bundle.to_json()
    twin = p256_twin(base64.b64decode(_chain(document)[0]["rawBytes"]))
    assert (
        load_certificate_der(twin).tbs_certificate_bytes
        == fixture.bundle.certificates[0].tbs_certificate_bytes
    )
    result = Verifier(fixture.trust).check(
        fixture.content, _edited(document, 0, twin), fixture.policy, at=fixture.at
    )
    assert [f.code for f in result.findings if not f.ok] == ["log.entry.mismatch"]
