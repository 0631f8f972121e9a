"""Armor parsing never crashes on any document, and only the signed text ever verifies."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.armor import (
    ARMOR_BEGIN,
    BUNDLE_BEGIN,
    BUNDLE_END,
    ArmorError,
    ArmorVerdict,
    armor_text,
    check_armored,
    find_signed_blocks,
)
from provenance.keys import generate_key
from provenance.text import WHITE_SPACE, Canonicalization, canonicalize
from provenance.verify.policy import AllOf
from provenance.verify.verifier import Verifier
from tests.factories import NOW, pinned_trust, sign

KEY = generate_key()
VERIFIER = Verifier(pinned_trust(KEY))
ANY = AllOf([])
TEXT = "The desk lamp is sturdy and bright.\n- Dana\n"
GOOD = armor_text(TEXT, sign(KEY, TEXT.encode()))
GOOD_LINES = GOOD.split("\n")
SIGNED_CANONICAL = canonicalize(TEXT.encode(), Canonicalization.TEXT_V1)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOCUMENTED = (
    "armor.malformed",
    "armor.header",
    "armor.injection",
    "armor.too_large",
)

armor_like_lines = st.sampled_from(
    [*GOOD_LINES, ARMOR_BEGIN, BUNDLE_BEGIN, BUNDLE_END, "", "- -", "-", "Profile: text-v1", "x"]
) | st.text(max_size=80)
line_breaks = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Documents made of armor-like lines, random text and random line breaks."""
    lines = draw(st.lists(armor_like_lines, max_size=40))
    return "".join(line + draw(line_breaks) for line in lines)


def _assert_only_the_signed_text_verifies(document: str) -> None:
    outcome = check_armored(VERIFIER, document, ANY, at=NOW)
    if outcome.error is not None:
        assert outcome.error.code in DOCUMENTED
        assert outcome.blocks == () and outcome.verdict is ArmorVerdict.NOT_VERIFIED
    for item in outcome.blocks:
        if item.result.verified:
            text = canonicalize(item.block.text.encode(), Canonicalization.TEXT_V1)
            assert text == SIGNED_CANONICAL
    if outcome.verified:
        assert outcome.unsigned_segments == ()


@SETTINGS
@given(st.text(max_size=2000))
def test_random_text_never_crashes_and_never_verifies(document: str) -> None:
    try:
        parsed = find_signed_blocks(document)
    except ArmorError as exc:
        assert exc.code in DOCUMENTED
        return
    assert not check_armored(VERIFIER, document, ANY, at=NOW).verified
    assert all(segment.text.strip(WHITE_SPACE) for segment in parsed.unsigned_segments)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_and_never_verify(document: bytes) -> None:
    outcome = check_armored(VERIFIER, document, ANY, at=NOW)
    assert not outcome.verified


@SETTINGS
@given(documents())
def test_armor_like_documents_verify_only_the_signed_text(document: str) -> None:
    _assert_only_the_signed_text_verifies(document)


@SETTINGS
@given(st.integers(min_value=0, max_value=len(GOOD_LINES)), armor_like_lines)
def test_an_inserted_line_never_verifies_other_text(position: int, line: str) -> None:
    lines = [*GOOD_LINES]
    lines.insert(position, line)
    _assert_only_the_signed_text_verifies("\n".join(lines))


@SETTINGS
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.characters())
def test_a_replaced_character_never_verifies_other_text(position: int, char: str) -> None:
    _assert_only_the_signed_text_verifies(GOOD[:position] + char + GOOD[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_round_trips_through_armor(text: str) -> None:
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return
    document = armor_text(text, sign(KEY, encoded))
    (block,) = find_signed_blocks(document).blocks
    assert canonicalize(block.text.encode(), Canonicalization.TEXT_V1) == canonicalize(
        encoded, Canonicalization.TEXT_V1
    )
    assert check_armored(VERIFIER, document.replace("\n", "\r\n"), ANY, at=NOW).verified
