"""The DER a certificate is keyed by: the bytes it was parsed from, which are the bytes
``public_bytes`` writes back, so a parsed bundle certificate's DER is not written again."""

from __future__ import annotations

import random
import warnings

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import Bundle
from provenance.identity import profile
from provenance.identity.profile import certificate_der, remember_der
from provenance.keys import signing_key_from_cryptography
from tests.factories import REVIEW, sign
from tests.unit.identity.factory import CertSpec, hand_made_chain, make_certificate, p256_key

MUTATIONS = 4000


def _mutated(der: bytes, rng: random.Random) -> bytes:
    data = bytearray(der)
    for _ in range(rng.choice((1, 1, 2, 3))):
        position = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.6:
            data[position] = rng.randrange(256)
        elif roll < 0.8:
            data[position] ^= 1 << rng.randrange(8)
        else:
            data.insert(position, rng.randrange(256))
    return bytes(data)


def test_every_certificate_that_parses_writes_back_the_bytes_it_was_read_from() -> None:
    # remember_der relies on it: a bundle certificate is keyed by its bytes as given.
    chain = hand_made_chain()
    seeds = [cert.public_bytes(Encoding.DER) for cert in (chain.root, chain.issuing, chain.leaf())]
    rng = random.Random(14)
    parsed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative serial numbers parse with a deprecation warning
        for _ in range(MUTATIONS):
            der = _mutated(rng.choice(seeds), rng)
            try:
                certificate = x509.load_der_x509_certificate(der)
            except (ValueError, x509.InvalidVersion):
                continue
            parsed += 1
            assert certificate.public_bytes(Encoding.DER) == der
    assert parsed > MUTATIONS // 10


def test_a_remembered_der_is_the_certificates_der() -> None:
    der = hand_made_chain().leaf().public_bytes(Encoding.DER)
    certificate = x509.load_der_x509_certificate(der)
    remember_der(certificate, der)
    assert certificate_der(certificate) is der


def test_bundle_certificates_are_keyed_by_the_bytes_they_were_parsed_from() -> None:
    chain = hand_made_chain()
    leaf_key = p256_key()
    leaf = make_certificate(CertSpec(), leaf_key, chain.issuing, chain.issuing_key)
    bundle = Bundle.from_bytes(
        sign(signing_key_from_cryptography(leaf_key), REVIEW, [leaf, chain.issuing]).to_bytes()
    )
    for parsed, original in zip(bundle.certificates, (leaf, chain.issuing), strict=True):
        kept = profile._DER_MEMO._items.get(id(parsed))
        assert kept is not None and kept[0] is parsed  # noted by the parser, not written again
        assert certificate_der(parsed) == original.public_bytes(Encoding.DER)
