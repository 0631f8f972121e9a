"""Atheris target: clear-signed (armored) text documents.

``check_armored`` must never raise, and a fuzzed document may only verify when each of its blocks
carries a known-good bundle (up to :func:`fuzz.oracle.signed_part`) over text whose text-v1
canonical form is the signed review's. See fuzz/README.md for the command.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import atheris

with atheris.instrument_imports():
    from fuzz.oracle import is_documented_no_op
    from provenance.armor import armor_text, check_armored
    from provenance.identity.trust import TrustRoot
    from provenance.keys import Ed25519SigningKey
    from provenance.sign import Signer
    from provenance.statement import ContentPredicate
    from provenance.text import Canonicalization, canonicalize
    from provenance.verify.policy import AllOf
    from provenance.verify.verifier import Verifier

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REVIEW = "The desk lamp is sturdy and bright.\n- Five stars.\n"
KEY = Ed25519SigningKey(bytes(range(32)))
PREDICATE = ContentPredicate("text/plain", Canonicalization.TEXT_V1, AT)
BUNDLE = Signer(KEY).sign(REVIEW.encode(), "review.txt", PREDICATE)
VERIFIER = Verifier(TrustRoot(name="fuzz", pinned_keys=(("fuzz", KEY.public_key),)))
SIGNED_TEXT = canonicalize(REVIEW.encode(), Canonicalization.TEXT_V1)
SEED = armor_text(REVIEW, BUNDLE)


def test_one_input(data: bytes) -> None:
    """Verify ``data`` as an armored document; only the genuine text and bundle may verify."""
    verification = check_armored(VERIFIER, data, AllOf([]), at=AT)
    for block in verification.blocks:
        if not block.result.verified:
            continue
        text = canonicalize(block.block.text.encode("utf-8"), Canonicalization.TEXT_V1)
        if text != SIGNED_TEXT or not is_documented_no_op(
            block.block.bundle_bytes, [BUNDLE.to_bytes()]
        ):
            raise AssertionError(f"a fuzzed block verified: {data!r}")


def main() -> None:
    """Run libFuzzer over :func:`test_one_input`."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
