"""A bundle repeating its log entry (found by the seventh attack).

Every copy proves the same leaf, so the bundle verified and the result reported four log proofs
("logged ... in 4 log(s)") for one entry in one log: a second valid form of the bundle and a
fact no step proved. bundle-v1 §6: at most one entry per log.
"""

from __future__ import annotations

import json

import pytest

from bench.fixtures import ReviewFixture, review_fixture
from provenance.bundle import Bundle
from provenance.errors import BundleFormatError
from provenance.verify.verifier import Verifier


def _repeated(times: int) -> tuple[ReviewFixture, bytes]:
    fixture = review_fixture(log_size=8)
    document = fixture.bundle.to_json()
    material = document["verificationMaterial"]
    material["tlogEntries"] = material["tlogEntries"] * times
    return fixture, json.dumps(document).encode("utf-8")


@pytest.mark.parametrize("times", [2, 4])
def test_a_bundle_repeating_its_log_entry_is_malformed(times: int) -> None:
    fixture, data = _repeated(times)
    result = Verifier(fixture.trust).check(
        fixture.content,
        data,
        fixture.policy,
        at=fixture.at,
    )
    assert not result.verified
    assert result.findings[0].code == "bundle.malformed"


def test_the_parser_names_the_repeated_log() -> None:
    _, data = _repeated(2)
    with pytest.raises(BundleFormatError, match="twice") as caught:
        Bundle.from_bytes(data)
    assert caught.value.code == "bundle.malformed"
