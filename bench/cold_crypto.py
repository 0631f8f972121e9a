"""The crypto a cold verify cannot skip, against our cold verify, alternating round by round.

`python -m bench.cold_crypto`: for review bundles never seen before (a new leaf and a new
checkpoint each), the path validation of the leaf by ``x509.verification`` (store and verifier
built once, as the library keeps them), an Ed25519 verify of a checkpoint note and the DSSE P-256
verify with the leaf's key, with nothing else; then ``Verifier.check`` of other such bundles.
Divided into sigstore-python's time, the first gives the ratio to sigstore reachable with no
check at all (issue 14's target is 3x).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import nacl.signing
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from bench.fixtures import ReviewFixture, review_fixture, sign_review
from provenance.bundle import Bundle
from provenance.identity import chain as chain_module
from provenance.verify.verifier import Verifier

COUNT = 150
ROUNDS = 6


def crypto_inputs(
    fixture: ReviewFixture, first: int, key: Any, count: int = COUNT
) -> list[tuple[Any, ...]]:
    """For ``count`` new review bundles: the leaf's DER, its untrusted CAs, the DSSE signature and
    PAE, and a checkpoint note signed by ``key`` (a PyNaCl signing key)."""
    inputs = []
    for author in range(first, first + count):
        bundle = Bundle.from_bytes(sign_review(fixture, author=author)[1])
        leaf, *rest = bundle.certificates
        untrusted = [c for c in [*rest, *fixture.trust.intermediates] if c.issuer != c.subject]
        note = key.sign(bundle.tlog_entries[0].inclusion_proof.checkpoint.encode())
        sig = bundle.envelope.signatures[0].sig
        inputs.append((leaf.public_bytes(Encoding.DER), untrusted, sig, bundle.envelope.pae, note))
    return inputs


def crypto_seconds(fixture: ReviewFixture, inputs: list[tuple[Any, ...]], key: Any) -> float:
    """Seconds per bundle of only the crypto a verify of ``inputs`` cannot skip."""
    verifier = chain_module._verifier(
        fixture.trust.roots, fixture.at, chain_module.DOCUMENT_PROFILE
    )
    started = time.perf_counter()
    for leaf_der, untrusted, sig, pae, note in inputs:
        leaf = x509.load_der_x509_certificate(leaf_der)
        verifier.verify(leaf, untrusted)
        key.verify_key.verify(note)
        public = leaf.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(sig, pae, ec.ECDSA(hashes.SHA256()))
    return (time.perf_counter() - started) / len(inputs)


def _ours_seconds(fixture: ReviewFixture, first: int) -> float:
    bundles = [sign_review(fixture, author=a) for a in range(first, first + COUNT)]
    verifier = Verifier(fixture.trust)
    started = time.perf_counter()
    for content, raw in bundles:
        if not verifier.check(content, raw, fixture.policy, at=fixture.at).verified:
            raise RuntimeError("a fresh review bundle did not verify")
    return (time.perf_counter() - started) / len(bundles)


def main() -> None:
    fixture, key = review_fixture(), nacl.signing.SigningKey.generate()
    crypto, ours = [], []
    for number in range(ROUNDS):
        first = 100_000 + 2 * number * COUNT
        crypto.append(crypto_seconds(fixture, crypto_inputs(fixture, first, key), key))
        ours.append(_ours_seconds(fixture, first + COUNT))
    print(
        f"cold verify: unavoidable crypto {statistics.median(crypto) * 1e6:.0f} us, "
        f"ours {statistics.median(ours) * 1e6:.0f} us (medians of {ROUNDS} rounds of {COUNT})"
    )


if __name__ == "__main__":
    main()
