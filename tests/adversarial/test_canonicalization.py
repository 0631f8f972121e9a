"""Canonicalization abuse: NFC/NFD, zero-width and bidi characters in content and identities,
and confusable identities. Identities are compared code point for code point and are refused at
issuance when they could hide or fake characters."""

from __future__ import annotations

import unicodedata

import pytest

from provenance.errors import AuthorityError
from provenance.identity.authority import issue_certificate
from provenance.identity.csr import create_csr, issue_from_csr
from provenance.keys import generate_key
from provenance.sign import Signer
from provenance.text import Canonicalization
from provenance.verify.policy import Identity, IdentityPattern
from tests.adversarial.attack import (
    AUTHORITY,
    CERT_TRUST,
    CERTIFIED,
    PINNED_KEY,
    SIGNED_AT,
    codes,
)
from tests.factories import IDENTITY, NOW, predicate

CAFE_NFC = "Caf\u00e9 cr\u00e8me, tr\u00e8s bien.\n"
CAFE_NFD = unicodedata.normalize("NFD", CAFE_NFC)


def _signed(content: bytes, profile: Canonicalization) -> bytes:
    bundle = Signer(PINNED_KEY).sign(content, "review.txt", predicate(profile=profile))
    return bundle.to_bytes()


def test_nfd_copy_of_nfc_text_verifies_under_text_v1_which_normalizes() -> None:
    assert CAFE_NFC != CAFE_NFD
    bundle = _signed(CAFE_NFC.encode(), Canonicalization.TEXT_V1)
    assert codes(bundle, content=CAFE_NFD.encode()) == []


def test_nfd_copy_of_nfc_text_is_a_digest_mismatch_under_none() -> None:
    bundle = _signed(CAFE_NFC.encode(), Canonicalization.NONE)
    assert codes(bundle, content=CAFE_NFD.encode()) == ["digest.mismatch"]


def test_nfc_copy_of_nfd_signed_exact_bytes_is_a_digest_mismatch() -> None:
    bundle = _signed(CAFE_NFD.encode(), Canonicalization.NONE)
    assert codes(bundle, content=CAFE_NFC.encode()) == ["digest.mismatch"]


INVISIBLE = {
    "zero-width-space": "\u200b",
    "zero-width-joiner": "\u200d",
    "zero-width-non-joiner": "\u200c",
    "word-joiner": "\u2060",
    "byte-order-mark": "\ufeff",
    "soft-hyphen": "\u00ad",
    "right-to-left-override": "\u202e",
    "left-to-right-isolate": "\u2066",
    "pop-directional-isolate": "\u2069",
    "right-to-left-mark": "\u200f",
}


@pytest.mark.parametrize("profile", list(Canonicalization), ids=str)
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_or_bidi_character_in_content_changes_the_digest(
    char: str, profile: Canonicalization
) -> None:
    text = "Five stars. Would buy again.\n"
    bundle = _signed(text.encode(), profile)
    tampered = text.replace("Five", f"Fi{char}ve").encode()
    assert codes(bundle, content=tampered) == ["digest.mismatch"]


def test_bidi_override_that_reorders_the_display_changes_the_digest() -> None:
    text = "Rating: 1/5\n"
    bundle = _signed(text.encode(), Canonicalization.TEXT_V1)
    looks_like_five = "Rating: \u202e5/1\u202c\n"
    assert codes(bundle, content=looks_like_five.encode()) == ["digest.mismatch"]


HOSTILE_IDENTITIES = {
    "zero-width-in-path": "https://reviews.example/u/88\u200b41",
    "zero-width-joiner-in-host": "https://reviews\u200d.example/u/8841",
    "bidi-override": "https://reviews.example/u/\u202e1488",
    "bidi-isolate": "https://reviews.example/u/\u20668841\u2069",
    "cyrillic-e-confusable": "https://reviews.\u0435xample/u/8841",
    "greek-omicron-confusable": "https://reviews.example/u/88\u03bf1",
    "fullwidth-digits": "https://reviews.example/u/\uff18\uff18\uff14\uff11",
    "nfd-accent": unicodedata.normalize("NFD", "https://reviews.example/u/jos\u00e9"),
    "uppercase-host": "https://Reviews.example/u/8841",
    "userinfo-trick": "https://reviews.example@evil.example/u/8841",
    "trailing-newline": "https://reviews.example/u/8841\n",
    "email-zero-width": "dana\u200b@reviews.example",
    "email-confusable": "d\u0430na@reviews.example",
}


@pytest.mark.parametrize("identity", HOSTILE_IDENTITIES.values(), ids=HOSTILE_IDENTITIES.keys())
def test_hostile_identity_cannot_be_issued(identity: str) -> None:
    key = generate_key()
    with pytest.raises(AuthorityError):
        issue_certificate(AUTHORITY, key.public_key, identity, now=SIGNED_AT)


@pytest.mark.parametrize("identity", HOSTILE_IDENTITIES.values(), ids=HOSTILE_IDENTITIES.keys())
def test_hostile_identity_cannot_be_asserted_for_a_csr(identity: str) -> None:
    key = generate_key()
    csr = create_csr(key, IDENTITY)
    with pytest.raises(AuthorityError):
        issue_from_csr(AUTHORITY, csr, identity, now=SIGNED_AT)


@pytest.mark.parametrize("identity", HOSTILE_IDENTITIES.values(), ids=HOSTILE_IDENTITIES.keys())
def test_hostile_identity_in_a_policy_never_matches_the_genuine_signer(identity: str) -> None:
    policy = Identity(identity)
    assert codes(CERTIFIED, CERT_TRUST, policy=policy) == ["policy.identity.mismatch"]


def test_policy_pattern_does_not_match_a_confusable_host() -> None:
    policy = IdentityPattern("https://reviews\\.\u0435xample/u/[0-9]+")
    assert codes(CERTIFIED, CERT_TRUST, policy=policy) == ["policy.identity.mismatch"]


def test_identity_match_is_not_case_folded() -> None:
    policy = Identity(IDENTITY.upper())
    assert codes(CERTIFIED, CERT_TRUST, policy=policy, at=NOW) == ["policy.identity.mismatch"]
