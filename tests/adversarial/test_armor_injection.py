"""Armor injection: text smuggled around, after or inside a clear-signed block never verifies."""

from __future__ import annotations

import pytest

from provenance.armor import ArmoredVerification, armor_text, check_armored
from provenance.sign import Signer
from provenance.text import Canonicalization
from provenance.verify.policy import AllOf
from provenance.verify.verifier import Verifier
from tests.adversarial.attack import PINNED_KEY, PINNED_TRUST
from tests.factories import NOW, predicate

GENUINE_TEXT = "The desk lamp is sturdy and bright.\nFive stars.\n"
OTHER_TEXT = "Shipping was fast.\n"


def _armored(text: str) -> str:
    bundle = Signer(PINNED_KEY).sign(
        text.encode(), "review.txt", predicate(profile=Canonicalization.TEXT_V1)
    )
    return armor_text(text, bundle)


GENUINE = _armored(GENUINE_TEXT)


def _check(document: str) -> ArmoredVerification:
    return check_armored(Verifier(PINNED_TRUST), document, AllOf([]), at=NOW)


def _codes(verification: ArmoredVerification) -> list[str]:
    block_codes = [f.code for b in verification.blocks for f in b.result.failures]
    return block_codes + [f.code for f in verification.findings]


def test_genuine_armored_review_verifies() -> None:
    assert _check(GENUINE).verified


@pytest.mark.parametrize(
    "document",
    [
        GENUINE + "P.S. The seller paid me for this review.\n",
        "Sponsored content follows.\n" + GENUINE,
        GENUINE + "\u200b\n",
    ],
    ids=["text-after", "text-before", "zero-width-after"],
)
def test_text_outside_the_block_is_reported_unsigned_and_never_verified(document: str) -> None:
    verification = _check(document)
    assert not verification.verified
    assert _codes(verification) == ["armor.partly_signed"]


def test_second_armor_block_inside_the_signed_text_is_injection() -> None:
    lines = GENUINE.split("\n")
    body_start = lines.index("") + 1
    injected = "\n".join(
        [*lines[:body_start], *_armored(OTHER_TEXT).split("\n")[:-1], *lines[body_start:]]
    )
    verification = _check(injected)
    assert not verification.verified
    assert _codes(verification) == ["armor.injection"]


def test_text_after_the_end_line_on_the_same_line_is_refused() -> None:
    tampered = GENUINE.replace(
        "-----END PROVENANCE BUNDLE-----", "-----END PROVENANCE BUNDLE----- (edited)"
    )
    verification = _check(tampered)
    assert not verification.verified
    assert _codes(verification) == ["armor.malformed"]


def test_swapping_the_bundle_of_another_armored_text_is_a_digest_mismatch() -> None:
    other = _armored(OTHER_TEXT)
    begin = "-----BEGIN PROVENANCE BUNDLE-----"
    swapped = GENUINE.split(begin)[0] + begin + other.split(begin)[1]
    verification = _check(swapped)
    assert not verification.verified
    assert _codes(verification) == ["digest.mismatch"]
