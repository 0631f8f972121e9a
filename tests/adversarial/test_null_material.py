"""``null`` where bundle-v1 §6 allows a field to be absent (found by the seventh attack).

``verificationMaterial`` holds exactly one of ``x509CertificateChain`` and ``publicKey``; the
general reader read a present ``x509CertificateChain: null`` as absent, so a pinned-key bundle
carrying both verified: a second encoding of a signed bundle that anyone can make.
"""

from __future__ import annotations

import json

import pytest

from provenance.bundle import Bundle
from provenance.errors import BundleFormatError
from provenance.keys import KeyType, generate_key
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.factories import NOW, REVIEW, pinned_trust, sign


def _with_null_chain() -> tuple[Verifier, bytes]:
    key = generate_key(KeyType.P256)
    document = sign(key).to_json()
    document["verificationMaterial"]["x509CertificateChain"] = None
    return Verifier(pinned_trust(key)), json.dumps(document).encode("utf-8")


def test_a_null_certificate_chain_next_to_a_key_hint_is_malformed() -> None:
    verifier, data = _with_null_chain()
    result = verifier.check(REVIEW, data, Identity("alice"), at=NOW)
    assert not result.verified
    assert result.findings[0].code == "bundle.malformed"


def test_the_parser_names_the_null_certificate_chain() -> None:
    _, data = _with_null_chain()
    with pytest.raises(BundleFormatError, match="x509CertificateChain") as caught:
        Bundle.from_bytes(data)
    assert caught.value.code == "bundle.malformed"
