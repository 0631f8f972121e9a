"""Issue 19.9: which chain failure is certificate.untrusted, .expired/.not_yet_valid or .profile
must not depend on a library's error messages. identity-v1 §4 defines it by *signature paths*
(issuer name and signature only): none → untrusted; one with every certificate valid at t →
profile; otherwise the first certificate outside its validity on the first path → a time code.
These tests give the path validator's failure a message that names nothing; the codes must not
change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import VerificationError

from provenance.errors import CertificateError
from provenance.identity import TrustRoot, validate_chain
from provenance.identity import chain as chain_module
from tests.unit.identity.factory import NOW, CertSpec, hand_made_chain


class _Mute:
    """A path validator that fails every chain with a message naming no reason."""

    def verify(self, leaf: x509.Certificate, untrusted: list[x509.Certificate]) -> Any:
        raise VerificationError("validation failed")


@pytest.fixture
def mute_validator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(chain_module, "_verifier", lambda *args, **kwargs: _Mute())
    yield


def _code(chain: list[x509.Certificate], trust: TrustRoot) -> str:
    with pytest.raises(CertificateError) as caught:
        validate_chain(chain, trust, NOW)
    return caught.value.code


@pytest.mark.usefixtures("mute_validator")
def test_profile_failure_is_profile_whatever_the_validator_says() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(CertSpec(eku=[ExtendedKeyUsageOID.SERVER_AUTH]))
    assert _code([leaf, hand.issuing], TrustRoot(name="t", roots=(hand.root,))) == (
        "certificate.profile"
    )


@pytest.mark.usefixtures("mute_validator")
def test_foreign_chain_is_untrusted_whatever_the_validator_says() -> None:
    hand, other = hand_made_chain(), hand_made_chain()
    leaf = hand.leaf()
    assert _code([leaf, hand.issuing], TrustRoot(name="t", roots=(other.root,))) == (
        "certificate.untrusted"
    )


@pytest.mark.usefixtures("mute_validator")
def test_expired_leaf_is_expired_whatever_the_validator_says() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(
        CertSpec(not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1))
    )
    assert _code([leaf, hand.issuing], TrustRoot(name="t", roots=(hand.root,))) == (
        "certificate.expired"
    )


def test_expired_leaf_that_also_breaks_the_profile_is_expired() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(
        CertSpec(
            eku=[ExtendedKeyUsageOID.SERVER_AUTH],
            not_before=NOW - timedelta(days=30),
            not_after=NOW - timedelta(days=1),
        )
    )
    assert _code([leaf, hand.issuing], TrustRoot(name="t", roots=(hand.root,))) == (
        "certificate.expired"
    )
