"""bundle-v1.md §6.0 step 2 states §2's strict-JSON rules, as the library applies them (attacker
review of the strict parsing, 2026-12-03, finding 4: it said "integers of at most 4,300 digits"
and left out lone surrogates, so an implementation following it gave another code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provenance.bundle import Bundle
from provenance.codes import Code
from provenance.errors import BundleFormatError

SPEC = Path(__file__).resolve().parents[2] / "specs" / "bundle-v1.md"


def _step_2() -> str:
    text = SPEC.read_text(encoding="utf-8")
    match = re.search(r"^2\. strict JSON(.*?)^3\. ", text, re.S | re.M)
    assert match is not None
    return " ".join(match.group(1).split())


def test_step_2_of_the_parse_order_states_the_integer_rule_of_section_2() -> None:
    step = _step_2()
    assert "4,300" not in step
    assert "integers of at most 40 digits within +-(2^53-1)" in step


def test_step_2_of_the_parse_order_states_the_lone_surrogate_rule_of_section_2() -> None:
    assert "no string or key holding a lone surrogate" in _step_2()


@pytest.mark.parametrize(
    "extra",
    [b'"n":9007199254740992', b'"n":-9007199254740992', b'"s":"\\ud800"'],
    ids=["2^53", "-2^53", "lone surrogate"],
)
def test_step_2_comes_before_the_media_type_as_the_spec_says(extra: bytes) -> None:
    data = (
        b'{"mediaType":"application/vnd.example.other+json","dsseEnvelope":{},'
        b'"verificationMaterial":{},' + extra + b"}"
    )
    with pytest.raises(BundleFormatError) as raised:
        Bundle.from_bytes(data)
    assert raised.value.code == Code.BUNDLE_MALFORMED
