"""``Verifier.check`` gives a verdict for any bundle input, never an exception: bytes-like input is
read as bytes, anything else is a malformed bundle (found by the fourth attack, 2026-12-03: a
``bytearray`` raised ``AttributeError``)."""

from __future__ import annotations

import pytest

from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.factories import NOW, REVIEW, authority_trust, certified_author, make_authority, sign


def _signed() -> tuple[Verifier, bytes]:
    authority = make_authority()
    author = certified_author(authority)
    return Verifier(authority_trust(authority)), sign(author.key, REVIEW, author.chain).to_bytes()


@pytest.mark.parametrize("kind", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_bytes_like_bundle_verifies_as_its_bytes(kind: type) -> None:
    verifier, bundle = _signed()
    result = verifier.check(REVIEW, kind(bundle), UnsafeAcceptAnyIdentity(), at=NOW)
    assert result.verified


@pytest.mark.parametrize("value", ["{}", None, 12], ids=["str", "none", "int"])
def test_bundle_of_another_type_is_malformed(value: object) -> None:
    verifier, _ = _signed()
    result = verifier.check(REVIEW, value, UnsafeAcceptAnyIdentity(), at=NOW)  # type: ignore[arg-type]
    assert [f.code for f in result.findings if not f.ok] == ["bundle.malformed"]


def test_released_memoryview_bundle_is_malformed() -> None:
    verifier, bundle = _signed()
    view = memoryview(bundle)
    view.release()
    result = verifier.check(REVIEW, view, UnsafeAcceptAnyIdentity(), at=NOW)  # type: ignore[arg-type]
    assert [f.code for f in result.findings if not f.ok] == ["bundle.malformed"]
